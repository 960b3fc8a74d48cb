// The one CSV writer: RFC 4180 quoting, as `show --format csv`, `analyze --format csv` and the
// figures' CSV files write it.

#include <QtTest>

#include "util/csv.h"

class TestCsv : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void quotesOnlyWhatNeedsIt_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("written");
        QTest::newRow("plain") << "SST-2 imp #3"
                               << "SST-2 imp #3";
        QTest::newRow("empty") << ""
                               << "";
        QTest::newRow("comma") << "acc, macro"
                               << "\"acc, macro\"";
        QTest::newRow("quote") << "the \"best\""
                               << "\"the \"\"best\"\"\"";
        QTest::newRow("newline") << "two\nlines"
                                 << "\"two\nlines\"";
        QTest::newRow("carriage return") << "a\rb"
                                         << "\"a\rb\"";
        QTest::newRow("leading space") << " x"
                                       << "\" x\"";
        QTest::newRow("trailing space") << "x "
                                        << "\"x \"";
    }

    void quotesOnlyWhatNeedsIt()
    {
        QFETCH(QString, field);
        QFETCH(QString, written);
        QCOMPARE(QString::fromStdString(tl::csvField(field.toStdString())), written);
    }

    void rows()
    {
        QCOMPARE(tl::csvRow({"round", "sparsity", "a,b"}), std::string("round,sparsity,\"a,b\"\n"));
        QCOMPARE(tl::csvRow({"", "1", ""}), std::string(",1,\n"));
        QCOMPARE(tl::csvRow({}), std::string("\n"));
    }
};

QTEST_APPLESS_MAIN(TestCsv)
#include "tst_csv.moc"
