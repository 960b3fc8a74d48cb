// Early-bird tickets and stored sensitivity scans, torch-free: mask distances on hand-made masks,
// the early-bird rule and spec field, what a round stores and how a lab merge carries it, the
// early-bird report, and a sensitivity scan's JSON form and place in a lab.

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include "analysis/early_bird.h"
#include "analysis/sensitivity_data.h"
#include "engine/run_spec.h"
#include "prune/mask_set.h"
#include "store/experiment_store.h"
#include "store/merge.h"
#include "testdata.h"
#include "testruns.h"
#include "util/error.h"

namespace {

tl::MaskSet mask(std::vector<uint8_t> a, std::vector<uint8_t> b)
{
    tl::MaskSet m;
    m.tensors.push_back({"bert.encoder.layer.0.attention.self.query.weight", {2, 2}, std::move(a)});
    m.tensors.push_back({"bert.encoder.layer.0.output.dense.weight", {2, 3}, std::move(b)});
    return m;
}

using tltest::errorOf;

nlohmann::json impSpec(const nlohmann::json &earlyBird)
{
    nlohmann::json j = {{"model", "/m"}, {"task", "RTE"}, {"data_dir", "/d"}, {"kind", "imp"}};
    if (!earlyBird.is_null())
        j["early_bird"] = earlyBird;
    return j;
}

} // namespace

class TestMaskScience : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void maskDistanceCountsDifferingWeights()
    {
        const tl::MaskSet a = mask({1, 1, 0, 0}, {1, 1, 1, 0, 0, 0});
        QCOMPARE(tl::maskDistance(a, a), 0.0);
        // 1 of 4 and 2 of 6 differ: 3 of 10 weights.
        const tl::MaskSet b = mask({1, 0, 0, 0}, {1, 1, 1, 1, 1, 0});
        QCOMPARE(tl::maskDistance(a, b), 0.3);
        QCOMPARE(tl::maskDistance(b, a), 0.3);
        const tl::MaskSet inverse = mask({0, 0, 1, 1}, {0, 0, 0, 1, 1, 1});
        QCOMPARE(tl::maskDistance(a, inverse), 1.0);
        QCOMPARE(tl::maskDistance(tl::MaskSet{}, tl::MaskSet{}), 0.0);
        tl::MaskSet other = a;
        other.tensors[1].name = "bert.pooler.dense.weight";
        QVERIFY(errorOf([&] { tl::maskDistance(a, other); }).contains(QStringLiteral("bert.pooler.dense.weight")));
        other = a;
        other.tensors.pop_back();
        QVERIFY(errorOf([&] { tl::maskDistance(a, other); }).contains(QStringLiteral("2 and 1 tensors")));
    }

    void earlyBirdRule()
    {
        tl::EarlyBirdSpec e;
        e.epsilon = 0.1;
        e.window = 3;
        QVERIFY(!e.settled({}));
        QVERIFY(!e.settled({0.05, 0.05}));                  // fewer than window draws
        QVERIFY(e.settled({0.5, 0.05, 0.09, 0.01}));        // the last three
        QVERIFY(!e.settled({0.05, 0.05, 0.05, 0.1}));       // below, not equal
        QVERIFY(!e.settled({0.01, 0.01, 0.2, 0.01, 0.01})); // one of the last three above
        e.stop = false;
        QVERIFY(!e.settled({0.01, 0.01, 0.01})); // recording only
        QCOMPARE(e.interval(100), int64_t(10));
        QCOMPARE(e.interval(95), int64_t(10));
        QCOMPARE(e.interval(5), int64_t(1));
        e.every = 7;
        QCOMPARE(e.interval(100), int64_t(7));
    }

    void earlyBirdSpecField()
    {
        const tl::RunSpec plain = tl::RunSpec::fromJson(impSpec(nullptr), "s.json");
        QVERIFY(!plain.earlyBird);
        QVERIFY(!plain.toJson().contains("early_bird")); // older specs keep their hash

        const tl::RunSpec s =
            tl::RunSpec::fromJson(impSpec({{"epsilon", 0.05}, {"window", 2}, {"every", 25}}), "s.json");
        QVERIFY(s.earlyBird);
        QCOMPARE(s.earlyBird->epsilon, 0.05);
        QCOMPARE(s.earlyBird->window, 2);
        QCOMPARE(s.earlyBird->every, int64_t(25));
        QVERIFY(s.earlyBird->stop);
        QVERIFY(s.hash() != plain.hash());
        const tl::RunSpec back = tl::RunSpec::fromJson(s.toJson(), "again");
        QCOMPARE(back.hash(), s.hash());
        QCOMPARE(back.earlyBird->every, int64_t(25));

        const auto error = [](const nlohmann::json &j) { return errorOf([&] { tl::RunSpec::fromJson(j, "s.json"); }); };
        QVERIFY(error(impSpec({{"epsilon", 0}})).contains(QStringLiteral("early_bird.epsilon")));
        QVERIFY(error(impSpec({{"epsilon", 1.5}})).contains(QStringLiteral("(0, 1]")));
        QVERIFY(error(impSpec({{"window", 0}})).contains(QStringLiteral("early_bird.window")));
        QVERIFY(error(impSpec({{"every", -1}})).contains(QStringLiteral("early_bird.every")));
        QVERIFY(error(impSpec({{"stop", "yes"}})).contains(QStringLiteral("early_bird.stop")));
        QVERIFY(error(impSpec({{"epsilom", 0.1}})).contains(QStringLiteral("early_bird.epsilom")));
        nlohmann::json random = impSpec({{"epsilon", 0.1}});
        random["kind"] = "random";
        QVERIFY(error(random).contains(QStringLiteral("only kind \"imp\" takes early_bird")));
        // A transfer of an early-bird run trains one given mask: the field does not follow it.
        const tl::RunSpec t = tl::transferSpec(s, 1, 1, "MRPC", "/d2");
        QVERIFY(!t.earlyBird);
    }

    void roundsStoreDistancesAndMergeCarriesThem()
    {
        QTemporaryDir dir;
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("a.db")).toStdString());
        const tl::RunSpec spec = tl::RunSpec::fromJson(impSpec({{"epsilon", 0.2}, {"window", 2}}), "s");
        const int64_t run = tltest::RunBuilder(tl::RunKind::Imp, "RTE")
                                .spec(spec.toJson().dump(), spec.hash())
                                .status("running")
                                .create(*store);
        auto round = [&](int k, int64_t steps, int64_t stopped, std::vector<tl::MaskDistancePoint> d) {
            tl::RoundRecord r;
            r.runId = run;
            r.round = k;
            r.sparsity = 0.2 * k;
            r.devMetricsJson = nlohmann::json{{"main", 0.7 - 0.05 * k}}.dump();
            r.steps = steps;
            r.earlyBirdStep = stopped;
            store->commitRound(r, {}, nullptr, d);
        };
        round(0, 40, 40, {{0, 20, 0.3}, {0, 30, 0.15}, {0, 40, 0.1}});
        round(1, 30, 30, {{1, 20, 0.1}, {1, 30, 0.05}});
        round(2, 100, 0, {});
        store->setRunStatus(run, "done");

        // Bad draws are refused, and the round stays as it was.
        tl::RoundRecord bad = store->rounds(run)[1];
        QVERIFY(errorOf([&] {
                    store->commitRound(bad, {}, nullptr, {{1, 5, 1.5}});
                }).contains(QStringLiteral("not a fraction")));
        QVERIFY(errorOf([&] {
                    store->commitRound(bad, {}, nullptr, {{0, 5, 0.5}});
                }).contains(QStringLiteral("belongs to round 0")));
        QCOMPARE(store->maskDistances(run).size(), size_t(5));

        const tl::EarlyBirdReport r = tl::earlyBirdReport(*store, run);
        QVERIFY(r.spec);
        QCOMPARE(r.spec->epsilon, 0.2);
        QCOMPARE(r.rounds.size(), size_t(3));
        QCOMPARE(r.rounds[0].stoppedAt, int64_t(40));
        QCOMPARE(r.rounds[0].draws.size(), size_t(3));
        QCOMPARE(r.rounds[1].draws.back().distance, 0.05);
        QCOMPARE(r.rounds[2].stoppedAt, int64_t(0));
        QCOMPARE(r.scheduledSteps, int64_t(100)); // the round that ran in full
        QCOMPARE(r.stepsTrained, int64_t(170));
        QCOMPARE(r.stepsSaved, int64_t(60 + 70));

        // Against a full-length run of the same sparsities: its metric beside each round.
        const int64_t full = tltest::RunBuilder(tl::RunKind::Imp, "RTE", 1)
                                 .rounds({{0.0, 0.71}, {0.2, 0.69}, {0.4, 0.66}})
                                 .create(*store);
        const tl::EarlyBirdReport vs = tl::earlyBirdReport(*store, run, full);
        QVERIFY(vs.rounds[1].againstMetric);
        QCOMPARE(*vs.rounds[1].againstMetric, 0.69);

        // A merge copies the draws and the stop step with the run.
        auto lab = tl::ExperimentStore::open(dir.filePath(QStringLiteral("lab.db")).toStdString());
        const tl::MergeReport m = tl::mergeStore(*lab, *store);
        QCOMPARE(m.added, 2);
        const auto runs = lab->runs();
        const auto merged =
            std::find_if(runs.begin(), runs.end(), [&](const tl::RunRecord &x) { return x.specHash == spec.hash(); });
        QVERIFY(merged != runs.end());
        const auto d = lab->maskDistances(merged->id);
        QCOMPARE(d.size(), size_t(5));
        QCOMPARE(d[3].round, 1);
        QCOMPARE(d[3].step, int64_t(20));
        QCOMPARE(lab->rounds(merged->id)[1].earlyBirdStep, int64_t(30));

        // Deleting the run takes its draws along.
        store->deleteRuns({run});
        QVERIFY(store->maskDistances(run).empty());
    }

    void sensitivityScanJsonAndStore()
    {
        tl::SensitivityScan scan;
        scan.metric = "accuracy";
        scan.baseline = 0.8;
        scan.sparsities = {0.5, 0.9};
        scan.examples = 40;
        scan.cells = {{0, tl::MatrixType::Query, 0.5, 0.79, 0.01},
                      {0, tl::MatrixType::Query, 0.9, 0.6, 0.2},
                      {1, tl::MatrixType::FfnOut, 0.5, 0.5, 0.3},
                      {1, tl::MatrixType::FfnOut, 0.9, 0.5, 0.3}};
        const tl::SensitivityScan back = tl::SensitivityScan::fromJson(scan.toJson(), "scan");
        QCOMPARE(back.cells.size(), size_t(4));
        QCOMPARE(back.layers(), 2);
        QCOMPARE(back.examples, int64_t(40));
        QVERIFY(back.find(1, tl::MatrixType::FfnOut, 0.9));
        QCOMPARE(back.find(0, tl::MatrixType::Query, 0.9)->drop, 0.2);
        QVERIFY(!back.find(0, tl::MatrixType::Key, 0.9));

        nlohmann::json broken = scan.toJson();
        broken["cells"][2]["type"] = "Gate";
        QVERIFY(errorOf([&] {
                    tl::SensitivityScan::fromJson(broken, "scan 3");
                }).contains(QStringLiteral("scan 3: cells[2]: unknown matrix type 'Gate'")));
        broken = scan.toJson();
        broken["cells"][0].erase("drop");
        QVERIFY(errorOf([&] { tl::SensitivityScan::fromJson(broken, "s"); }).contains(QStringLiteral("'drop'")));

        QTemporaryDir dir;
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("lab.db")).toStdString());
        QVERIFY(errorOf([&] { tl::storedSensitivity(*store, 0); }).contains(QStringLiteral("no sensitivity scan")));
        const tl::ModelRecord model{0, "/models/fine-tuned", "{}", "mh"};
        const tl::DatasetRecord data{0, "RTE", "/data/RTE", "dh"};
        const int64_t first = tl::storeSensitivityScan(*store, scan, model, data, "RTE", "before");
        scan.baseline = 0.7;
        const int64_t second =
            tl::storeSensitivityScan(*store, scan, model, {0, "MRPC", "/data/MRPC", "d2"}, "MRPC", "");
        QVERIFY(second > first);
        QCOMPARE(tl::storedSensitivity(*store, 0).id, second);       // the newest
        QCOMPARE(tl::storedSensitivity(*store, 0, "RTE").id, first); // the newest of RTE
        QCOMPARE(tl::storedSensitivity(*store, first).name, std::string("before"));
        QCOMPARE(tl::storedSensitivity(*store, first).model, std::string("/models/fine-tuned"));
        QCOMPARE(tl::storedSensitivity(*store, first).scan.baseline, 0.8);
        QVERIFY(errorOf([&] { tl::storedSensitivity(*store, 0, "CoLA"); }).contains(QStringLiteral("of CoLA")));
        QVERIFY(errorOf([&] { tl::storedSensitivity(*store, 77); }).contains(QStringLiteral("no sensitivity scan 77")));
    }
};

QTEST_GUILESS_MAIN(TestMaskScience)
#include "tst_maskscience.moc"
