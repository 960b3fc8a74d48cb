#include <QTemporaryDir>
#include <QtTest>

#include "engine/tickets.h"
#include "store/experiment_store.h"
#include "util/error.h"

namespace {

int64_t addRun(tl::ExperimentStore &store, const std::string &kind, uint64_t seed,
               const std::vector<std::pair<double, double>> &sparsityAndMetric)
{
    tl::RunRecord r;
    r.kind = kind;
    r.status = "done";
    r.specJson = "{}";
    r.specHash = kind + std::to_string(seed);
    r.seed = seed;
    r.task = "RTE";
    r.device = "cpu";
    const int64_t id = store.createRun(r);
    int round = 0;
    for (const auto &[s, m] : sparsityAndMetric) {
        tl::RoundRecord rr;
        rr.runId = id;
        rr.round = round++;
        rr.sparsity = s;
        rr.devMetricsJson = "{\"main\": " + std::to_string(m) + "}";
        store.commitRound(rr, {});
    }
    return id;
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
        addRun(*store, "full", 0, {{0.0, 0.70}});
        addRun(*store, "full", 1, {{0.0, 0.66}});
        // IMP, two seeds: means 0.69 (dense), 0.68 (0.2), 0.66 (0.4), 0.60 (0.6).
        addRun(*store, "imp", 0, {{0.0, 0.70}, {0.2, 0.69}, {0.4, 0.67}, {0.6, 0.61}});
        addRun(*store, "imp", 1, {{0.0, 0.68}, {0.2, 0.67}, {0.4, 0.65}, {0.6, 0.59}});
        const tl::TicketSummary within = tl::summarizeTickets(*store, "RTE", "imp", "within_std");
        QCOMPARE(within.fullSeeds, 2);
        QVERIFY(std::abs(within.fullMean - 0.68) < 1e-9);
        QCOMPARE(int(within.points.size()), 4);
        QCOMPARE(within.points[2].seeds, 2);
        QVERIFY(std::abs(within.points[2].mean - 0.66) < 1e-9);
        QVERIFY(within.winningSparsity.has_value());
        QCOMPARE(*within.winningSparsity, 0.4); // 0.66 >= 0.68 - 0.0283
        const tl::TicketSummary match = tl::summarizeTickets(*store, "RTE", "imp", "match");
        QCOMPARE(*match.winningSparsity, 0.2); // 0.68 >= 0.68
        QVERIFY(!tl::summarizeTickets(*store, "SST-2").winningSparsity);
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::summarizeTickets(*store, "RTE", "imp", "best"));
    }
};

QTEST_APPLESS_MAIN(TestTickets)
#include "tst_tickets.moc"
