#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "testdata.h"
#include "text/tasks.h"
#include "util/error.h"

using tltest::str;

class TstTasks : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;

    // Writes bytes as they are (no newline added), so tests control BOMs, \r and the last line.
    std::string writeFile(const QString &name, const QByteArray &bytes)
    {
        const QString path = m_tmp.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly))
            qFatal("cannot write %s", qPrintable(path));
        f.write(bytes);
        return str(path);
    }

    static std::string glueFile(const QString &dataDir, const QString &task, const QString &split)
    {
        return str(dataDir + QStringLiteral("/glue/") + task + QLatin1Char('/') + split + QStringLiteral(".tsv"));
    }

    // The error names the file and the 1-based line: "PATH:LINE: reason".
    static QString readError(const std::string &task, const std::string &path)
    {
        try {
            tl::readTaskFile(tl::taskByName(task), path);
        } catch (const tl::Error &e) {
            return QString::fromStdString(e.what());
        }
        return QString();
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    void glueRowCounts_data()
    {
        QTest::addColumn<QString>("task");
        QTest::addColumn<QString>("split");
        QTest::addColumn<int>("rows");
        QTest::newRow("CoLA train") << "CoLA"
                                    << "train" << 8551;
        QTest::newRow("CoLA dev") << "CoLA"
                                  << "dev" << 1043;
        QTest::newRow("SST-2 train") << "SST-2"
                                     << "train" << 67349;
        QTest::newRow("SST-2 dev") << "SST-2"
                                   << "dev" << 872;
        // The README lists 3668, but the shared train.tsv holds 3668 lines counting its header:
        // 3667 data rows (each with 5 fields; none merged or lost by the reader).
        QTest::newRow("MRPC train") << "MRPC"
                                    << "train" << 3667;
        QTest::newRow("MRPC dev") << "MRPC"
                                  << "dev" << 408;
        QTest::newRow("STS-B train") << "STS-B"
                                     << "train" << 5749;
        QTest::newRow("STS-B dev") << "STS-B"
                                   << "dev" << 1500;
        QTest::newRow("RTE train") << "RTE"
                                   << "train" << 2490;
        QTest::newRow("RTE dev") << "RTE"
                                 << "dev" << 277;
        QTest::newRow("WNLI train") << "WNLI"
                                    << "train" << 635;
        QTest::newRow("WNLI dev") << "WNLI"
                                  << "dev" << 71;
    }

    void glueRowCounts()
    {
        TL_REQUIRE_SHARED_DATA(dataDir);
        QFETCH(QString, task);
        QFETCH(QString, split);
        QFETCH(int, rows);
        const tl::TaskSpec spec = tl::taskByName(str(task));
        const std::string path = tl::splitPath(spec, str(dataDir + QStringLiteral("/glue/") + task), str(split));
        const std::vector<tl::Example> examples = tl::readTaskFile(spec, path);
        QCOMPARE(int(examples.size()), rows);
        float lo = 5, hi = 0;
        for (const tl::Example &ex : examples) {
            QVERIFY(ex.hasLabel);
            QVERIFY2(!ex.textA.empty(), qPrintable(QString::number(ex.line)));
            QCOMPARE(ex.textB.empty(), !spec.pair);
            if (!spec.regression)
                QVERIFY(ex.label >= 0 && ex.label < spec.numLabels() && ex.label == int(ex.label));
            lo = std::min(lo, ex.label);
            hi = std::max(hi, ex.label);
        }
        if (spec.regression) // STS-B similarity ratings: 0..5, and really parsed (not all zero)
            QVERIFY2(lo >= 0.f && hi <= 5.f && lo < 1.f && hi > 4.f,
                     qPrintable(QStringLiteral("%1..%2").arg(lo).arg(hi)));
    }

    void firstExample_data()
    {
        QTest::addColumn<QString>("task");
        QTest::addColumn<QString>("split");
        QTest::addColumn<int>("index");
        QTest::addColumn<QString>("textA");
        QTest::addColumn<QString>("textB");
        QTest::addColumn<QString>("labelText");
        QTest::addColumn<float>("label");
        QTest::addColumn<int>("line");
        QTest::newRow("CoLA train") << "CoLA"
                                    << "train" << 0
                                    << "Our friends won't buy this analysis, let alone the next one we propose."
                                    << ""
                                    << "1" << 1.f << 1;
        QTest::newRow("SST-2 dev") << "SST-2"
                                   << "dev" << 0 << "it 's a charming and often affecting journey . "
                                   << ""
                                   << "1" << 1.f << 2;
        QTest::newRow("SST-2 train 2nd") << "SST-2"
                                         << "train" << 1 << "contains no wit , only labored gags "
                                         << ""
                                         << "0" << 0.f << 3;
        QTest::newRow("MRPC train") << "MRPC"
                                    << "train" << 0
                                    << "Amrozi accused his brother , whom he called \" the witness \" , of "
                                       "deliberately distorting his evidence ."
                                    << "Referring to him as only \" the witness \" , Amrozi accused his brother of "
                                       "deliberately distorting his evidence ."
                                    << "1" << 1.f << 2;
        QTest::newRow("MRPC train 2nd")
            << "MRPC"
            << "train" << 1
            << "Yucaipa owned Dominick 's before selling the chain to Safeway in 1998 for $ 2.5 billion ."
            << "Yucaipa bought Dominick 's in 1995 for $ 693 million and sold it to Safeway for $ 1.8 billion in 1998 ."
            << "0" << 0.f << 3;
        QTest::newRow("STS-B dev") << "STS-B"
                                   << "dev" << 1 << "A young child is riding a horse."
                                   << "A child is riding a horse."
                                   << "4.750" << 4.75f << 3;
        QTest::newRow("RTE train") << "RTE"
                                   << "train" << 0 << "No Weapons of Mass Destruction Found in Iraq Yet."
                                   << "Weapons of Mass Destruction Found in Iraq."
                                   << "not_entailment" << 1.f << 2;
        QTest::newRow("WNLI dev") << "WNLI"
                                  << "dev" << 0 << "The drain is clogged with hair. It has to be cleaned."
                                  << "The hair has to be cleaned."
                                  << "0" << 0.f << 2;
    }

    void firstExample()
    {
        TL_REQUIRE_SHARED_DATA(dataDir);
        QFETCH(QString, task);
        QFETCH(QString, split);
        QFETCH(int, index);
        QFETCH(QString, textA);
        QFETCH(QString, textB);
        QFETCH(QString, labelText);
        QFETCH(float, label);
        QFETCH(int, line);
        const auto examples = tl::readTaskFile(tl::taskByName(str(task)), glueFile(dataDir, task, split));
        QVERIFY(int(examples.size()) > index);
        const tl::Example &ex = examples[index];
        QCOMPARE(QString::fromStdString(ex.textA), textA);
        QCOMPARE(QString::fromStdString(ex.textB), textB);
        QCOMPARE(QString::fromStdString(ex.labelText), labelText);
        QCOMPARE(ex.label, label);
        QCOMPARE(ex.line, line);
        QVERIFY(ex.hasLabel);
    }

    void lastLineWithoutNewline()
    {
        TL_REQUIRE_SHARED_DATA(dataDir);
        // CoLA dev.tsv ends without a newline: its last row still counts.
        const auto cola =
            tl::readTaskFile(tl::taskByName("cola"), glueFile(dataDir, QStringLiteral("CoLA"), QStringLiteral("dev")));
        QVERIFY(QString::fromStdString(cola.back().textA).endsWith(QStringLiteral("about himself.")));
        QCOMPARE(cola.back().line, 1043);
    }

    void bomAndLineEndings()
    {
        // MRPC files start with a BOM; the header must still be recognised.
        std::string path =
            writeFile(QStringLiteral("mrpc_bom.tsv"), "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 "
                                                      "String\r\n1\t1\t2\tA b .\tC d .\r\n\r\n0\t3\t4\tE .\tF .");
        auto ex = tl::readTaskFile(tl::taskByName("MRPC"), path);
        QCOMPARE(int(ex.size()), 2);
        QCOMPARE(ex[0].textB, std::string("C d ."));
        QCOMPARE(ex[0].label, 1.f);
        QCOMPARE(ex[1].line, 4); // physical line, counting the empty one
        QCOMPARE(ex[1].textB, std::string("F ."));
        QCOMPARE(ex[1].labelText, std::string("0"));

        // CoLA has no header: a BOM must not stick to the first field of the first row.
        path = writeFile(QStringLiteral("cola_bom.tsv"), "\xEF\xBB\xBFgj04\t1\t\tFirst .\ngj04\t0\t*\tSecond .\n");
        ex = tl::readTaskFile(tl::taskByName("CoLA"), path);
        QCOMPARE(int(ex.size()), 2);
        QCOMPARE(ex[0].textA, std::string("First ."));
        QCOMPARE(ex[1].label, 0.f);

        path = writeFile(QStringLiteral("sst_bom.tsv"), "\xEF\xBB\xBFsentence\tlabel\ngood \t1");
        ex = tl::readTaskFile(tl::taskByName("SST-2"), path);
        QCOMPARE(int(ex.size()), 1);
        QCOMPARE(ex[0].textA, std::string("good "));
        QCOMPARE(ex[0].line, 2);
    }

    void malformed_data()
    {
        QTest::addColumn<QString>("task");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<int>("line");
        QTest::addColumn<QString>("reason");
        QTest::newRow("CoLA few columns")
            << "CoLA" << QByteArray("a\t1\t\tok\nb\t0\t*\tok\nc\t1\n") << 3 << "too few columns";
        QTest::newRow("CoLA bad label") << "CoLA" << QByteArray("a\t1\t\tok\na\t2\t\tno\n") << 2 << "unknown label '2'";
        QTest::newRow("SST-2 bad label") << "SST-2" << QByteArray("sentence\tlabel\nx\t1\ny\tpos\n") << 3
                                         << "unknown label 'pos'";
        QTest::newRow("SST-2 no tab") << "SST-2" << QByteArray("sentence\tlabel\nno tab here") << 2
                                      << "too few columns";
        QTest::newRow("STS-B bad float")
            << "STS-B"
            << QByteArray("index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
                          "0\tg\tf\ty\t1\tn\tn\tA.\tB.\tfive\n")
            << 2 << "bad score 'five'";
        QTest::newRow("RTE after blank line")
            << "RTE" << QByteArray("index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n\n1\ta\tb\tentails\n") << 4
            << "entails";
        QTest::newRow("MRPC BOM bad label")
            << "MRPC" << QByteArray("\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\nyes\t1\t2\ta\tb\r\n")
            << 2 << "unknown label 'yes'";
        QTest::newRow("QQP bad label")
            << "QQP"
            << QByteArray(
                   "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n1\t1\t2\tq?\tr?\t0\n2\t3\t4\tq?\tr?\t2\n")
            << 3 << "unknown label '2'";
        QTest::newRow("MNLI few columns")
            << "MNLI"
            << QByteArray(
                   "index\tpromptID\tpairID\tgenre\ts1b\ts2b\ts1p\ts2p\tsentence1\tsentence2\tlabel1\tgold_label\n"
                   "0\t1\t1e\tgov\t(\t(\t(\t(\tA.\tB.\n")
            << 2 << "too few columns";
        QTest::newRow("wrong task header") << "RTE" << QByteArray("sentence\tlabel\nx\t1\n") << 1 << "not a RTE file";
    }

    void malformed()
    {
        QFETCH(QString, task);
        QFETCH(QByteArray, content);
        QFETCH(int, line);
        QFETCH(QString, reason);
        const QString name =
            QStringLiteral("bad_%1.tsv").arg(QString::number(qHash(QString::fromLatin1(QTest::currentDataTag()))));
        const std::string path = writeFile(name, content);
        const QString message = readError(str(task), path);
        QVERIFY2(message.startsWith(QString::fromStdString(path) + QLatin1Char(':') + QString::number(line) +
                                    QStringLiteral(": ")),
                 qPrintable(message));
        QVERIFY2(message.contains(reason), qPrintable(message));
    }

    void mnliFormat()
    {
        const QByteArray head = "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
                                "sentence1_parse\tsentence2_parse\tsentence1\tsentence2";
        // train: label1, gold_label; dev: label1..label5, gold_label (label = last column).
        std::string path = writeFile(
            QStringLiteral("mnli_train.tsv"),
            head +
                "\tlabel1\tgold_label\n"
                "0\t31193\t31193n\tgov\t( a )\t( b )\t(S a)\t(S b)\tPremise one.\tHypothesis one.\tneutral\tneutral\n"
                "1\t101457\t101457e\ttelephone\t( c )\t( d )\t(S c)\t(S d)\tPremise two.\tHypothesis "
                "two.\tentailment\tentailment\n");
        auto ex = tl::readTaskFile(tl::taskByName("MNLI"), path);
        QCOMPARE(int(ex.size()), 2);
        QCOMPARE(ex[0].textA, std::string("Premise one."));
        QCOMPARE(ex[0].textB, std::string("Hypothesis one."));
        QCOMPARE(ex[0].label, 2.f); // contradiction, entailment, neutral
        QCOMPARE(ex[1].label, 1.f);

        path =
            writeFile(QStringLiteral("mnli_dev.tsv"),
                      head + "\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label\n"
                             "0\t1\t1c\tfiction\t(\t(\t(\t(\tP.\tH."
                             "\tcontradiction\tneutral\tcontradiction\tcontradiction\tcontradiction\tcontradiction\n");
        ex = tl::readTaskFile(tl::taskByName("mnli-mm"), path);
        QCOMPARE(int(ex.size()), 1);
        QCOMPARE(ex[0].labelText, std::string("contradiction"));
        QCOMPARE(ex[0].label, 0.f);

        path = writeFile(QStringLiteral("mnli_test.tsv"), head + "\n0\t1\t1\tslate\t(\t(\t(\t(\tTest P.\tTest H.\n");
        ex = tl::readTaskFile(tl::taskByName("MNLI"), path);
        QCOMPARE(int(ex.size()), 1);
        QVERIFY(!ex[0].hasLabel);
        QCOMPARE(ex[0].textB, std::string("Test H."));
    }

    void qqpAndQnliFormats()
    {
        std::string path = writeFile(
            QStringLiteral("qqp_train.tsv"),
            "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
            "133273\t213221\t213222\tHow is the life of a math student?\tWhich level of prepration is enough?\t0\n"
            "402555\t536040\t536041\tHow do I control my horny emotions?\tHow do you control your horniness?\t1\n");
        auto ex = tl::readTaskFile(tl::taskByName("qqp"), path);
        QCOMPARE(int(ex.size()), 2);
        QCOMPARE(ex[1].textA, std::string("How do I control my horny emotions?"));
        QCOMPARE(ex[1].label, 1.f);

        path = writeFile(QStringLiteral("qnli_dev.tsv"),
                         "index\tquestion\tsentence\tlabel\n"
                         "0\tWhat came into force after the new constitution was herald?\tAs of that day, the new "
                         "constitution heralding the Second Republic came into force.\tentailment\n"
                         "1\tWhat is the first major city in the stream of the Rhine?\tThe most important tributaries "
                         "in this area are the Ill below of Strasbourg.\tnot_entailment\n");
        ex = tl::readTaskFile(tl::taskByName("QNLI"), path);
        QCOMPARE(int(ex.size()), 2);
        QCOMPARE(ex[0].label, 0.f);
        QCOMPARE(ex[1].label, 1.f);
        QCOMPARE(ex[1].textA, std::string("What is the first major city in the stream of the Rhine?"));
    }

    void testFiles_data()
    {
        QTest::addColumn<QString>("task");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("textA");
        QTest::addColumn<QString>("textB");
        QTest::newRow("CoLA") << "CoLA" << QByteArray("index\tsentence\n0\tBill whistled past the house.\n")
                              << "Bill whistled past the house."
                              << "";
        QTest::newRow("SST-2") << "SST-2" << QByteArray("index\tsentence\n0\tuneasy mishmash of styles and genres .")
                               << "uneasy mishmash of styles and genres ."
                               << "";
        QTest::newRow("MRPC")
            << "MRPC"
            << QByteArray("\xEF\xBB\xBFindex\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t1089874\t1089925\tS1 .\tS2 .\n")
            << "S1 ."
            << "S2 .";
        QTest::newRow("STS-B")
            << "STS-B"
            << QByteArray("index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\n"
                          "0\tmain-captions\tMSRvid\t2012test\t0024\tnone\tnone\tA girl is styling her hair.\tA girl "
                          "is brushing her hair.\n")
            << "A girl is styling her hair."
            << "A girl is brushing her hair.";
        QTest::newRow("RTE")
            << "RTE"
            << QByteArray("index\tsentence1\tsentence2\n0\tMaude and Dora had seen the trains.\tDora saw trains.\n")
            << "Maude and Dora had seen the trains."
            << "Dora saw trains.";
        QTest::newRow("WNLI") << "WNLI" << QByteArray("index\tsentence1\tsentence2\r\n0\tS one.\tS two.\r\n")
                              << "S one."
                              << "S two.";
        QTest::newRow("QNLI") << "QNLI" << QByteArray("index\tquestion\tsentence\n0\tQ?\tS.\n") << "Q?"
                              << "S.";
        QTest::newRow("QQP") << "QQP" << QByteArray("id\tquestion1\tquestion2\n0\tWhy?\tWhy not?\n") << "Why?"
                             << "Why not?";
    }

    void testFiles()
    {
        QFETCH(QString, task);
        QFETCH(QByteArray, content);
        QFETCH(QString, textA);
        QFETCH(QString, textB);
        const std::string path = writeFile(QStringLiteral("test_%1.tsv").arg(task), content);
        const auto ex = tl::readTaskFile(tl::taskByName(str(task)), path);
        QCOMPARE(int(ex.size()), 1);
        QVERIFY(!ex[0].hasLabel);
        QCOMPARE(ex[0].line, 2);
        QCOMPARE(QString::fromStdString(ex[0].textA), textA);
        QCOMPARE(QString::fromStdString(ex[0].textB), textB);
    }

    void genericTsv()
    {
        const tl::TaskSpec spec = tl::taskByName("generic");
        std::string path =
            writeFile(QStringLiteral("gen.tsv"),
                      "label\tid\ttext_pair\ttext\npos\t1\tB one\tA one\nneg\t2\tB two\tA two\n\npos\t3\t\tA three");
        auto ex = tl::readTaskFile(spec, path);
        QCOMPARE(int(ex.size()), 3);
        QCOMPARE(ex[0].textA, std::string("A one"));
        QCOMPARE(ex[0].textB, std::string("B one"));
        QCOMPARE(ex[0].label, 1.f); // sorted label set: neg, pos
        QCOMPARE(ex[1].label, 0.f);
        QCOMPARE(ex[2].line, 5);
        QCOMPARE(tl::labelsFromExamples(ex), (std::vector<std::string>{"neg", "pos"}));

        // A label set given by the caller is used as is, in its order.
        tl::TaskSpec fixed = spec;
        fixed.labels = {"pos", "neg"};
        ex = tl::readTaskFile(fixed, path);
        QCOMPARE(ex[0].label, 0.f);
        QCOMPARE(ex[1].label, 1.f);
        fixed.labels = {"pos"};
        try {
            tl::readTaskFile(fixed, path);
            QFAIL("unknown label accepted");
        } catch (const tl::Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).startsWith(QString::fromStdString(path + ":3: ")), e.what());
        }

        // Integer labels sort by value.
        path = writeFile(QStringLiteral("gen_int.tsv"), "text\tlabel\na\t10\nb\t2\nc\t0\n");
        ex = tl::readTaskFile(spec, path);
        QCOMPARE(tl::labelsFromExamples(ex), (std::vector<std::string>{"0", "2", "10"}));
        QCOMPARE(ex[0].label, 2.f);

        // No label column: texts to predict.
        path = writeFile(QStringLiteral("gen_nolabel.tsv"), "text\nonly text\n");
        ex = tl::readTaskFile(spec, path);
        QCOMPARE(int(ex.size()), 1);
        QVERIFY(!ex[0].hasLabel);

        path = writeFile(QStringLiteral("gen_notext.tsv"), "sentence\tlabel\na\t1\n");
        QVERIFY(readError("generic", path).startsWith(QString::fromStdString(path) + QStringLiteral(":1: ")));
        QVERIFY(readError("generic", path).contains(QStringLiteral("'text'")));

        path = writeFile(QStringLiteral("gen_short.tsv"), "text\tlabel\na\t1\nb\n");
        QVERIFY(readError("generic", path)
                    .startsWith(QString::fromStdString(path) + QStringLiteral(":3: too few columns")));
    }

    void genericJsonl()
    {
        const std::string path =
            writeFile(QStringLiteral("gen.jsonl"), "{\"text\": \"caf\\u00e9 good\", \"label\": 1}\n"
                                                   "{\"text\": \"bad\", \"text_pair\": \"worse\", \"label\": 0}\r\n"
                                                   "\n"
                                                   "{\"label\": \"1\", \"text\": \"fine\", \"extra\": [1, 2]}");
        const auto ex = tl::readTaskFile(tl::taskByName("generic"), path);
        QCOMPARE(int(ex.size()), 3);
        QCOMPARE(ex[0].textA, std::string("caf\xC3\xA9 good"));
        QCOMPARE(ex[0].labelText, std::string("1"));
        QCOMPARE(ex[0].label, 1.f);
        QCOMPARE(ex[1].textB, std::string("worse"));
        QCOMPARE(ex[1].label, 0.f);
        QCOMPARE(ex[2].line, 4);
        QCOMPARE(ex[2].label, 1.f); // "1" and 1 are the same label

        const std::string bad = writeFile(QStringLiteral("bad.jsonl"),
                                          "{\"text\": \"a\", \"label\": 1}\n\n{\"text\": \"b\", \"label\": \n");
        QVERIFY2(readError("generic", bad).startsWith(QString::fromStdString(bad) + QStringLiteral(":3: invalid JSON")),
                 qPrintable(readError("generic", bad)));
        const std::string noText = writeFile(QStringLiteral("notext.jsonl"), "{\"text\": \"a\"}\n{\"label\": 1}\n");
        QVERIFY(readError("generic", noText).startsWith(QString::fromStdString(noText) + QStringLiteral(":2: ")));
    }

    void genericRegression()
    {
        const tl::TaskSpec spec = tl::taskByName("generic_regression");
        QVERIFY(spec.regression);
        QCOMPARE(spec.numLabels(), 1);
        auto ex = tl::readTaskFile(
            spec, writeFile(QStringLiteral("reg.jsonl"),
                            "{\"text\": \"a\", \"label\": 0.25}\n{\"text\": \"b\", \"label\": \"-3e1\"}\n"));
        QCOMPARE(ex[0].label, 0.25f);
        QCOMPARE(ex[1].label, -30.f);
        ex = tl::readTaskFile(spec, writeFile(QStringLiteral("reg.tsv"), "text\tlabel\nx\t 4.5 \n"));
        QCOMPARE(ex[0].label, 4.5f);
        const std::string bad = writeFile(QStringLiteral("reg_bad.tsv"), "text\tlabel\nx\t1\ny\t1,5\n");
        QVERIFY(readError("generic-regression", bad)
                    .startsWith(QString::fromStdString(bad) + QStringLiteral(":3: bad score")));
    }

    void taskByName_data()
    {
        QTest::addColumn<QString>("typed");
        QTest::addColumn<QString>("canonical");
        QTest::addColumn<int>("numLabels");
        QTest::addColumn<QString>("mainMetric");
        QTest::addColumn<QString>("devFile");
        QTest::newRow("cola") << "cola"
                              << "CoLA" << 2 << "mcc"
                              << "dev.tsv";
        QTest::newRow("sst2") << "sst2"
                              << "SST-2" << 2 << "accuracy"
                              << "dev.tsv";
        QTest::newRow("Mrpc") << "Mrpc"
                              << "MRPC" << 2 << "f1"
                              << "dev.tsv";
        QTest::newRow("Sts_B") << "Sts_B"
                               << "STS-B" << 1 << "pearson"
                               << "dev.tsv";
        QTest::newRow("qqp") << "qqp"
                             << "QQP" << 2 << "f1"
                             << "dev.tsv";
        QTest::newRow("mnli") << "mnli"
                              << "MNLI" << 3 << "accuracy"
                              << "dev_matched.tsv";
        QTest::newRow("mnli-mm") << "mnli-mm"
                                 << "MNLI-MM" << 3 << "accuracy"
                                 << "dev_mismatched.tsv";
        QTest::newRow("mnli_mismatched") << "mnli_mismatched"
                                         << "MNLI-MM" << 3 << "accuracy"
                                         << "dev_mismatched.tsv";
        QTest::newRow("qnli") << "QNLI"
                              << "QNLI" << 2 << "accuracy"
                              << "dev.tsv";
        QTest::newRow("rte") << "rte"
                             << "RTE" << 2 << "accuracy"
                             << "dev.tsv";
        QTest::newRow("wnli") << "wnli"
                              << "WNLI" << 2 << "accuracy"
                              << "dev.tsv";
        QTest::newRow("generic") << "Generic"
                                 << "generic" << 0 << "accuracy"
                                 << "dev.tsv";
        QTest::newRow("generic-regression") << "GENERIC-REGRESSION"
                                            << "generic-regression" << 1 << "pearson"
                                            << "dev.tsv";
    }

    void taskByName()
    {
        QFETCH(QString, typed);
        QFETCH(QString, canonical);
        QFETCH(int, numLabels);
        QFETCH(QString, mainMetric);
        QFETCH(QString, devFile);
        const tl::TaskSpec spec = tl::taskByName(str(typed));
        QCOMPARE(QString::fromStdString(spec.name), canonical);
        QCOMPARE(spec.numLabels(), numLabels);
        QCOMPARE(QString::fromStdString(spec.mainMetric), mainMetric);
        QCOMPARE(QString::fromStdString(spec.devFile), devFile);
        const std::vector<std::string> known = tl::knownTaskNames();
        QVERIFY(std::find(known.begin(), known.end(), spec.name) != known.end());
        QCOMPARE(tl::taskByName(spec.name).name, spec.name); // canonical names round-trip
    }

    void taskDetails()
    {
        QCOMPARE(tl::taskByName("MNLI").labels, (std::vector<std::string>{"contradiction", "entailment", "neutral"}));
        QCOMPARE(tl::taskByName("RTE").labels, (std::vector<std::string>{"entailment", "not_entailment"}));
        QCOMPARE(tl::taskByName("WNLI").labels, (std::vector<std::string>{"0", "1"}));
        QVERIFY(tl::taskByName("STS-B").regression && tl::taskByName("STS-B").labels.empty());
        QVERIFY(!tl::taskByName("SST-2").pair && tl::taskByName("RTE").pair && tl::taskByName("MRPC").pair);
        try {
            tl::taskByName("squad");
            QFAIL("unknown task accepted");
        } catch (const tl::Error &e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.contains(QStringLiteral("squad")) && message.contains(QStringLiteral("CoLA")) &&
                         message.contains(QStringLiteral("generic-regression")),
                     e.what());
        }
    }

    void splitPaths()
    {
        QCOMPARE(tl::splitPath(tl::taskByName("CoLA"), "/d/CoLA", "train"), std::string("/d/CoLA/train.tsv"));
        QCOMPARE(tl::splitPath(tl::taskByName("MNLI"), "/d/MNLI/", "dev"), std::string("/d/MNLI/dev_matched.tsv"));
        QCOMPARE(tl::splitPath(tl::taskByName("MNLI-MM"), "/d/MNLI", "dev"), std::string("/d/MNLI/dev_mismatched.tsv"));
        QCOMPARE(tl::splitPath(tl::taskByName("MNLI"), "/d/MNLI", "test"), std::string("/d/MNLI/test_matched.tsv"));
        QCOMPARE(tl::splitPath(tl::taskByName("MNLI-MM"), "/d/MNLI", "test"),
                 std::string("/d/MNLI/test_mismatched.tsv"));
        QCOMPARE(tl::splitPath(tl::taskByName("RTE"), "/d/RTE", "test"), std::string("/d/RTE/test.tsv"));
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::splitPath(tl::taskByName("RTE"), "/d", "validation"));

        // generic: .tsv when present, else .jsonl.
        QTemporaryDir dir;
        const std::string d = str(dir.path());
        const tl::TaskSpec spec = tl::taskByName("generic");
        QCOMPARE(tl::splitPath(spec, d, "train"), d + "/train.tsv");
        QVERIFY(QFile(dir.filePath(QStringLiteral("train.jsonl"))).open(QIODevice::WriteOnly));
        QVERIFY(QFile(dir.filePath(QStringLiteral("dev.jsonl"))).open(QIODevice::WriteOnly));
        QCOMPARE(tl::splitPath(spec, d, "train"), d + "/train.jsonl");
        QCOMPARE(tl::splitPath(spec, d, "dev"), d + "/dev.jsonl");
        QVERIFY(QFile(dir.filePath(QStringLiteral("train.tsv"))).open(QIODevice::WriteOnly));
        QCOMPARE(tl::splitPath(spec, d, "train"), d + "/train.tsv");
    }

    void assignLabelsNamesLine()
    {
        std::vector<tl::Example> ex(3);
        for (int i = 0; i < 3; ++i) {
            ex[i].hasLabel = i != 1;
            ex[i].line = 10 + i;
            ex[i].labelText = i == 0 ? "b" : "c";
        }
        ex[1].labelText = "zzz"; // unlabelled: ignored
        tl::assignLabels(ex, {"c", "b"}, "x.tsv");
        QCOMPARE(ex[0].label, 1.f);
        QCOMPARE(ex[2].label, 0.f);
        QCOMPARE(tl::labelsFromExamples(ex), (std::vector<std::string>{"b", "c"}));
        try {
            tl::assignLabels(ex, {"c"}, "x.tsv");
            QFAIL("unknown label accepted");
        } catch (const tl::Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).startsWith(QStringLiteral("x.tsv:10: unknown label 'b'")), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(
            tl::Error, tl::readTaskFile(tl::taskByName("CoLA"), str(m_tmp.filePath(QStringLiteral("missing.tsv")))));
    }

    void labelMismatch()
    {
        const tl::TaskSpec rte = tl::taskByName("RTE"), mrpc = tl::taskByName("MRPC");
        // An RTE model on MRPC: both label sets named.
        const std::string why = tl::labelMismatch({"entailment", "not_entailment"}, mrpc);
        QVERIFY2(why.find("entailment, not_entailment") != std::string::npos && why.find("MRPC") != std::string::npos &&
                     why.find("(0, 1)") != std::string::npos,
                 why.c_str());
        QVERIFY(tl::labelMismatch({"ENTAILMENT", "Not_Entailment"}, rte).empty());  // case does not matter
        QVERIFY(!tl::labelMismatch({"not_entailment", "entailment"}, rte).empty()); // order does: classes swap
        QVERIFY(!tl::labelMismatch({"contradiction", "entailment", "neutral"}, rte).empty());
        // Nothing to compare: HF's placeholder names, a regression model or task, a generic task.
        QVERIFY(tl::labelMismatch({"LABEL_0", "LABEL_1"}, rte).empty());
        QVERIFY(tl::labelMismatch({}, rte).empty());
        QVERIFY(tl::labelMismatch({"entailment", "not_entailment"}, tl::taskByName("STS-B")).empty());
        QVERIFY(tl::labelMismatch({"entailment", "not_entailment"}, tl::taskByName("generic")).empty());
    }
};

QTEST_APPLESS_MAIN(TstTasks)
#include "tst_tasks.moc"
