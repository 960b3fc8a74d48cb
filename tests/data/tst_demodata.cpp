#include <QDirIterator>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "demodata.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/hash.h"

using Row = std::vector<std::string>;

namespace {

std::vector<std::string> split(const std::string &s, char sep)
{
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        const size_t end = s.find(sep, start);
        out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos)
            return out;
        start = end + 1;
    }
}

std::vector<std::string> lines(const std::string &path)
{
    std::vector<std::string> out = split(tl::readFileText(path), '\n');
    if (!out.empty() && out.back().empty())
        out.pop_back(); // final newline
    return out;
}

/// Rows of a TSV file, the header dropped when there is one.
std::vector<Row> readTsv(const std::string &path, bool header)
{
    std::vector<Row> rows;
    const std::vector<std::string> all = lines(path);
    for (size_t i = header ? 1 : 0; i < all.size(); ++i)
        rows.push_back(split(all[i], '\t'));
    return rows;
}

/// Words as the BERT basic tokenizer sees them: whitespace-separated, punctuation apart.
std::vector<std::string> words(const std::string &text)
{
    std::vector<std::string> out;
    std::string cur;
    auto flush = [&] {
        if (!cur.empty())
            out.push_back(cur);
        cur.clear();
    };
    for (const char c : text) {
        if (c == ' ' || c == '\t' || c == '\n') {
            flush();
        } else if (std::ispunct(static_cast<unsigned char>(c))) {
            flush();
            out.push_back(std::string(1, c));
        } else {
            cur += c;
        }
    }
    flush();
    return out;
}

/// Every file under dir, by relative path, with its bytes.
std::map<QString, QByteArray> allFiles(const QString &dir)
{
    std::map<QString, QByteArray> files;
    QDirIterator it(dir, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile f(path);
        if (f.open(QIODevice::ReadOnly))
            files[QDir(dir).relativeFilePath(path)] = f.readAll();
    }
    return files;
}

const char *const kTasks[] = {"sentiment", "agreement", "entailment"};

} // namespace

class TestDemoData : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void sameSeedSameBytes();
    void otherSeedOtherCorpus();
    void goldenOutput();
    void vocabLayout();
    void everyWordInVocab();
    void rowCounts();
    void labelsBalanced();
    void sentimentFollowsNegation();
    void agreementFormat();
    void entailmentFormat();
    void devNotInTrain();
    void labelFollowsSentence();
    void smallAndEmptySizes();
    void errors();

private:
    std::string path(const char *rel) const { return m_dir.filePath(QString::fromUtf8(rel)).toStdString(); }
    std::vector<Row> rows(const std::string &task, const std::string &split) const
    {
        return readTsv(path((task + "/" + split + ".tsv").c_str()), task != "agreement");
    }
    /// Sentence text columns of a task row (RTE: both sentences).
    static std::vector<std::string> sentences(const std::string &task, const Row &row)
    {
        if (task == "sentiment")
            return {row.at(0)};
        if (task == "agreement")
            return {row.at(3)};
        return {row.at(1), row.at(2)};
    }
    static std::string label(const std::string &task, const Row &row)
    {
        return task == "sentiment" ? row.at(1) : task == "agreement" ? row.at(1) : row.at(3);
    }

    QTemporaryDir m_dir;
    tl::demo::DemoOptions m_options; // the defaults
    qint64 m_generateMs = 0;
};

void TestDemoData::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_options.outDir = m_dir.path().toStdString();
    QElapsedTimer timer;
    timer.start();
    tl::demo::writeDemoData(m_options);
    m_generateMs = timer.elapsed();
    qInfo("default sizes generated in %lld ms", m_generateMs);
    // The brief asks for well under 2 s; allow slack for a loaded shared test machine.
    QVERIFY2(m_generateMs < 6000, "generation of the default sizes is too slow");
}

void TestDemoData::sameSeedSameBytes()
{
    QTemporaryDir other;
    tl::demo::DemoOptions o = m_options;
    o.outDir = other.path().toStdString();
    tl::demo::writeDemoData(o);
    const auto a = allFiles(m_dir.path());
    const auto b = allFiles(other.path());
    QCOMPARE(a.size(), size_t(8)); // vocab, corpus, 3 tasks x {train, dev}
    QCOMPARE(b.size(), a.size());
    for (const auto &[name, bytes] : a) {
        QVERIFY2(b.count(name), qPrintable(name));
        QVERIFY2(b.at(name) == bytes, qPrintable(name + QStringLiteral(" differs")));
        QVERIFY2(!bytes.isEmpty(), qPrintable(name));
    }
}

void TestDemoData::otherSeedOtherCorpus()
{
    QTemporaryDir other;
    tl::demo::DemoOptions o = m_options;
    o.outDir = other.path().toStdString();
    o.seed = m_options.seed + 1;
    o.corpusLines = 500;
    tl::demo::writeDemoData(o);
    const std::vector<std::string> mine = lines(path("corpus/toy.txt"));
    const std::vector<std::string> theirs = lines(other.filePath(QStringLiteral("corpus/toy.txt")).toStdString());
    QCOMPARE(theirs.size(), size_t(500));
    QVERIFY(std::vector<std::string>(mine.begin(), mine.begin() + 500) != theirs);
    // The vocabulary is the lexicon's, whatever the seed.
    QCOMPARE(tl::readFileText(other.filePath(QStringLiteral("vocab.txt")).toStdString()),
             tl::readFileText(path("vocab.txt")));
    const auto mySentiment = tl::readFileText(path("sentiment/train.tsv"));
    QVERIFY(tl::readFileText(other.filePath(QStringLiteral("sentiment/train.tsv")).toStdString()) != mySentiment);
}

void TestDemoData::goldenOutput()
{
    // The same bytes for a seed on every platform: a fixed fingerprint catches an RNG
    // draw whose order a compiler may choose (two draws among one call's arguments).
    // Update the value only when the language is changed on purpose.
    QTemporaryDir other;
    tl::demo::DemoOptions o;
    o.outDir = other.path().toStdString();
    o.seed = 7;
    o.corpusLines = 50;
    o.trainExamples = 20;
    o.devExamples = 10;
    tl::demo::writeDemoData(o);
    tl::Fnv1a hash; // over the files in a fixed order
    for (const char *rel : {"vocab.txt", "corpus/toy.txt", "sentiment/train.tsv", "sentiment/dev.tsv",
                            "agreement/train.tsv", "agreement/dev.tsv", "entailment/train.tsv", "entailment/dev.tsv"}) {
        const std::string text = tl::readFileText(o.outDir + "/" + rel);
        hash.update(text.data(), text.size());
    }
    QCOMPARE(QString::fromStdString(hash.hex()), QStringLiteral("6cfba1d612e97a16"));
}

void TestDemoData::vocabLayout()
{
    const std::vector<std::string> vocab = lines(path("vocab.txt"));
    const std::vector<std::string> specials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    QVERIFY(vocab.size() > specials.size());
    for (size_t i = 0; i < specials.size(); ++i)
        QCOMPARE(vocab[i], specials[i]);
    const std::set<std::string> unique(vocab.begin(), vocab.end());
    QCOMPARE(unique.size(), vocab.size());
    QVERIFY2(vocab.size() >= 300 && vocab.size() <= 600, qPrintable(QString::number(vocab.size())));
    for (char c = 'a'; c <= 'z'; ++c) {
        QVERIFY(unique.count(std::string(1, c)));
        QVERIFY(unique.count(std::string("##") + c));
    }
    for (char c = '0'; c <= '9'; ++c)
        QVERIFY(unique.count(std::string(1, c)));
    for (const std::string &w : vocab) {
        QVERIFY(!w.empty());
        QVERIFY(w.find_first_of(" \t\r") == std::string::npos);
        if (w[0] != '[')
            for (const char c : w)
                QVERIFY2(!std::isupper(static_cast<unsigned char>(c)), w.c_str());
    }
}

void TestDemoData::everyWordInVocab()
{
    const std::vector<std::string> vocab = lines(path("vocab.txt"));
    const std::set<std::string> known(vocab.begin(), vocab.end());
    std::set<std::string> unknown;
    std::set<std::string> seenWords;
    auto check = [&](const std::string &text) {
        for (const std::string &w : words(text)) {
            seenWords.insert(w);
            if (!known.count(w))
                unknown.insert(w);
        }
    };
    for (const std::string &line : lines(path("corpus/toy.txt")))
        check(line);
    for (const std::string task : kTasks)
        for (const char *split : {"train", "dev"})
            for (const Row &row : rows(task, split))
                for (const std::string &s : sentences(task, row))
                    check(s);
    std::string list;
    for (const std::string &w : unknown)
        list += w + ' ';
    QVERIFY2(unknown.empty(), list.c_str());
    // The corpus actually uses most of the lexicon, so MLM pre-training sees it.
    QVERIFY2(seenWords.size() > 250, qPrintable(QString::number(seenWords.size())));
}

void TestDemoData::rowCounts()
{
    QCOMPARE(lines(path("corpus/toy.txt")).size(), size_t(m_options.corpusLines));
    for (const std::string task : kTasks) {
        QCOMPARE(rows(task, "train").size(), size_t(m_options.trainExamples));
        QCOMPARE(rows(task, "dev").size(), size_t(m_options.devExamples));
    }
    QCOMPARE(lines(path("sentiment/train.tsv")).front(), std::string("sentence\tlabel"));
    QCOMPARE(lines(path("entailment/dev.tsv")).front(), std::string("index\tsentence1\tsentence2\tlabel"));
    // Corpus lines hold one to four sentences and no TAB.
    for (const std::string &line : lines(path("corpus/toy.txt"))) {
        QVERIFY(!line.empty());
        QVERIFY(line.find('\t') == std::string::npos);
        int ends = 0;
        for (const char c : line)
            ends += c == '.' || c == '!' || c == '?';
        QVERIFY2(ends >= 1 && ends <= 4, line.c_str());
    }
}

void TestDemoData::labelsBalanced()
{
    const std::map<std::string, std::string> positive = {
        {"sentiment", "1"}, {"agreement", "1"}, {"entailment", "entailment"}};
    for (const std::string task : kTasks) {
        for (const char *split : {"train", "dev"}) {
            const std::vector<Row> all = rows(task, split);
            int pos = 0;
            for (const Row &row : all)
                pos += label(task, row) == positive.at(task);
            const double share = double(pos) / double(all.size());
            QVERIFY2(share >= 0.4 && share <= 0.6, qPrintable(QString::fromStdString(task + " " + split)));
        }
    }
}

void TestDemoData::sentimentFollowsNegation()
{
    const std::set<std::string> positive = {"good",     "great",     "wonderful", "happy",      "funny",
                                            "lovely",   "nice",      "brilliant", "beautiful",  "clever",
                                            "pleasant", "excellent", "charming",  "delightful", "moving"};
    const std::set<std::string> negative = {"bad",      "terrible", "awful", "dreadful", "boring",
                                            "dull",     "ugly",     "bland", "stupid",   "poor",
                                            "horrible", "weak",     "nasty", "painful",  "tedious"};
    int negatedPositive = 0;
    int negated = 0;
    for (const char *split : {"train", "dev"}) {
        for (const Row &row : rows("sentiment", split)) {
            QCOMPARE(row.size(), size_t(2));
            QVERIFY(row[1] == "0" || row[1] == "1");
            // The clause after the last "but" decides; in it, "not" / "never" flips the
            // adjectives, which all share one polarity.
            std::vector<std::string> w = words(row[0]);
            for (size_t i = w.size(); i-- > 0;) {
                if (w[i] == "but") {
                    w.erase(w.begin(), w.begin() + long(i) + 1);
                    break;
                }
            }
            bool neg = false;
            int pos = 0, bad = 0;
            for (const std::string &t : w) {
                neg = neg || t == "not" || t == "never";
                pos += positive.count(t) ? 1 : 0;
                bad += negative.count(t) ? 1 : 0;
            }
            QVERIFY2((pos > 0) != (bad > 0), row[0].c_str());
            const bool expected = (pos > 0) != neg;
            QVERIFY2((row[1] == "1") == expected, row[0].c_str());
            negated += neg;
            negatedPositive += neg && pos > 0;
        }
    }
    // Negation is common enough to matter, with both polarities under it.
    const int total = m_options.trainExamples + m_options.devExamples;
    QVERIFY(negated > total / 5);
    QVERIFY(negatedPositive > negated / 4 && negatedPositive < negated * 3 / 4);
}

void TestDemoData::agreementFormat()
{
    for (const char *split : {"train", "dev"}) {
        for (const Row &row : rows("agreement", split)) {
            QCOMPARE(row.size(), size_t(4));
            QCOMPARE(row[0], std::string("toy"));
            QVERIFY(row[1] == "0" || row[1] == "1");
            QCOMPARE(row[2], std::string(row[1] == "0" ? "*" : ""));
            QVERIFY(!row[3].empty());
            QCOMPARE(row[3].back(), '.');
        }
    }
    // Distractors between subject and verb (a prepositional phrase or a relative clause)
    // are common, so the nearest noun is not a reliable cue.
    const std::vector<Row> all = rows("agreement", "train");
    int attractors = 0;
    for (const Row &row : all) {
        for (const std::string &t : words(row[3]))
            attractors += t == "near" || t == "that" || t == "who" || t == "with" || t == "behind" || t == "beside";
    }
    QVERIFY(attractors > int(all.size()) / 5);
}

void TestDemoData::entailmentFormat()
{
    for (const char *split : {"train", "dev"}) {
        const std::vector<Row> all = rows("entailment", split);
        for (size_t i = 0; i < all.size(); ++i) {
            const Row &row = all[i];
            QCOMPARE(row.size(), size_t(4));
            QCOMPARE(row[0], std::to_string(i));
            QVERIFY(!row[1].empty() && !row[2].empty());
            QVERIFY(row[1] != row[2] || row[3] == "entailment");
            QVERIFY2(row[3] == "entailment" || row[3] == "not_entailment", row[3].c_str());
        }
    }
}

void TestDemoData::devNotInTrain()
{
    for (const std::string task : kTasks) {
        std::set<std::vector<std::string>> train;
        for (const Row &row : rows(task, "train"))
            train.insert(sentences(task, row));
        for (const Row &row : rows(task, "dev"))
            QVERIFY2(!train.count(sentences(task, row)),
                     qPrintable(QString::fromStdString(task + ": " + sentences(task, row).front())));
    }
}

void TestDemoData::labelFollowsSentence()
{
    // A sentence (pair) never comes with both labels: the labels are a function of the text.
    for (const std::string task : kTasks) {
        std::map<std::vector<std::string>, std::string> seen;
        for (const char *split : {"train", "dev"}) {
            for (const Row &row : rows(task, split)) {
                const auto [it, fresh] = seen.emplace(sentences(task, row), label(task, row));
                QVERIFY2(fresh || it->second == label(task, row), qPrintable(QString::fromStdString(task)));
            }
        }
    }
}

void TestDemoData::smallAndEmptySizes()
{
    QTemporaryDir other;
    tl::demo::DemoOptions o;
    o.outDir = other.filePath(QStringLiteral("nested/deeper")).toStdString();
    o.corpusLines = 3;
    o.trainExamples = 5;
    o.devExamples = 0;
    tl::demo::writeDemoData(o);
    QCOMPARE(lines(o.outDir + "/corpus/toy.txt").size(), size_t(3));
    QCOMPARE(readTsv(o.outDir + "/agreement/train.tsv", false).size(), size_t(5));
    QCOMPARE(readTsv(o.outDir + "/agreement/dev.tsv", false).size(), size_t(0));
    QCOMPARE(readTsv(o.outDir + "/sentiment/dev.tsv", true).size(), size_t(0));
    QCOMPARE(readTsv(o.outDir + "/entailment/dev.tsv", true).size(), size_t(0));
}

void TestDemoData::errors()
{
    tl::demo::DemoOptions o;
    QVERIFY_THROWS_EXCEPTION(tl::Error, tl::demo::writeDemoData(o)); // no outDir

    QTemporaryDir other;
    o.outDir = other.path().toStdString();
    o.trainExamples = -1;
    QVERIFY_THROWS_EXCEPTION(tl::Error, tl::demo::writeDemoData(o));

    // A plain file where a folder must go.
    const std::string blocker = other.filePath(QStringLiteral("file")).toStdString();
    tl::writeFileAtomic(blocker, "x");
    o.trainExamples = 4;
    o.corpusLines = 2;
    o.outDir = blocker;
    QVERIFY_THROWS_EXCEPTION(tl::Error, tl::demo::writeDemoData(o));
    o.outDir = blocker + "/below";
    QVERIFY_THROWS_EXCEPTION(tl::Error, tl::demo::writeDemoData(o));
}

QTEST_APPLESS_MAIN(TestDemoData)
#include "tst_demodata.moc"
