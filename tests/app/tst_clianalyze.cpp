// `ticketlab-cli tickets` and `analyze` on a hand-made lab of two models (no training): task and
// metric names, per-(model, task) summaries, transfers per source sparsity, overlap at a common
// sparsity and the head count.

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "testdata.h"
#include "ui/labfixture.h"

namespace {

using Result = tltest::CliResult;

#define EXPECT_FAILS_WITH(r, fragment)                                                                                 \
    do {                                                                                                               \
        QVERIFY2((r).exitCode != 0, (r).out.constData());                                                              \
        QVERIFY2((r).err.contains(fragment), (r).err.constData());                                                     \
    } while (false)

} // namespace

class TestCliAnalyze : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_db;
    tl::test::LabFixture m_lab;
    tl::test::SecondModel m_base;
    int64_t m_round1Transfer = 0;

    Result cli(QStringList args)
    {
        args << QStringLiteral("--db") << m_db;
        return tltest::runCli(args, 60000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_db = m_dir.filePath(QStringLiteral("lab.db"));
        m_lab = tl::test::writeLabFixture(m_db.toStdString());
        m_base = tl::test::addSecondModel(m_db.toStdString());
        // A second transfer SST-2 -> RTE on tiny-bert, of the round-1 mask (11.8 %, 0.59).
        auto store = tl::ExperimentStore::open(m_db.toStdString());
        tl::test::FixtureWriter w{*store, 1, "/models/tiny-bert"};
        m_round1Transfer = w.transferRun(m_lab.impSst1, 1, "RTE", 0, 0.59);
    }

    void ticketsTaskAnyCase()
    {
        const Result r = cli({QStringLiteral("tickets"), QStringLiteral("--task"), QStringLiteral("sst2"),
                              QStringLiteral("--format"), QStringLiteral("json")});
        EXPECT_OK(r);
        // One summary per model, each against its own full model.
        const QList<QJsonObject> lines = r.jsonLines();
        QCOMPARE(lines.size(), 2);
        QCOMPARE(lines[0][QStringLiteral("model")].toString(), QStringLiteral("base-bert"));
        QCOMPARE(lines[0][QStringLiteral("task")].toString(), QStringLiteral("SST-2"));
        QCOMPARE(lines[0][QStringLiteral("full")][QStringLiteral("mean")].toDouble(), 0.81);
        QCOMPARE(lines[0][QStringLiteral("points")].toArray().size(), 4);
        QCOMPARE(lines[1][QStringLiteral("model")].toString(), QStringLiteral("tiny-bert"));
        QCOMPARE(lines[1][QStringLiteral("full")][QStringLiteral("mean")].toDouble(), 0.91);
        QCOMPARE(lines[1][QStringLiteral("full")][QStringLiteral("seeds")].toInt(), 2);
        const Result text = cli({QStringLiteral("tickets"), QStringLiteral("--task"), QStringLiteral("rte")});
        EXPECT_OK(text);
        QVERIFY2(text.out.startsWith("tiny-bert RTE imp (main): full model 0.6000"), text.out.constData());
        QVERIFY2(text.out.contains("(1 seeds)"), text.out.constData());
    }

    void showQuotesCsv()
    {
        // Metric names are data: one with a comma is quoted in CSV; a stored null is an empty cell.
        const QString db = m_dir.filePath(QStringLiteral("show.db"));
        int64_t run = 0;
        {
            auto store = tl::ExperimentStore::open(db.toStdString());
            run = tltest::RunBuilder(tl::RunKind::Imp, "RTE")
                      .metricNames({tl::kMainMetric, "acc, macro"})
                      .extraMetrics({{"mcc", std::nan("")}})
                      .rounds({{0.0, 0.7}, {0.25, 0.65}})
                      .create(*store);
        }
        auto show = [&](const char *format) {
            return tltest::runCli({QStringLiteral("show"), QString::number(run), QStringLiteral("--db"), db,
                                   QStringLiteral("--format"), QString::fromLatin1(format)});
        };
        const Result csv = show("csv");
        EXPECT_OK(csv);
        QCOMPARE(csv.out, QByteArray("round,sparsity,\"acc, macro\",main,mcc\n"
                                     "0,0.000000,0.700000,0.700000,\n"
                                     "1,0.250000,0.650000,0.650000,\n"));
        const Result text = show("text");
        EXPECT_OK(text);
        QCOMPARE(text.out.split('\n').mid(0, 2),
                 (QList<QByteArray>{"RTE imp #" + QByteArray::number(run) + " (seed 0): done",
                                    "round\tsparsity\tacc, macro\tmain\tmcc"}));
        const Result json = show("json");
        EXPECT_OK(json);
        const QJsonObject metrics = QJsonDocument::fromJson(json.out)
                                        .object()[QStringLiteral("rounds")][1][QStringLiteral("metrics")]
                                        .toObject();
        QCOMPARE(metrics[QStringLiteral("acc, macro")].toDouble(), 0.65);
        QVERIFY(metrics[QStringLiteral("mcc")].isNull());
    }

    void ticketsBadNamesAreErrors()
    {
        EXPECT_FAILS_WITH(cli({QStringLiteral("tickets"), QStringLiteral("--task"), QStringLiteral("FOO")}),
                          "unknown task 'FOO'; tasks with runs in");
        EXPECT_FAILS_WITH(cli({QStringLiteral("tickets"), QStringLiteral("--task"), QStringLiteral("mrpc")}),
                          "no runs of task MRPC; tasks with runs: RTE, SST-2");
        EXPECT_FAILS_WITH(cli({QStringLiteral("tickets"), QStringLiteral("--task"), QStringLiteral("RTE"),
                               QStringLiteral("--metric"), QStringLiteral("bogus")}),
                          "unknown metric 'bogus'");
        EXPECT_FAILS_WITH(cli({QStringLiteral("tickets"), QStringLiteral("--task"), QStringLiteral("RTE"),
                               QStringLiteral("--kind"), QStringLiteral("random")}),
                          "no random runs of task RTE");
        EXPECT_FAILS_WITH(cli({QStringLiteral("tickets"), QStringLiteral("--task"), QStringLiteral("RTE"),
                               QStringLiteral("--kind"), QStringLiteral("imps")}),
                          "imps");
        const Result acc = cli({QStringLiteral("tickets"), QStringLiteral("--task"), QStringLiteral("RTE"),
                                QStringLiteral("--metric"), QStringLiteral("accuracy")});
        EXPECT_OK(acc);
        EXPECT_FAILS_WITH(cli({QStringLiteral("analyze"), QStringLiteral("tickets"), QStringLiteral("--metric"),
                               QStringLiteral("bogus")}),
                          "accuracy, main");
        EXPECT_FAILS_WITH(cli({QStringLiteral("analyze"), QStringLiteral("transfer"), QStringLiteral("--metric"),
                               QStringLiteral("bogus")}),
                          "unknown metric 'bogus'");
    }

    void analyzeTicketsPerModel()
    {
        const Result r = cli(
            {QStringLiteral("analyze"), QStringLiteral("tickets"), QStringLiteral("--format"), QStringLiteral("csv")});
        EXPECT_OK(r);
        const QList<QByteArray> lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 4); // header, base-bert SST-2, tiny-bert RTE, tiny-bert SST-2
        QVERIFY(lines[0].startsWith("model,task,full_mean"));
        QVERIFY2(lines[1].startsWith("base-bert,SST-2,0.810000"), lines[1].constData());
        QVERIFY2(lines[2].startsWith("tiny-bert,RTE,0.600000"), lines[2].constData());
        QVERIFY2(lines[3].startsWith("tiny-bert,SST-2,0.910000"), lines[3].constData());
    }

    void transferCellPerSourceSparsity()
    {
        const Result r = cli({QStringLiteral("analyze"), QStringLiteral("transfer"), QStringLiteral("--format"),
                              QStringLiteral("json")});
        EXPECT_OK(r);
        const QJsonArray cells = QJsonDocument::fromJson(r.out).object()[QStringLiteral("cells")].toArray();
        // tiny-bert's SST-2 -> RTE transfers of rounds 1 and 2 stay apart (never one cell at a
        // sparsity that was never run); base-bert's is against its own full model (0.50).
        QCOMPARE(cells.size(), 3);
        auto cell = [&cells](int i) { return cells[i].toObject(); };
        QCOMPARE(cell(0)[QStringLiteral("model")].toString(), QStringLiteral("base-bert"));
        QVERIFY(std::abs(cell(0)[QStringLiteral("delta")].toDouble() - 0.02) < 1e-9);
        QVERIFY(std::abs(cell(1)[QStringLiteral("sparsity")].toDouble() - 128.0 / 1088.0) < 1e-9);
        QCOMPARE(cell(1)[QStringLiteral("source_rounds")].toArray(), QJsonArray{1});
        QVERIFY(std::abs(cell(1)[QStringLiteral("transfer_metric")].toDouble() - 0.59) < 1e-9);
        QVERIFY(std::abs(cell(2)[QStringLiteral("sparsity")].toDouble() - 256.0 / 1088.0) < 1e-9);
        QVERIFY(std::abs(cell(2)[QStringLiteral("transfer_metric")].toDouble() - 0.57) < 1e-9);
        QCOMPARE(cell(2)[QStringLiteral("runs")].toInt(), 1);
        const Result text = cli({QStringLiteral("analyze"), QStringLiteral("transfer")});
        EXPECT_OK(text);
        QVERIFY2(text.out.contains("tiny-bert: SST-2 @ 11.8%"), text.out.constData());
        QVERIFY2(text.out.contains("tiny-bert: SST-2 @ 23.5%"), text.out.constData());
    }

    void overlapAtCommonSparsity()
    {
        // The random run reached round 1 (11.8 %); the IMP runs are compared at their round 1.
        const QString runs = QStringLiteral("%1,%2,%3").arg(m_lab.impSst0).arg(m_lab.impRte).arg(m_lab.randomSst);
        const Result r = cli({QStringLiteral("analyze"), QStringLiteral("overlap"), QStringLiteral("--runs"), runs,
                              QStringLiteral("--format"), QStringLiteral("json")});
        EXPECT_OK(r);
        const QJsonObject j = QJsonDocument::fromJson(r.out).object();
        QVERIFY(std::abs(j[QStringLiteral("common_sparsity")].toDouble() - 128.0 / 1088.0) < 1e-9);
        QCOMPARE(j[QStringLiteral("rounds")].toArray(), (QJsonArray{1, 1, 1}));
        QVERIFY2(j[QStringLiteral("labels")].toArray()[0].toString().endsWith(QStringLiteral("round 1, 11.8%")),
                 r.out.constData());
        const Result text = cli({QStringLiteral("analyze"), QStringLiteral("overlap"), QStringLiteral("--runs"), runs});
        EXPECT_OK(text);
        QVERIFY2(text.out.contains("common sparsity of 11.8%"), text.out.constData());
        const Result round2 =
            cli({QStringLiteral("analyze"), QStringLiteral("overlap"), QStringLiteral("--runs"),
                 QStringLiteral("%1,%2").arg(m_lab.impSst0).arg(m_lab.impRte), QStringLiteral("--round"),
                 QStringLiteral("2"), QStringLiteral("--format"), QStringLiteral("json")});
        EXPECT_OK(round2);
        QCOMPARE(QJsonDocument::fromJson(round2.out).object()[QStringLiteral("rounds")].toArray(), (QJsonArray{2, 2}));
    }

    void headsMustMatchStoredConfig()
    {
        const QString run = QString::number(m_lab.impSst0);
        const QStringList args = {QStringLiteral("analyze"), QStringLiteral("head-survival"),
                                  QStringLiteral("--run"),   run,
                                  QStringLiteral("--round"), QStringLiteral("1")};
        EXPECT_OK(cli(args + QStringList{QStringLiteral("--heads"), QStringLiteral("2")}));
        const Result r = cli(args + QStringList{QStringLiteral("--heads"), QStringLiteral("4")});
        EXPECT_FAILS_WITH(r, "--heads 4");
        QVERIFY2(r.err.contains("has 2 attention heads"), r.err.constData());
    }
};

QTEST_APPLESS_MAIN(TestCliAnalyze)
#include "tst_clianalyze.moc"
