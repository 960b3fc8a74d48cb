#include <QTemporaryDir>
#include <QtTest>

#include "analysis/tickets.h"
#include "store/experiment_store.h"
#include "testdata.h"
#include "testruns.h"
#include "util/error.h"

namespace {

/// A finished run with rounds 0, 1, ... at these (sparsity, metric) pairs, the metric stored as
/// "main" and "accuracy".
int64_t addRun(tl::ExperimentStore &store, tl::RunKind kind, uint64_t seed,
               const std::vector<std::pair<double, double>> &sparsityAndMetric, int64_t modelId = 0,
               const std::string &task = "RTE")
{
    return tltest::RunBuilder(kind, task, seed)
        .model(modelId)
        .metricNames({tl::kMainMetric, "accuracy"})
        .rounds(sparsityAndMetric)
        .create(store);
}

} // namespace

class TestTickets : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void meanAndSampleStd()
    {
        const auto [m, s] = tl::meanStd({0.6, 0.7, 0.8});
        QVERIFY(std::abs(m - 0.7) < 1e-12);
        QVERIFY(std::abs(s - 0.1) < 1e-12);
        QCOMPARE(tl::meanStd({0.5}).second, 0.0);
    }

    void winningTicketByCriterion()
    {
        QTemporaryDir dir;
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("t.db")).toStdString());
        // Full model: 0.70 and 0.66 -> mean 0.68, std 0.0283.
        addRun(*store, tl::RunKind::Full, 0, {{0.0, 0.70}});
        addRun(*store, tl::RunKind::Full, 1, {{0.0, 0.66}});
        // IMP, two seeds: means 0.69 (dense), 0.68 (0.2), 0.66 (0.4), 0.60 (0.6).
        addRun(*store, tl::RunKind::Imp, 0, {{0.0, 0.70}, {0.2, 0.69}, {0.4, 0.67}, {0.6, 0.61}});
        addRun(*store, tl::RunKind::Imp, 1, {{0.0, 0.68}, {0.2, 0.67}, {0.4, 0.65}, {0.6, 0.59}});
        const tl::TicketSummary within = tl::summarizeTickets(*store, 0, "RTE", tl::RunKind::Imp, "within_std");
        QCOMPARE(within.fullSeeds, 2);
        QVERIFY(std::abs(within.fullMean - 0.68) < 1e-9);
        QCOMPARE(int(within.points.size()), 4);
        QCOMPARE(within.points[2].seeds, 2);
        QVERIFY(std::abs(within.points[2].mean - 0.66) < 1e-9);
        QVERIFY(within.winningSparsity.has_value());
        QCOMPARE(*within.winningSparsity, 0.4); // 0.66 >= 0.68 - 0.0283
        const tl::TicketSummary match = tl::summarizeTickets(*store, 0, "RTE", tl::RunKind::Imp, "match");
        QCOMPARE(*match.winningSparsity, 0.2); // 0.68 >= 0.68
        QVERIFY(!tl::summarizeTickets(*store, 0, "SST-2").winningSparsity);
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::summarizeTickets(*store, 0, "RTE", tl::RunKind::Imp, "best"));
    }

    void matchAllowsRoundingOfEqualMeans()
    {
        // Full model 0.50 and 0.66, IMP 0.57 and 0.59: both means are 0.58, but summed in another
        // order they differ in the last bit (0.58000000000000007 against 0.57999999999999996).
        QTemporaryDir dir;
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("t.db")).toStdString());
        addRun(*store, tl::RunKind::Full, 0, {{0.0, 0.50}});
        addRun(*store, tl::RunKind::Full, 1, {{0.0, 0.66}});
        addRun(*store, tl::RunKind::Imp, 0, {{0.0, 0.70}, {0.2, 0.57}});
        addRun(*store, tl::RunKind::Imp, 1, {{0.0, 0.70}, {0.2, 0.59}});
        const tl::TicketSummary match = tl::summarizeTickets(*store, 0, "RTE", tl::RunKind::Imp, "match");
        QVERIFY(match.points[1].mean < match.fullMean); // the rounding this test is about
        QVERIFY(match.winningSparsity.has_value());
        QCOMPARE(*match.winningSparsity, 0.2);
        QVERIFY(tl::metricAtLeast(0.58, 0.58 + 1e-13));
        QVERIFY(!tl::metricAtLeast(0.58, 0.58 + 1e-9));
    }

    void sparsitiesGroupToATenthOfAPercent()
    {
        // Rounds are exact fractions of their run's prunable count: a 50% target gives 0.49999987
        // in one model and 0.5000002 in another; a study's "at": [0.5] names both.
        QCOMPARE(tl::sparsityKey(0.49999987), tl::sparsityKey(0.5));
        QCOMPARE(tl::sparsityKey(0.5000002), tl::sparsityKey(0.5));
        QVERIFY(tl::sparsityKey(0.501) != tl::sparsityKey(0.5));
        QVERIFY(tl::sparsityKey(0.499) != tl::sparsityKey(0.5));
        QCOMPARE(tl::sparsityOfKey(tl::sparsityKey(0.39999991)), 0.4);
        QTemporaryDir dir;
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("t.db")).toStdString());
        addRun(*store, tl::RunKind::Full, 0, {{0.0, 0.70}});
        addRun(*store, tl::RunKind::Imp, 0, {{0.0, 0.70}, {0.49999987, 0.60}, {0.6999998, 0.50}});
        addRun(*store, tl::RunKind::Imp, 1, {{0.0, 0.70}, {0.5000002, 0.64}, {0.701, 0.40}});
        const tl::TicketSummary s = tl::summarizeTickets(*store, 0, "RTE", tl::RunKind::Imp, "within_std");
        QCOMPARE(int(s.points.size()), 4); // 0, 0.5 (both seeds), 0.7 and 0.701 apart
        // A round's own sparsity, as stored (so that the point finds its rounds again).
        QVERIFY(s.points[1].sparsity == 0.49999987 || s.points[1].sparsity == 0.5000002);
        QCOMPARE(s.points[1].seeds, 2);
        QVERIFY(std::abs(s.points[1].mean - 0.62) < 1e-9);
        QCOMPARE(s.points[2].seeds, 1);
        QCOMPARE(s.points[3].seeds, 1);
    }

    void twoModelsNeverMix()
    {
        // The same task on two models: each model's IMP runs are judged against its own full
        // model (grouped by task alone, the full model would read 0.705 +- 0.11 over four seeds
        // and the points would average both models).
        QTemporaryDir dir;
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("t.db")).toStdString());
        const int64_t base = store->upsertModel({0, "/models/base", "{}", "h-base"});
        const int64_t large = store->upsertModel({0, "/models/large", "{}", "h-large"});
        addRun(*store, tl::RunKind::Full, 0, {{0.0, 0.60}}, base);
        addRun(*store, tl::RunKind::Full, 1, {{0.0, 0.62}}, base);
        addRun(*store, tl::RunKind::Imp, 0, {{0.0, 0.60}, {0.2, 0.55}, {0.4, 0.50}}, base);
        addRun(*store, tl::RunKind::Full, 0, {{0.0, 0.80}}, large);
        addRun(*store, tl::RunKind::Full, 1, {{0.0, 0.80}}, large);
        addRun(*store, tl::RunKind::Imp, 0, {{0.0, 0.80}, {0.2, 0.80}, {0.4, 0.60}}, large);
        addRun(*store, tl::RunKind::Imp, 0, {{0.0, 0.70}}, large, "MRPC");

        const tl::TicketSummary b = tl::summarizeTickets(*store, base, "RTE");
        QCOMPARE(b.model, std::string("base"));
        QCOMPARE(b.fullSeeds, 2);
        QVERIFY(std::abs(b.fullMean - 0.61) < 1e-9);
        QCOMPARE(int(b.points.size()), 3);
        QCOMPARE(b.points[1].seeds, 1);
        QVERIFY(std::abs(b.points[1].mean - 0.55) < 1e-9);
        QVERIFY(b.winningSparsity && *b.winningSparsity == 0.0);
        const tl::TicketSummary l = tl::summarizeTickets(*store, large, "RTE");
        QCOMPARE(l.fullSeeds, 2);
        QVERIFY(std::abs(l.fullMean - 0.80) < 1e-9);
        QCOMPARE(l.fullStd, 0.0);
        QVERIFY(l.winningSparsity && std::abs(*l.winningSparsity - 0.2) < 1e-12);

        const auto all = tl::summarizeAllTickets(*store);
        QCOMPARE(int(all.size()), 3); // (base, RTE), (large, MRPC), (large, RTE)
        QCOMPARE(all[0].model + " " + all[0].task, std::string("base RTE"));
        QCOMPARE(all[1].model + " " + all[1].task, std::string("large MRPC"));
        QCOMPARE(all[2].model + " " + all[2].task, std::string("large RTE"));
        QVERIFY(std::abs(all[2].fullMean - 0.80) < 1e-9);
        QCOMPARE(int(tl::summarizeAllTickets(*store, tl::RunKind::Imp, "within_std", "main", "RTE").size()), 2);
        QVERIFY(tl::summarizeAllTickets(*store, tl::RunKind::Random).empty());
    }

    void modelLabelsAreUnique()
    {
        QTemporaryDir dir;
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("t.db")).toStdString());
        const int64_t a = store->upsertModel({0, "/a/bert", "{}", "aaaaaaaaaaaa"});
        const int64_t b = store->upsertModel({0, "/b/bert", "{}", "bbbbbbbbbbbb"});
        const int64_t c = store->upsertModel({0, "/c/tiny/", "{}", "cccccccccccc"});
        const int64_t c2 = store->upsertModel({0, "/c/tiny/", "{}", "dddddddddddd"}); // retrained in place
        const int64_t unused = store->upsertModel({0, "/d/unused", "{}", "e"});
        for (int64_t id : {a, b, c, c2, int64_t(0)})
            addRun(*store, tl::RunKind::Imp, 0, {{0.0, 0.5}}, id);
        const auto labels = tl::modelLabels(*store);
        QCOMPARE(labels.at(a), std::string("/a/bert")); // two folders named bert: full paths
        QCOMPARE(labels.at(b), std::string("/b/bert"));
        QCOMPARE(labels.at(c), std::string("tiny @cccccccc"));
        QCOMPARE(labels.at(c2), std::string("tiny @dddddddd"));
        QCOMPARE(labels.at(0), std::string("(no model)"));
        QVERIFY(!labels.count(unused)); // no run uses it
    }

    void tasksAndMetricsByName()
    {
        QTemporaryDir dir;
        const std::string db = dir.filePath(QStringLiteral("t.db")).toStdString();
        auto store = tl::ExperimentStore::open(db);
        addRun(*store, tl::RunKind::Imp, 0, {{0.0, 0.7}}, 0, "MRPC");
        addRun(*store, tl::RunKind::Imp, 0, {{0.0, 0.7}}, 0, "SST-2");
        addRun(*store, tl::RunKind::Imp, 0, {{0.0, 0.7}}, 0, "mlm");
        QCOMPARE(tl::resolveStoredTask(*store, "mrpc"), std::string("MRPC"));
        QCOMPARE(tl::resolveStoredTask(*store, "Mrpc"), std::string("MRPC"));
        QCOMPARE(tl::resolveStoredTask(*store, "sst2"), std::string("SST-2"));
        QCOMPARE(tl::resolveStoredTask(*store, "MLM"), std::string("mlm"));
        // A task without runs names the lab's tasks; a name that is no task also the known ones.
        EXPECT_ERROR(tl::resolveStoredTask(*store, "rte"), "no runs of task RTE; tasks with runs: MRPC, SST-2, mlm");
        EXPECT_ERROR(tl::resolveStoredTask(*store, "FOO"), "unknown task 'FOO'");
        EXPECT_ERROR(tl::resolveStoredTask(*store, "FOO"), "MRPC, SST-2, mlm");
        EXPECT_ERROR(tl::resolveStoredTask(*store, "FOO"), "QNLI");

        tl::requireStoredMetric(*store, "main");
        tl::requireStoredMetric(*store, "accuracy", "MRPC");
        EXPECT_ERROR(tl::requireStoredMetric(*store, "bogus"), "unknown metric 'bogus'");
        EXPECT_ERROR(tl::requireStoredMetric(*store, "bogus", "MRPC"), "accuracy, main");
        EXPECT_ERROR(tl::requireStoredMetric(*store, "bogus", "MRPC"), db);
    }
};

QTEST_APPLESS_MAIN(TestTickets)
#include "tst_tickets.moc"
