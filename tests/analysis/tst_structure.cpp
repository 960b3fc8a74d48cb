// Structure in masks on hand-made masks whose answers are known: which heads and neurons are
// alive, pruning whole units, choosing them by importance or at random, importance as JSON and
// in a lab, and a compacted model's config (pruned_heads, intermediate_sizes).

#include <set>

#include <QTemporaryDir>
#include <QtTest>

#include "analysis/structure.h"
#include "engine/run_spec.h"
#include "model/bert_config.h"
#include "store/experiment_store.h"
#include "testdata.h"
#include "testruns.h"
#include "util/error.h"

namespace {

/// Two layers, hidden 8, 2 heads of 4, FFN 16, and the pooler: all kept.
tl::MaskSet dense()
{
    tl::MaskSet m;
    auto add = [&](const std::string &name, int64_t rows, int64_t cols) {
        m.tensors.push_back({name, {rows, cols}, std::vector<uint8_t>(size_t(rows * cols), 1)});
    };
    for (int l = 0; l < 2; ++l) {
        const std::string p = "bert.encoder.layer." + std::to_string(l) + ".";
        for (const char *t :
             {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"})
            add(p + t + ".weight", 8, 8);
        add(p + "intermediate.dense.weight", 16, 8);
        add(p + "output.dense.weight", 8, 16);
    }
    add("bert.pooler.dense.weight", 8, 8);
    return m;
}

using tltest::errorOf;

} // namespace

class TestStructure : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void denseMaskIsAllAlive()
    {
        const tl::MaskStructure s = tl::maskStructure(dense(), 2);
        QCOMPARE(s.headAlive.size(), size_t(2));
        QCOMPARE(s.headsTotal(), int64_t(4));
        QCOMPARE(s.headsAlive(), int64_t(4));
        QCOMPARE(s.neuronsTotal(), int64_t(32));
        QCOMPARE(s.neuronsAlive(), int64_t(32));
        QCOMPARE(s.headsRemoved(), 0.0);
        QVERIFY(errorOf([] { tl::maskStructure(dense(), 3); }).contains(QStringLiteral("3 heads do not divide")));
    }

    void pruneUnitsRemovesRowsAndColumns()
    {
        tl::MaskSet m = dense();
        tl::pruneUnits(m, 2, {{0, 1}}, {{1, 3}, {1, 15}});
        // Head 1 of layer 0: rows 4..7 of Q, K, V and columns 4..7 of the attention output.
        const tl::MaskTensor *q = m.find("bert.encoder.layer.0.attention.self.query.weight");
        for (int r = 0; r < 8; ++r)
            for (int c = 0; c < 8; ++c)
                QCOMPARE(int(q->keep[size_t(r * 8 + c)]), r < 4 ? 1 : 0);
        const tl::MaskTensor *o = m.find("bert.encoder.layer.0.attention.output.dense.weight");
        for (int r = 0; r < 8; ++r)
            for (int c = 0; c < 8; ++c)
                QCOMPARE(int(o->keep[size_t(r * 8 + c)]), c < 4 ? 1 : 0);
        // 4 matrices x 32 weights for the head, 2 neurons x (8 + 8) weights.
        QCOMPARE(m.total() - m.kept(), int64_t(4 * 32 + 2 * 16));
        const tl::MaskStructure s = tl::maskStructure(m, 2);
        QCOMPARE(s.headAlive[0], (std::vector<uint8_t>{1, 0}));
        QCOMPARE(s.headAlive[1], (std::vector<uint8_t>{1, 1}));
        QCOMPARE(s.headsRemoved(), 0.25);
        QCOMPARE(s.neuronsAlive(), int64_t(30));
        QCOMPARE(int(s.neuronAlive[1][3]), 0);
        QCOMPARE(int(s.neuronAlive[1][4]), 1);

        // A head with one weight left in any of its four matrices is alive.
        tl::MaskSet partly = m;
        partly.find("bert.encoder.layer.0.attention.output.dense.weight")->keep[size_t(2 * 8 + 5)] = 1;
        QCOMPARE(tl::maskStructure(partly, 2).headAlive[0], (std::vector<uint8_t>{1, 1}));
        // Unstructured sparsity leaves every unit alive.
        tl::MaskSet sparse = dense();
        for (tl::MaskTensor &t : sparse.tensors)
            for (size_t i = 0; i < t.keep.size(); i += 2)
                t.keep[i] = 0;
        QCOMPARE(tl::maskStructure(sparse, 2).headsAlive(), int64_t(4));

        QVERIFY(errorOf([&] { tl::pruneUnits(m, 2, {{0, 2}}, {}); }).contains(QStringLiteral("head 2 of layer 0")));
        QVERIFY(errorOf([&] { tl::pruneUnits(m, 2, {{5, 0}}, {}); }).contains(QStringLiteral("layer 5")));
        QVERIFY(errorOf([&] { tl::pruneUnits(m, 2, {}, {{0, 16}}); }).contains(QStringLiteral("neuron 16")));
    }

    void chooseUnitsByImportanceAndAtRandom()
    {
        const std::vector<std::vector<uint8_t>> alive = {{1, 1, 0}, {1, 1, 1}};
        const std::vector<std::vector<double>> scores = {{0.5, 0.1, 0.0}, {0.3, 0.1, 0.9}};
        // The dead unit (0, 2) is never chosen, though its score is the lowest; the tie 0.1 goes
        // to the earlier position.
        QCOMPARE(tl::chooseUnits(alive, scores, 1), (std::vector<tl::UnitId>{{0, 1}}));
        QCOMPARE(tl::chooseUnits(alive, scores, 3), (std::vector<tl::UnitId>{{0, 1}, {1, 0}, {1, 1}}));
        QVERIFY(tl::chooseUnits(alive, scores, 0).empty());
        QVERIFY(errorOf([&] { tl::chooseUnits(alive, scores, 6); }).contains(QStringLiteral("6 of 5 alive")));
        QVERIFY(errorOf([&] {
                    tl::chooseUnits(alive, {{0.1, 0.2, 0.3}}, 1);
                }).contains(QStringLiteral("scores for 1 layers")));
        // At random: repeatable for a seed, only alive units, and every alive unit reachable.
        const auto a = tl::chooseUnits(alive, {}, 2, 7);
        QCOMPARE(tl::chooseUnits(alive, {}, 2, 7), a);
        std::set<std::pair<int, int>> seen;
        for (uint64_t seed = 0; seed < 64; ++seed)
            for (const tl::UnitId &u : tl::chooseUnits(alive, {}, 2, seed)) {
                QVERIFY(alive[size_t(u.layer)][size_t(u.index)]);
                seen.insert({u.layer, u.index});
            }
        QCOMPARE(seen.size(), size_t(5));
    }

    void importanceJsonAndStore()
    {
        tl::UnitImportance u;
        u.heads = {{0.6, 0.8}, {1.0, 0.0}};
        u.neurons = {{1.0}, {0.0}};
        u.examples = 12;
        u.split = "train";
        const tl::UnitImportance back = tl::UnitImportance::fromJson(u.toJson(), "x");
        QCOMPARE(back.heads, u.heads);
        QCOMPARE(back.neurons, u.neurons);
        QCOMPARE(back.examples, int64_t(12));
        nlohmann::json bad = u.toJson();
        bad["heads"][1][0] = "high";
        QVERIFY(errorOf([&] {
                    tl::UnitImportance::fromJson(bad, "imp 3");
                }).contains(QStringLiteral("imp 3: heads[1] holds \"high\"")));

        QTemporaryDir dir;
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("lab.db")).toStdString());
        const int64_t run = tltest::RunBuilder(tl::RunKind::Imp, "RTE").rounds({{0, 0.6}, {0.25, 0.6}}).create(*store);
        QVERIFY(!tl::storedUnitImportance(*store, run, 0));
        tl::storeUnitImportance(*store, run, 0, u, "train");
        u.heads[0][0] = 0.0;
        tl::storeUnitImportance(*store, run, 0, u, "train"); // a redone round replaces its scores
        tl::storeUnitImportance(*store, run, 1, u, "dev");
        QCOMPARE(store->runAnalyses(run).size(), size_t(2));
        QCOMPARE(tl::storedUnitImportance(*store, run, 0)->heads[0][0], 0.0);
        QCOMPARE(tl::storedUnitImportance(*store, run, 1)->split, std::string("dev"));
        QCOMPARE(store->runAnalyses(run)[0].task, std::string("RTE"));
        store->deleteRuns({run});
        QVERIFY(store->analyses().empty()); // deleted with the run
    }

    void structuredSpecs()
    {
        const auto spec = [](const std::string &kind, const nlohmann::json &prune) {
            nlohmann::json j = {{"model", "/m"}, {"task", "RTE"}, {"data_dir", "/d"}, {"kind", kind}, {"prune", prune}};
            if (kind == "reinit")
                j["source"] = {{"run", 1}};
            return j;
        };
        const tl::RunSpec heads =
            tl::RunSpec::fromJson(spec("imp", {{"method", "heads"}, {"step", 0.25}, {"rounds", 2}}), "s.json");
        QVERIFY(heads.prune.structured());
        QVERIFY(!heads.prune.prunesNeurons());
        QCOMPARE(heads.prune.importanceSplit, std::string("train"));
        QCOMPARE(heads.prune.importanceExamples, 512);
        QCOMPARE(heads.toJson()["prune"]["importance_examples"].get<int>(), 512);
        const tl::RunSpec magnitude = tl::RunSpec::fromJson(spec("imp", {{"step", 0.25}, {"rounds", 2}}), "s.json");
        QVERIFY(!magnitude.toJson()["prune"].contains("importance_split")); // older specs keep their hash
        QVERIFY(tl::RunSpec::fromJson(spec("random", {{"method", "heads_and_neurons"}, {"importance_split", "dev"}}),
                                      "s.json")
                    .prune.prunesNeurons());
        QVERIFY(tl::RunSpec::fromJson(spec("reinit", {{"method", "heads"}}), "s.json").prune.structured());

        const auto error = [](const nlohmann::json &j) { return errorOf([&] { tl::RunSpec::fromJson(j, "s.json"); }); };
        QVERIFY(error(spec("standard", {{"method", "heads"}})).contains(QStringLiteral("prune.method")));
        QVERIFY(error(spec("oneshot", {{"method", "heads"}})).contains(QStringLiteral("not \"oneshot\"")));
        QVERIFY(
            error(spec("imp", {{"importance_examples", 10}})).contains(QStringLiteral("prune.importance_examples")));
        QVERIFY(error(spec("imp", {{"method", "heads"}, {"importance_split", "test"}}))
                    .contains(QStringLiteral("prune.importance_split")));
        nlohmann::json mlm = spec("imp", {{"method", "heads"}});
        mlm["task"] = "mlm";
        QVERIFY(error(mlm).contains(QStringLiteral("task mlm")));
        nlohmann::json eb = spec("imp", {{"method", "heads"}});
        eb["early_bird"] = nlohmann::json::object();
        QVERIFY(error(eb).contains(QStringLiteral("early_bird")));
    }

    void compactedConfig()
    {
        tl::BertConfig c = tl::BertConfig::preset("tiny"); // 2 layers, 2 heads, FFN 512
        nlohmann::json j = c.toJson();
        QVERIFY(!j.contains("pruned_heads"));
        QVERIFY(!j.contains("intermediate_sizes"));
        j["pruned_heads"] = {{"1", {1, 0}}};
        j["intermediate_sizes"] = {512, 300};
        const tl::BertConfig p = tl::BertConfig::fromJson(j, "config.json");
        QVERIFY(p.compacted());
        QCOMPARE(p.headsIn(0), int64_t(2));
        QCOMPARE(p.headsIn(1), int64_t(0));
        QCOMPARE(p.keptHeads(0), (std::vector<int64_t>{0, 1}));
        QCOMPARE(p.intermediateSizeOf(1), int64_t(300));
        QCOMPARE(tl::BertConfig::fromJson(p.toJson(), "again").prunedHeads, p.prunedHeads);
        QVERIFY(!p.extra.contains("pruned_heads")); // owned, not carried as an unknown key

        const auto error = [&](const nlohmann::json &patch) {
            nlohmann::json k = c.toJson();
            k.update(patch);
            return errorOf([&] { tl::BertConfig::fromJson(k, "config.json"); });
        };
        QVERIFY(error({{"pruned_heads", {{"0", {2}}}}}).contains(QStringLiteral("head 2 does not exist")));
        QVERIFY(error({{"pruned_heads", {{"5", {0}}}}}).contains(QStringLiteral("layer 5 does not exist")));
        QVERIFY(error({{"pruned_heads", {{"x", {0}}}}}).contains(QStringLiteral("'x' is not a layer index")));
        QVERIFY(error({{"pruned_heads", {{"0", {1, 1}}}}}).contains(QStringLiteral("twice")));
        QVERIFY(error({{"intermediate_sizes", {512}}}).contains(QStringLiteral("1 entries for 2 layers")));
        QVERIFY(error({{"intermediate_sizes", {512, 600}}}).contains(QStringLiteral("larger than intermediate_size")));
        QVERIFY(error({{"intermediate_sizes", {512, 600}}}).contains(QStringLiteral("key 'intermediate_sizes'")));
    }
};

QTEST_GUILESS_MAIN(TestStructure)
#include "tst_structure.moc"
