// BertTokenizer and Vocab against Hugging Face's BertTokenizer(do_lower_case=True).
// Expected ids for bert-base-uncased were checked against vocab.txt (id = line - 1).

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <string>
#include <vector>

#include "testdata.h"
#include "text/tokenizer.h"
#include "text/vocab.h"
#include "util/error.h"

namespace {

QByteArray joined(const std::vector<std::string> &tokens)
{
    QByteArrayList parts;
    for (const std::string &t : tokens)
        parts << QByteArray::fromStdString(t);
    return parts.join(' ');
}

QByteArray joined(const std::vector<int64_t> &ids)
{
    QByteArrayList parts;
    for (const int64_t id : ids)
        parts << QByteArray::number(static_cast<qlonglong>(id));
    return parts.join(' ');
}

std::string stdString(const QByteArray &bytes)
{
    return bytes.toStdString();
}

// Ids 0-4 are the specials; the rest cover the cases below.
tl::Vocab smallVocab()
{
    return tl::Vocab({"[PAD]", "[UNK]",  "[CLS]",  "[SEP]",    "[MASK]", "hello", "world", ",",      "!",
                      "un",    "##aff",  "##able", "the",      "sat",    ".",     "don",   "'",      "t",
                      "creme", "brulee", "naive",  "cafe",     "我",     "爱",    "北",    "京",     "[",
                      "]",     "mask",   "hi",     "istanbul", "οδοσ",   "—",     "$",     "5",      "a",
                      "##a",   "ж",      "##ж",    "ab",       "cd",     "Hello", "Crème", "strasse"});
}

QString sharedVocabPath(const QString &dir)
{
    return dir + QStringLiteral("/vocab/bert-base-uncased/vocab.txt");
}

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QCOMPARE(f.write(bytes), bytes.size());
}

} // namespace

class TestTokenizer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void tokenizeSmall_data();
    void tokenizeSmall();
    void tokenizeCased_data();
    void tokenizeCased();
    void unknownMapsToUnkId();
    void truncation_data();
    void truncation();
    void encodeTokenTypes();
    void assembleNeedsClsAndSep();

    void vocabConstructorMissingSpecials();
    void vocabSaveLoadRoundTrip();
    void vocabLoadStripsLineEnds();
    void vocabLoadErrors_data();
    void vocabLoadErrors();

    void realVocabSpecialIds();
    void realTokenize_data();
    void realTokenize();
    void realEncode();
    void realEncodePairTruncated();
};

void TestTokenizer::tokenizeSmall_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("punctuation") << QByteArray("Hello, World!") << QByteArray("hello , world !");
    QTest::newRow("wordpiece") << QByteArray("unaffable") << QByteArray("un ##aff ##able");
    QTest::newRow("accents") << QByteArray("Héllo Crème brûlée") << QByteArray("hello creme brulee");
    QTest::newRow("diaeresis") << QByteArray("naïve café") << QByteArray("naive cafe");
    QTest::newRow("combining accent") << QByteArray("cafe\xcc\x81") << QByteArray("cafe");
    QTest::newRow("cjk") << QByteArray("我爱北京") << QByteArray("我 爱 北 京");
    QTest::newRow("cjk inside latin") << QByteArray("ab我cd") << QByteArray("ab 我 cd");
    QTest::newRow("apostrophe") << QByteArray("don't") << QByteArray("don ' t");
    QTest::newRow("ascii symbols") << QByteArray("$5") << QByteArray("$ 5");
    QTest::newRow("unicode dash") << QByteArray("hello—world") << QByteArray("hello — world");
    QTest::newRow("special spaced") << QByteArray("the [MASK] sat.") << QByteArray("the [MASK] sat .");
    QTest::newRow("special glued") << QByteArray("hello[MASK].") << QByteArray("hello [MASK] .");
    QTest::newRow("specials kept upper") << QByteArray("[CLS] Hi [SEP]") << QByteArray("[CLS] hi [SEP]");
    // Only the exact upper-case spelling is special; the rest is ordinary punctuation.
    QTest::newRow("lower-case special") << QByteArray("the [mask]") << QByteArray("the [ mask ]");
    QTest::newRow("tab newline cr") << QByteArray("\thello\nworld\r\n") << QByteArray("hello world");
    QTest::newRow("control char") << QByteArray("hel\x01lo") << QByteArray("hello");
    QTest::newRow("nul") << QByteArray("hel\0lo", 6) << QByteArray("hello");
    QTest::newRow("zero width space") << QByteArray("hel\xe2\x80\x8blo") << QByteArray("hello");
    QTest::newRow("replacement char") << QByteArray("hel\xef\xbf\xbdlo") << QByteArray("hello");
    QTest::newRow("nbsp") << QByteArray("hello\xc2\xa0world") << QByteArray("hello world");
    // U+2028 survives _clean_text but Python's str.split() still splits on it.
    QTest::newRow("line separator") << QByteArray("hello\xe2\x80\xa8world") << QByteArray("hello world");
    QTest::newRow("invalid utf-8") << QByteArray("hel\xfflo") << QByteArray("hello");
    QTest::newRow("truncated utf-8") << QByteArray("hello\xe6\x88") << QByteArray("hello");
    // HF lower-cases one character at a time, so a final capital sigma becomes σ, not ς.
    QTest::newRow("final sigma") << QByteArray("ΟΔΟΣ") << QByteArray("οδοσ");
    // İ lower-cases to i + U+0307 (full mapping); the dot is an accent and goes.
    QTest::newRow("dotted capital I") << QByteArray("İstanbul") << QByteArray("istanbul");
    QTest::newRow("sharp s untouched") << QByteArray("STRASSE") << QByteArray("strasse");
    QTest::newRow("unknown word") << QByteArray("hello zebra") << QByteArray("hello [UNK]");
    QTest::newRow("one bad position") << QByteArray("unaffablex") << QByteArray("[UNK]");
    QTest::newRow("empty") << QByteArray() << QByteArray();
    QTest::newRow("only spaces") << QByteArray(" \t\n ") << QByteArray();

    QByteArray hundredA(100, 'a');
    QByteArray expectedA("a");
    for (int i = 1; i < 100; ++i)
        expectedA += " ##a";
    QTest::newRow("100 chars") << hundredA << expectedA;
    QTest::newRow("101 chars") << QByteArray(101, 'a') << QByteArray("[UNK]");
    // The limit counts code points: 100 two-byte letters are still one word.
    QByteArray hundredZhe;
    QByteArray expectedZhe("ж");
    for (int i = 0; i < 100; ++i)
        hundredZhe += "ж";
    for (int i = 1; i < 100; ++i)
        expectedZhe += " ##ж";
    QTest::newRow("100 two-byte chars") << hundredZhe << expectedZhe;
    QTest::newRow("101 two-byte chars") << hundredZhe + "ж" << QByteArray("[UNK]");
}

void TestTokenizer::tokenizeSmall()
{
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, expected);
    const tl::BertTokenizer tok(smallVocab());
    QCOMPARE(joined(tok.tokenize(stdString(text))), expected);
}

void TestTokenizer::tokenizeCased_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("case kept") << QByteArray("Hello") << QByteArray("Hello");
    // Without lower-casing accents stay, but NFC still unifies the decomposed spelling.
    QTest::newRow("accent kept") << QByteArray("Crème") << QByteArray("Crème");
    QTest::newRow("decomposed composed") << QByteArray("Cre\xcc\x80me") << QByteArray("Crème");
    QTest::newRow("lower form unknown") << QByteArray("hello HELLO") << QByteArray("hello [UNK]");
}

void TestTokenizer::tokenizeCased()
{
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, expected);
    const tl::BertTokenizer tok(smallVocab(), false);
    QCOMPARE(joined(tok.tokenize(stdString(text))), expected);
}

void TestTokenizer::unknownMapsToUnkId()
{
    const tl::BertTokenizer tok(smallVocab());
    QCOMPARE(joined(tok.tokenizeToIds("hello zebra [MASK]")), QByteArray("5 1 4"));
}

void TestTokenizer::truncation_data()
{
    // Sequence a holds ids 1000.., b ids 2000..; bLen -1 means a single sequence.
    QTest::addColumn<int>("aLen");
    QTest::addColumn<int>("bLen");
    QTest::addColumn<int>("maxLen");
    QTest::addColumn<int>("keepA");
    QTest::addColumn<int>("keepB");

    QTest::newRow("single fits") << 6 << -1 << 8 << 6 << -1;
    QTest::newRow("single cut") << 10 << -1 << 8 << 6 << -1;
    QTest::newRow("single no limit") << 10 << -1 << 0 << 10 << -1;
    // HF logs an error and keeps everything when even an empty a would not fit.
    QTest::newRow("single below specials") << 3 << -1 << 2 << 3 << -1;
    QTest::newRow("pair fits") << 4 << 4 << 20 << 4 << 4;
    // 16 -> 8: a loses 7 to reach b's 3, then the tie costs b one.
    QTest::newRow("pair a longer") << 10 << 3 << 8 << 3 << 2;
    QTest::newRow("pair b longer") << 3 << 10 << 8 << 3 << 2;
    // 13 -> 10: b, a, b.
    QTest::newRow("pair equal") << 5 << 5 << 10 << 4 << 3;
    QTest::newRow("pair one over") << 5 << 5 << 12 << 5 << 4;
    QTest::newRow("pair odd rest") << 7 << 4 << 10 << 4 << 3;
    QTest::newRow("pair no limit") << 30 << 20 << -1 << 30 << 20;
    QTest::newRow("pair to nothing") << 10 << 3 << 3 << 0 << 0;
    QTest::newRow("pair empty") << 0 << 0 << 8 << 0 << 0;
}

void TestTokenizer::truncation()
{
    QFETCH(int, aLen);
    QFETCH(int, bLen);
    QFETCH(int, maxLen);
    QFETCH(int, keepA);
    QFETCH(int, keepB);

    const tl::BertTokenizer tok(smallVocab());
    std::vector<int64_t> a, b;
    for (int i = 0; i < aLen; ++i)
        a.push_back(1000 + i);
    for (int i = 0; i < bLen; ++i)
        b.push_back(2000 + i);

    std::vector<int64_t> ids{2};
    std::vector<int64_t> types{0};
    for (int i = 0; i < keepA; ++i) {
        ids.push_back(1000 + i);
        types.push_back(0);
    }
    ids.push_back(3);
    types.push_back(0);
    for (int i = 0; i < keepB; ++i) {
        ids.push_back(2000 + i);
        types.push_back(1);
    }
    if (bLen >= 0) {
        ids.push_back(3);
        types.push_back(1);
    }

    const tl::Encoding enc = tok.assemble(a, bLen >= 0 ? &b : nullptr, maxLen);
    QCOMPARE(joined(enc.inputIds), joined(ids));
    QCOMPARE(joined(enc.tokenTypeIds), joined(types));
}

void TestTokenizer::encodeTokenTypes()
{
    const tl::BertTokenizer tok(smallVocab());
    tl::Encoding single = tok.encode("Hello world", 0);
    QCOMPARE(joined(single.inputIds), QByteArray("2 5 6 3"));
    QCOMPARE(joined(single.tokenTypeIds), QByteArray("0 0 0 0"));

    tl::Encoding pair = tok.encodePair("hello", "the world!", 0);
    QCOMPARE(joined(pair.inputIds), QByteArray("2 5 3 12 6 8 3"));
    QCOMPARE(joined(pair.tokenTypeIds), QByteArray("0 0 0 1 1 1 1"));

    tl::Encoding empty = tok.encode("", 16);
    QCOMPARE(joined(empty.inputIds), QByteArray("2 3"));
    QCOMPARE(joined(empty.tokenTypeIds), QByteArray("0 0"));
}

void TestTokenizer::assembleNeedsClsAndSep()
{
    const tl::BertTokenizer tok(tl::Vocab({"[UNK]", "hello"}));
    QCOMPARE(joined(tok.tokenizeToIds("hello there")), QByteArray("1 0"));
    QVERIFY_THROWS_EXCEPTION(tl::Error, tok.encode("hello", 8));
}

void TestTokenizer::vocabConstructorMissingSpecials()
{
    const tl::Vocab v({"hello", "[UNK]", "world", "hello"});
    QCOMPARE(v.size(), 4);
    QCOMPARE(v.unkId(), 1);
    QCOMPARE(v.padId(), -1);
    QCOMPARE(v.clsId(), -1);
    QCOMPARE(v.sepId(), -1);
    QCOMPARE(v.maskId(), -1);
    QCOMPARE(v.id("world"), 2);
    QCOMPARE(v.id("hello"), 3); // the last line wins, as in HF's load_vocab
    QCOMPARE(v.id("absent"), -1);
    QVERIFY(!v.contains("absent"));
    QCOMPARE(v.token(2), std::string("world"));
}

void TestTokenizer::vocabSaveLoadRoundTrip()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string path = tltest::str(tmp.filePath(QStringLiteral("vocab.txt")));
    const tl::Vocab original = smallVocab();
    original.save(path);
    const tl::Vocab loaded = tl::Vocab::load(path);
    QVERIFY(loaded.tokens() == original.tokens());
    QCOMPARE(loaded.maskId(), 4);
    QCOMPARE(loaded.id("Crème"), original.id("Crème"));
}

void TestTokenizer::vocabLoadStripsLineEnds()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString path = tmp.filePath(QStringLiteral("vocab.txt"));
    writeFile(path, QByteArray("[PAD]\r\n[UNK]\r\n[CLS]\n[SEP]\n[MASK]\n\nlast"));
    const tl::Vocab v = tl::Vocab::load(tltest::str(path));
    QCOMPARE(v.size(), 7);
    QCOMPARE(v.padId(), 0);
    QCOMPARE(v.unkId(), 1);
    QCOMPARE(v.token(5), std::string()); // an empty line is a token, as in HF
    QCOMPARE(v.id("last"), 6);
}

void TestTokenizer::vocabLoadErrors_data()
{
    QTest::addColumn<QByteArray>("content"); // empty with writeIt false: no file
    QTest::addColumn<bool>("writeIt");
    QTest::newRow("missing file") << QByteArray() << false;
    QTest::newRow("empty file") << QByteArray() << true;
    QTest::newRow("no mask") << QByteArray("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n") << true;
    QTest::newRow("no unk") << QByteArray("[PAD]\n[CLS]\n[SEP]\n[MASK]\n") << true;
}

void TestTokenizer::vocabLoadErrors()
{
    QFETCH(QByteArray, content);
    QFETCH(bool, writeIt);
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString path = tmp.filePath(QStringLiteral("bad-vocab.txt"));
    if (writeIt)
        writeFile(path, content);
    try {
        tl::Vocab::load(tltest::str(path));
        QFAIL("expected tl::Error");
    } catch (const tl::Error &e) {
        QVERIFY2(QString::fromUtf8(e.what()).contains(path), e.what());
    }
}

void TestTokenizer::realVocabSpecialIds()
{
    TL_REQUIRE_SHARED_DATA(dir);
    const tl::Vocab v = tl::Vocab::load(tltest::str(sharedVocabPath(dir)));
    QCOMPARE(v.size(), 30522);
    QCOMPARE(v.padId(), 0);
    QCOMPARE(v.unkId(), 100);
    QCOMPARE(v.clsId(), 101);
    QCOMPARE(v.sepId(), 102);
    QCOMPARE(v.maskId(), 103);
    QCOMPARE(v.id("hello"), 7592);
}

void TestTokenizer::realTokenize_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("tokens");
    QTest::addColumn<QByteArray>("ids");

    QTest::newRow("hf example") << QByteArray("Hello, my dog is cute") << QByteArray("hello , my dog is cute")
                                << QByteArray("7592 1010 2026 3899 2003 10140");
    // "##aff" is not in bert-base-uncased; greedy longest match takes "una" first.
    QTest::newRow("unaffable") << QByteArray("unaffable") << QByteArray("una ##ffa ##ble")
                               << QByteArray("14477 20961 3468");
    QTest::newRow("punctuation") << QByteArray("Hello, World!") << QByteArray("hello , world !")
                                 << QByteArray("7592 1010 2088 999");
    QTest::newRow("accents") << QByteArray("Héllo Crème brûlée") << QByteArray("hello cr ##eme br ##ule ##e")
                             << QByteArray("7592 13675 21382 7987 9307 2063");
    QTest::newRow("diaeresis") << QByteArray("naïve café") << QByteArray("naive cafe") << QByteArray("15743 7668");
    QTest::newRow("more accents") << QByteArray("Résumé naïve Ünïcödé") << QByteArray("resume naive unicode")
                                  << QByteArray("13746 15743 27260");
    // 爱 is not in this vocabulary.
    QTest::newRow("cjk") << QByteArray("我爱北京") << QByteArray("我 [UNK] 北 京") << QByteArray("1855 100 1781 1755");
    QTest::newRow("kana is not split") << QByteArray("こんにちは") << QByteArray("こ ##ん ##に ##ち ##は")
                                       << QByteArray("1655 30217 30194 30188 30198");
    QTest::newRow("apostrophe") << QByteArray("don't") << QByteArray("don ' t") << QByteArray("2123 1005 1056");
    QTest::newRow("mask") << QByteArray("the [MASK] sat.") << QByteArray("the [MASK] sat .")
                          << QByteArray("1996 103 2938 1012");
    QTest::newRow("glued specials") << QByteArray("HELLO[CLS]World[SEP]") << QByteArray("hello [CLS] world [SEP]")
                                    << QByteArray("7592 101 2088 102");
    QTest::newRow("adjacent masks") << QByteArray("[MASK][MASK]") << QByteArray("[MASK] [MASK]")
                                    << QByteArray("103 103");
    QTest::newRow("lower-case mask") << QByteArray("the [mask] sat") << QByteArray("the [ mask ] sat")
                                     << QByteArray("1996 1031 7308 1033 2938");
    QTest::newRow("controls") << QByteArray("hel\x01lo\tworld\r\n") << QByteArray("hello world")
                              << QByteArray("7592 2088");
    QTest::newRow("symbols") << QByteArray("e-mail: x@y.com (ok)") << QByteArray("e - mail : x @ y . com ( ok )")
                             << QByteArray("1041 1011 5653 1024 1060 1030 1061 1012 4012 1006 "
                                           "7929 1007");
    // Compatibility forms are not folded (NFD, not NFKD).
    QTest::newRow("fullwidth") << QByteArray("Ｈｅｌｌｏ") << QByteArray("[UNK]") << QByteArray("100");
    QTest::newRow("suffix") << QByteArray("tokenization") << QByteArray("token ##ization") << QByteArray("19204 3989");
    QTest::newRow("empty") << QByteArray() << QByteArray() << QByteArray();
}

void TestTokenizer::realTokenize()
{
    TL_REQUIRE_SHARED_DATA(dir);
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, tokens);
    QFETCH(QByteArray, ids);
    const tl::BertTokenizer tok(tl::Vocab::load(tltest::str(sharedVocabPath(dir))));
    QCOMPARE(joined(tok.tokenize(stdString(text))), tokens);
    QCOMPARE(joined(tok.tokenizeToIds(stdString(text))), ids);
}

void TestTokenizer::realEncode()
{
    TL_REQUIRE_SHARED_DATA(dir);
    const tl::BertTokenizer tok(tl::Vocab::load(tltest::str(sharedVocabPath(dir))));
    const tl::Encoding enc = tok.encode("Hello, my dog is cute", 128);
    QCOMPARE(joined(enc.inputIds), QByteArray("101 7592 1010 2026 3899 2003 10140 102"));
    QCOMPARE(joined(enc.tokenTypeIds), QByteArray("0 0 0 0 0 0 0 0"));
    const tl::Encoding cut = tok.encode("Hello, my dog is cute", 5);
    QCOMPARE(joined(cut.inputIds), QByteArray("101 7592 1010 2026 102"));
}

void TestTokenizer::realEncodePairTruncated()
{
    TL_REQUIRE_SHARED_DATA(dir);
    const tl::BertTokenizer tok(tl::Vocab::load(tltest::str(sharedVocabPath(dir))));
    // a: 6 tokens, b: 2 tokens; 11 -> 8 takes three from a.
    const tl::Encoding enc = tok.encodePair("Hello, my dog is cute", "Hello world", 8);
    QCOMPARE(joined(enc.inputIds), QByteArray("101 7592 1010 2026 102 7592 2088 102"));
    QCOMPARE(joined(enc.tokenTypeIds), QByteArray("0 0 0 0 0 1 1 1"));
}

QTEST_APPLESS_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
