#include <algorithm>
#include <memory>
#include <tuple>

#include <QTemporaryDir>
#include <QtTest>

#include "analysis/analysis.h"
#include "prune/prune_order.h"
#include "store/experiment_store.h"
#include "testdata.h"
#include "testruns.h"
#include "util/error.h"

namespace {

const std::string kPrefix = "bert.encoder.layer.";

std::string param(int layer, const std::string &suffix)
{
    return kPrefix + std::to_string(layer) + "." + suffix;
}

/// A dense mask shaped like BERT with hidden 4, intermediate 8 and two layers (2 heads of
/// d = 2 when split in two), plus the pooler.
tl::MaskSet tinyBert()
{
    tl::MaskSet m;
    auto add = [&m](const std::string &name, std::vector<int64_t> shape) {
        const int64_t n = shape[0] * shape[1];
        m.tensors.push_back({name, std::move(shape), std::vector<uint8_t>(size_t(n), 1)});
    };
    for (int layer = 0; layer < 2; ++layer) {
        add(param(layer, "attention.self.query.weight"), {4, 4});
        add(param(layer, "attention.self.key.weight"), {4, 4});
        add(param(layer, "attention.self.value.weight"), {4, 4});
        add(param(layer, "attention.output.dense.weight"), {4, 4});
        add(param(layer, "intermediate.dense.weight"), {8, 4});
        add(param(layer, "output.dense.weight"), {4, 8});
    }
    add("bert.pooler.dense.weight", {4, 4});
    return m;
}

void pruneRow(tl::MaskSet &m, const std::string &name, int64_t row)
{
    tl::MaskTensor *t = m.find(name);
    QVERIFY(t);
    for (int64_t c = 0; c < t->shape[1]; ++c)
        t->keep[size_t(row * t->shape[1] + c)] = 0;
}

void pruneColumn(tl::MaskSet &m, const std::string &name, int64_t col)
{
    tl::MaskTensor *t = m.find(name);
    QVERIFY(t);
    for (int64_t r = 0; r < t->shape[0]; ++r)
        t->keep[size_t(r * t->shape[1] + col)] = 0;
}

/// The known pattern of the head tests: see headFractions().
tl::MaskSet prunedTinyBert()
{
    tl::MaskSet m = tinyBert();
    pruneRow(m, param(0, "attention.self.query.weight"), 0);      // layer 0 head 0
    pruneRow(m, param(0, "attention.self.query.weight"), 1);      // layer 0 head 0
    pruneRow(m, param(0, "attention.self.key.weight"), 3);        // layer 0 head 1
    m.find(param(1, "attention.self.value.weight"))->keep[2] = 0; // row 0: layer 1 head 0
    pruneColumn(m, param(1, "attention.output.dense.weight"), 2); // layer 1 head 1, input side only
    pruneColumn(m, param(1, "attention.output.dense.weight"), 3);
    pruneColumn(m, param(1, "intermediate.dense.weight"), 3); // FFN: no head's business
    pruneRow(m, param(0, "output.dense.weight"), 0);
    return m;
}

bool near(double a, double b)
{
    return std::abs(a - b) < 1e-12;
}

tl::MaskTensor tensor(const std::string &name, std::vector<int64_t> shape, std::vector<uint8_t> keep)
{
    return {name, std::move(shape), std::move(keep)};
}

// ---- store fixture ---------------------------------------------------------------------------

const std::string kQ = "bert.encoder.layer.0.attention.self.query.weight";
const std::string kF = "bert.encoder.layer.0.intermediate.dense.weight";

/// 12 weights: Q [2, 4] and FFN-in [2, 2].
tl::MaskSet smallMask(std::vector<uint8_t> q, std::vector<uint8_t> f)
{
    tl::MaskSet m;
    m.tensors.push_back(tensor(kQ, {2, 4}, std::move(q)));
    m.tensors.push_back(tensor(kF, {2, 2}, std::move(f)));
    return m;
}

struct Fixture
{
    QTemporaryDir dir;
    std::unique_ptr<tl::ExperimentStore> store;
    int64_t model = 0, large = 0;
    int64_t imp0 = 0, imp1 = 0, full0 = 0, full1 = 0, mrpcImp = 0, noMasks = 0, noHeads = 0;
    int64_t toMrpc0 = 0, toMrpc1 = 0, toMrpcRound1 = 0, toRte = 0, toSst = 0, fromFile = 0;
    int64_t largeFull = 0, largeImp = 0, largeMrpcImp = 0, largeToRte = 0;

    /// A finished run; every round's dev metrics hold its metric as "main" and f1 0.5.
    static tltest::RunBuilder run(tl::RunKind kind, const std::string &task, uint64_t seed, int64_t modelId = 0)
    {
        return tltest::RunBuilder(kind, task, seed).model(modelId).extraMetrics({{"f1", 0.5}});
    }

    static tl::PruneOrder order(const std::vector<tl::MaskSet> &masks, int firstRound = 1)
    {
        tl::PruneOrder o = tl::PruneOrder::fromMask(smallMask(std::vector<uint8_t>(8, 1), std::vector<uint8_t>(4, 1)));
        int round = firstRound;
        for (const tl::MaskSet &m : masks)
            o.record(m, round++);
        return o;
    }

    // Masks of the IMP runs (rounds 1 and 2: sparsity 3/12 = 0.25, 6/12 = 0.5).
    const tl::MaskSet a1 = smallMask({1, 1, 1, 1, 1, 1, 0, 0}, {1, 1, 1, 0});
    const tl::MaskSet a2 = smallMask({1, 1, 1, 1, 0, 0, 0, 0}, {1, 1, 0, 0});
    const tl::MaskSet b1 = smallMask({0, 0, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 0});
    const tl::MaskSet b2 = smallMask({0, 0, 0, 0, 1, 1, 1, 1}, {0, 1, 1, 0});

    Fixture()
    {
        store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("lab.db")).toStdString());
        model = store->upsertModel({0, "/models/tiny", R"({"hidden_size": 4, "num_attention_heads": 2})", "h1"});
        const int64_t odd = store->upsertModel({0, "/models/odd", R"({"hidden_size": 4})", "h2"});
        // A second model with results of its own on the same tasks: they must never mix with
        // the tiny model's (its full model on RTE is 0.90, tiny's 0.70).
        large = store->upsertModel({0, "/models/large", R"({"hidden_size": 4, "num_attention_heads": 4})", "h3"});
        using K = tl::RunKind;
        imp0 = run(K::Imp, "RTE", 0, model)
                   .order(order({a1, a2}))
                   .rounds({{0.0, 0.70}, {0.25, 0.68}, {0.5, 0.60}})
                   .create(*store);
        imp1 = run(K::Imp, "RTE", 1, model)
                   .order(order({b1, b2}))
                   .rounds({{0.0, 0.66}, {0.25, 0.66}, {0.5, 0.58}})
                   .create(*store);
        full0 = run(K::Full, "RTE", 0, model).order(order({})).rounds({{0.0, 0.72}}).create(*store);
        full1 = run(K::Full, "RTE", 1, model).order(order({})).rounds({{0.0, 0.68}}).create(*store);
        mrpcImp = run(K::Imp, "MRPC", 0, model)
                      .order(order({a1, a2}))
                      .rounds({{0.0, 0.80}, {0.25, 0.79}, {0.5, 0.75}})
                      .create(*store);
        noHeads = run(K::Imp, "RTE", 2, odd).create(*store);
        largeFull = run(K::Full, "RTE", 0, large).order(order({})).rounds({{0.0, 0.90}}).create(*store);
        largeImp = run(K::Imp, "RTE", 0, large)
                       .order(order({a1, a2}))
                       .rounds({{0.0, 0.90}, {0.25, 0.89}, {0.5, 0.85}})
                       .create(*store);
        largeMrpcImp = run(K::Imp, "MRPC", 0, large)
                           .order(order({b1, b2}))
                           .rounds({{0.0, 0.95}, {0.25, 0.94}, {0.5, 0.93}})
                           .create(*store);
        noMasks =
            tltest::RunBuilder(K::Imp, "QNLI").metricNames({}).round(0, 0.0, 0.0).create(*store); // dev metrics {}

        // Transfers record the source mask at the source's round index (lower rounds dense).
        auto transfer = [this](const std::string &task, int64_t source, int round, const tl::MaskSet &mask,
                               double sparsity, double metric, int64_t modelId) {
            return run(K::Transfer, task, 0, modelId)
                .transferFrom(source, round)
                .order(order({mask}, round))
                .round(round, sparsity, metric)
                .create(*store);
        };
        toMrpc0 = transfer("MRPC", imp0, 2, a2, 0.5, 0.76, model);
        toMrpc1 = transfer("MRPC", imp1, 2, b2, 0.5, 0.72, model);
        toMrpcRound1 = transfer("MRPC", imp0, 1, a1, 0.25, 0.78, model);
        toRte = transfer("RTE", mrpcImp, 1, a1, 0.25, 0.69, model);
        toSst = transfer("SST-2", mrpcImp, 2, a2, 0.5, 0.90, model);
        largeToRte = transfer("RTE", largeMrpcImp, 1, b1, 0.25, 0.88, large);
        fromFile = run(K::Transfer, "RTE", 3)
                       .transferFrom(0, 0, "/masks/x.pt")
                       .order(order({a2}))
                       .round(0, 0.5, 0.10)
                       .create(*store);
    }
};

bool sameMask(const tl::MaskSet &a, const tl::MaskSet &b)
{
    if (a.tensors.size() != b.tensors.size())
        return false;
    for (const tl::MaskTensor &t : a.tensors) {
        const tl::MaskTensor *u = b.find(t.name);
        if (!u || u->shape != t.shape || u->keep != t.keep)
            return false;
    }
    return true;
}

} // namespace

class TestAnalysis : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void locatesHuggingFaceNames_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("layer");
        QTest::addColumn<int>("type");
        using T = tl::MatrixType;
        auto row = [](const char *name, int layer, T type) {
            QTest::newRow(name) << QString::fromLatin1(name) << layer << int(type);
        };
        row("bert.encoder.layer.3.attention.self.query.weight", 3, T::Query);
        row("bert.encoder.layer.3.attention.self.key.weight", 3, T::Key);
        row("encoder.layer.3.attention.self.value.weight", 3, T::Value);
        row("bert.encoder.layer.11.attention.output.dense.weight", 11, T::AttentionOutput);
        row("bert.encoder.layer.0.intermediate.dense.weight", 0, T::FfnIn);
        row("bert.encoder.layer.11.output.dense.weight", 11, T::FfnOut);
        row("encoder.layer.2.output.dense.weight", 2, T::FfnOut);
        row("bert.pooler.dense.weight", -1, T::Pooler);
        row("pooler.dense.weight", -1, T::Pooler);
        row("bert.embeddings.word_embeddings.weight", -1, T::WordEmbeddings);
        row("bert.embeddings.position_embeddings.weight", -1, T::PositionEmbeddings);
        row("embeddings.token_type_embeddings.weight", -1, T::TokenTypeEmbeddings);
        // Not prunable matrices, or not BERT's.
        row("bert.encoder.layer.3.attention.output.dense.bias", 3, T::Other);
        row("bert.encoder.layer.3.attention.output.LayerNorm.weight", 3, T::Other);
        row("bert.encoder.layer.3.output.LayerNorm.weight", 3, T::Other);
        row("bert.encoder.layer.x.output.dense.weight", -1, T::Other);
        row("bert.encoder.layer..output.dense.weight", -1, T::Other);
        row("bert.embeddings.LayerNorm.weight", -1, T::Other);
        row("cls.predictions.transform.dense.weight", -1, T::Other);
        row("classifier.weight", -1, T::Other);
    }

    void locatesHuggingFaceNames()
    {
        QFETCH(QString, name);
        QFETCH(int, layer);
        QFETCH(int, type);
        const tl::ParamLocation loc = tl::locateParam(name.toStdString());
        QCOMPARE(loc.layer, layer);
        QCOMPARE(int(loc.type), type);
    }

    void typeNames()
    {
        QCOMPARE(tl::matrixTypeName(tl::MatrixType::AttentionOutput), std::string("AttnOut"));
        QCOMPARE(tl::matrixTypeName(tl::MatrixType::FfnOut), std::string("FFN-out"));
        QCOMPARE(tl::matrixTypeName(tl::MatrixType::TokenTypeEmbeddings), std::string("TypeEmb"));
        QCOMPARE(tl::matrixTypeName(tl::MatrixType::Other), std::string("Other"));
        const auto &types = tl::encoderMatrixTypes();
        QCOMPARE(int(types.size()), 6);
        QCOMPARE(int(types.front()), int(tl::MatrixType::Query));
        QCOMPARE(int(types.back()), int(tl::MatrixType::FfnOut));
    }

    void sparsityPerLayerByRound()
    {
        // One pass over a prune order gives, for every round, what layerSparsity(maskAt(r)) does.
        tl::MaskSet m = prunedTinyBert();
        for (auto &t : m.tensors)
            std::fill(t.keep.begin(), t.keep.end(), 1);
        tl::PruneOrder order = tl::PruneOrder::fromMask(m);
        uint32_t x = 7;
        for (int round = 1; round <= 3; ++round) {
            for (auto &t : m.tensors)
                for (auto &k : t.keep)
                    if (k && ((x = x * 1103515245u + 12345u) >> 16) % 3 == 0)
                        k = 0;
            order.record(m, round);
        }
        const auto byRound = tl::layerSparsityByRound(order);
        QCOMPARE(int(byRound.size()), 4);
        for (int r = 0; r <= 3; ++r) {
            const auto expected = tl::layerSparsity(order.maskAt(r));
            QCOMPARE(byRound[size_t(r)].size(), expected.size());
            for (size_t i = 0; i < expected.size(); ++i) {
                QCOMPARE(byRound[size_t(r)][i].layer, expected[i].layer);
                QCOMPARE(int(byRound[size_t(r)][i].type), int(expected[i].type));
                QCOMPARE(byRound[size_t(r)][i].total, expected[i].total);
                QCOMPARE(byRound[size_t(r)][i].pruned, expected[i].pruned);
            }
        }
        QVERIFY(byRound[3][0].pruned > byRound[1][0].pruned);
    }

    void sparsityPerLayer()
    {
        tl::MaskSet m = prunedTinyBert();
        // Entirely pruned pooler; a tensor locateParam does not place is left out.
        std::fill(m.find("bert.pooler.dense.weight")->keep.begin(), m.find("bert.pooler.dense.weight")->keep.end(), 0);
        m.tensors.push_back(tensor("cls.predictions.transform.dense.weight", {2, 2}, {0, 0, 0, 0}));
        const auto s = tl::layerSparsity(m);
        QCOMPARE(int(s.size()), 13);
        using T = tl::MatrixType;
        // (layer, type, total, pruned) in mask order, by hand.
        const std::vector<std::tuple<int, T, int64_t, int64_t>> expected = {
            {0, T::Query, 16, 8},           {0, T::Key, 16, 4},   {0, T::Value, 16, 0},
            {0, T::AttentionOutput, 16, 0}, {0, T::FfnIn, 32, 0}, {0, T::FfnOut, 32, 8},
            {1, T::Query, 16, 0},           {1, T::Key, 16, 0},   {1, T::Value, 16, 1},
            {1, T::AttentionOutput, 16, 8}, {1, T::FfnIn, 32, 8}, {1, T::FfnOut, 32, 0},
            {-1, T::Pooler, 16, 16}};
        for (size_t i = 0; i < expected.size(); ++i) {
            const auto &[layer, type, total, pruned] = expected[i];
            QCOMPARE(s[i].layer, layer);
            QCOMPARE(int(s[i].type), int(type));
            QCOMPARE(s[i].total, total);
            QCOMPARE(s[i].pruned, pruned);
        }
        QCOMPARE(s[0].sparsity(), 0.5);
        QCOMPARE(s[1].sparsity(), 0.25);
        QCOMPARE(s[8].sparsity(), 0.0625);
        QCOMPARE(s[12].sparsity(), 1.0);
        QCOMPARE(tl::LayerSparsity{}.sparsity(), 0.0);
    }

    void headFractions()
    {
        const auto h = tl::headSurvival(prunedTinyBert(), 2);
        QCOMPARE(int(h.size()), 4);
        // Per head 4 * d * hidden = 4 * 2 * 4 = 32 weights: its 2 rows of Q, K and V (8 each)
        // and its 2 columns of the attention output (8).
        for (const tl::HeadSurvival &x : h)
            QCOMPARE(x.total, int64_t(32));
        QCOMPARE(h[0].layer, 0);
        QCOMPARE(h[0].head, 0);
        QCOMPARE(h[0].kept, int64_t(24)); // Q rows 0, 1
        QCOMPARE(h[1].kept, int64_t(28)); // K row 3
        QCOMPARE(h[2].layer, 1);
        QCOMPARE(h[2].head, 0);
        QCOMPARE(h[2].kept, int64_t(31)); // V[0][2]: row 0, although column 2
        QCOMPARE(h[3].kept, int64_t(24)); // attention-output columns 2, 3 (rows 0..3)
        QCOMPARE(h[0].fraction(), 0.75);
        QCOMPARE(h[1].fraction(), 0.875);
        QCOMPARE(h[2].fraction(), 0.96875);
        QCOMPARE(h[3].fraction(), 0.75);
        // Alive means strictly above: layer 1 head 1 dies through its output columns alone.
        QCOMPARE(tl::aliveHeads(h, 0.5), 4);
        QCOMPARE(tl::aliveHeads(h, 0.75), 2);
        QCOMPARE(tl::aliveHeads(h, 0.9), 1);
        QCOMPARE(tl::aliveHeads(h, 1.0), 0);

        // Four heads of d = 1: attention-output column 2 is head 2's alone.
        const auto four = tl::headSurvival(prunedTinyBert(), 4);
        QCOMPARE(int(four.size()), 8);
        QCOMPARE(four[0].total, int64_t(16));
        QCOMPARE(four[0].kept, int64_t(12)); // Q row 0
        QCOMPARE(four[3].kept, int64_t(12)); // K row 3
        QCOMPARE(four[4].kept, int64_t(15)); // V row 0, one weight
        QCOMPARE(four[5].kept, int64_t(16));
        QCOMPARE(four[6].kept, int64_t(12)); // output column 2
        QCOMPARE(four[7].kept, int64_t(12)); // output column 3
    }

    void headFractionsWithMissingMatrices()
    {
        // Layer 1's Q and attention output are not in the mask: counted as kept.
        tl::MaskSet m = prunedTinyBert();
        auto &ts = m.tensors;
        ts.erase(std::remove_if(ts.begin(), ts.end(),
                                [](const tl::MaskTensor &t) {
                                    return t.name == param(1, "attention.self.query.weight") ||
                                           t.name == param(1, "attention.output.dense.weight");
                                }),
                 ts.end());
        const auto h = tl::headSurvival(m, 2);
        QCOMPARE(int(h.size()), 4);
        QCOMPARE(h[2].total, int64_t(32));
        QCOMPARE(h[2].kept, int64_t(31));
        QCOMPARE(h[3].kept, int64_t(32));
        // No encoder matrices at all: nothing to report.
        tl::MaskSet pooler;
        pooler.tensors.push_back(tensor("bert.pooler.dense.weight", {2, 2}, {1, 1, 1, 1}));
        QVERIFY(tl::headSurvival(pooler, 2).empty());
    }

    void headErrors()
    {
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::headSurvival(tinyBert(), 3)); // 3 does not divide 4
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::headSurvival(tinyBert(), 0));
        tl::MaskSet m = tinyBert();
        tl::MaskTensor *k = m.find(param(1, "attention.self.key.weight"));
        k->shape = {2, 8};
        try {
            tl::headSurvival(m, 2);
            QFAIL("expected an error for a non-square key matrix");
        } catch (const tl::Error &e) {
            QVERIFY2(std::string(e.what()).find(param(1, "attention.self.key.weight")) != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("[2, 8]") != std::string::npos, e.what());
        }
    }

    void headFractionsOfACompactedModel()
    {
        // Layer 1 of a compacted model lost head 0 (config pruned_heads {"1": [0]}): its Q, K
        // and V keep 2 rows (head 1's), its attention output 2 columns.
        tl::MaskSet m = tinyBert();
        for (const char *qkv :
             {"attention.self.query.weight", "attention.self.key.weight", "attention.self.value.weight"})
            *m.find(param(1, qkv)) = tensor(param(1, qkv), {2, 4}, std::vector<uint8_t>(8, 1));
        tl::MaskTensor o = tensor(param(1, "attention.output.dense.weight"), {4, 2}, std::vector<uint8_t>(8, 1));
        o.keep[0 * 2 + 1] = 0; // rows 0 and 3 of column 1: head 1's second input feature
        o.keep[3 * 2 + 1] = 0;
        *m.find(o.name) = o;
        m.find(param(1, "attention.self.key.weight"))->keep[4] = 0; // row 1, head 1
        tl::HeadLayout layout{2, {{1, {0}}}};
        QCOMPARE(layout.headsIn(1), 1);
        QVERIFY(layout.isRemoved(1, 0) && !layout.isRemoved(1, 1) && !layout.isRemoved(0, 0));
        const auto h = tl::headSurvival(m, layout);
        QCOMPARE(int(h.size()), 4); // the original grid: 2 layers x 2 heads
        QVERIFY(!h[0].removed && !h[1].removed);
        QCOMPARE(h[0].kept, int64_t(32));
        QVERIFY(h[2].removed);
        QCOMPARE(h[2].total, int64_t(0));
        QCOMPARE(h[2].fraction(), 0.0);
        QCOMPARE(h[3].head, 1);
        QCOMPARE(h[3].total, int64_t(32));
        QCOMPARE(h[3].kept, int64_t(29));
        QCOMPARE(tl::aliveHeads(h, 0.5), 3);
        QCOMPARE(tl::headsRemovedFraction(h), 0.25);
        // Without the layout the narrower layer is an error that suggests pruned_heads.
        try {
            tl::headSurvival(m, 2);
            QFAIL("expected an error for a layer with fewer heads");
        } catch (const tl::Error &e) {
            QVERIFY2(std::string(e.what()).find("pruned_heads") != std::string::npos, e.what());
        }
        // A head with no weight left is gone too.
        tl::MaskSet dense = tinyBert();
        for (const char *qkv :
             {"attention.self.query.weight", "attention.self.key.weight", "attention.self.value.weight"})
            for (int r = 2; r < 4; ++r)
                pruneRow(dense, param(0, qkv), r);
        for (int c = 2; c < 4; ++c)
            pruneColumn(dense, param(0, "attention.output.dense.weight"), c);
        QCOMPARE(tl::headsRemovedFraction(tl::headSurvival(dense, 2)), 0.25);
        QCOMPARE(tl::headsRemovedFraction({}), 0.0);
    }

    void overlapAndChance()
    {
        // FFN-in first: byType must come back in display order anyway.
        tl::MaskSet a, b;
        a.tensors = {tensor(kF, {2, 2}, {1, 0, 0, 0}), tensor(kQ, {2, 4}, {1, 1, 1, 1, 1, 1, 0, 0})};
        b.tensors = {tensor(kQ, {2, 4}, {1, 1, 0, 0, 0, 0, 0, 0}), tensor(kF, {2, 2}, {0, 1, 1, 1})};
        const tl::OverlapReport r = tl::maskOverlap(a, b);
        // Q: pa 3/4, pb 1/4: |A∩B| 2, |A∪B| 6; E∩ 8·3/16 = 1.5, E∪ 8·(1 − 3/16) = 6.5.
        // FFN-in: pa 1/4, pb 3/4: |A∩B| 0, |A∪B| 4; E∩ 4·3/16 = 0.75, E∪ 4·13/16 = 3.25.
        QCOMPARE(r.global.intersection, int64_t(2));
        QCOMPARE(r.global.unionCount, int64_t(10));
        QVERIFY(near(r.global.iou, 0.2));
        QVERIFY(near(r.global.chance, 2.25 / 9.75)); // 3/13
        QCOMPARE(int(r.byType.size()), 2);
        QCOMPARE(int(r.byType[0].first), int(tl::MatrixType::Query));
        QVERIFY(near(r.byType[0].second.iou, 2.0 / 6.0));
        QVERIFY(near(r.byType[0].second.chance, 1.5 / 6.5));
        QCOMPARE(int(r.byType[1].first), int(tl::MatrixType::FfnIn));
        QCOMPARE(r.byType[1].second.intersection, int64_t(0));
        QCOMPARE(r.byType[1].second.unionCount, int64_t(4));
        QCOMPARE(r.byType[1].second.iou, 0.0);
        QVERIFY(near(r.byType[1].second.chance, 0.75 / 3.25));
        // A mask with itself: IoU 1; chance Σ n·p² / Σ n·(2p − p²) = (4.5 + 0.25) / (7.5 + 1.75).
        const tl::OverlapReport self = tl::maskOverlap(a, a);
        QCOMPARE(self.global.iou, 1.0);
        QVERIFY(near(self.global.chance, 4.75 / 9.25));
        // Nothing kept in either: both 0 rather than 0/0.
        tl::MaskSet none;
        none.tensors = {tensor(kF, {2, 2}, {0, 0, 0, 0})};
        const tl::OverlapReport empty = tl::maskOverlap(none, none);
        QCOMPARE(empty.global.iou, 0.0);
        QCOMPARE(empty.global.chance, 0.0);
    }

    void overlapErrors()
    {
        tl::MaskSet a = smallMask(std::vector<uint8_t>(8, 1), std::vector<uint8_t>(4, 1));
        auto expectError = [&a](const tl::MaskSet &b, const std::string &needle) {
            try {
                tl::maskOverlap(a, b);
                QFAIL(("expected an error naming " + needle).c_str());
            } catch (const tl::Error &e) {
                QVERIFY2(std::string(e.what()).find(needle) != std::string::npos, e.what());
            }
        };
        tl::MaskSet renamed = a;
        renamed.tensors[1].name = "bert.encoder.layer.0.output.dense.weight";
        expectError(renamed, kF);
        tl::MaskSet fewer = a;
        fewer.tensors.pop_back();
        expectError(fewer, kF);
        tl::MaskSet more = a;
        more.tensors.push_back(tensor("bert.pooler.dense.weight", {1, 1}, {1}));
        expectError(more, "bert.pooler.dense.weight");
        tl::MaskSet reshaped = a;
        reshaped.tensors[0].shape = {4, 2};
        expectError(reshaped, kQ);
        expectError(reshaped, "[4, 2]");
    }

    void storedMasksAndHeads()
    {
        Fixture f;
        QVERIFY(sameMask(tl::storedMask(*f.store, f.imp0, 2), f.a2));
        QVERIFY(sameMask(tl::storedMask(*f.store, f.imp0, 1), f.a1));
        QCOMPARE(tl::storedMask(*f.store, f.imp1, 0).sparsity(), 0.0);
        QCOMPARE(tl::storedMask(*f.store, f.imp1, 2).sparsity(), 0.5);
        // A transfer run: the source's mask at the source's round index.
        QVERIFY(sameMask(tl::storedMask(*f.store, f.toMrpc1, 2), f.b2));
        QCOMPARE(tl::storedMask(*f.store, f.toMrpc1, 1).sparsity(), 0.0);
        QCOMPARE(tl::storedMaskRounds(*f.store, f.imp0), 2);
        QCOMPARE(tl::storedMaskRounds(*f.store, f.full0), 0);
        QCOMPARE(tl::storedMaskRounds(*f.store, f.toRte), 1);
        QCOMPARE(tl::storedMaskRounds(*f.store, f.noMasks), -1);
        QCOMPARE(tl::storedPruneOrder(*f.store, f.imp1).rounds(), 2);

        auto expectError = [&f](int64_t run, int round, const std::string &needle) {
            try {
                tl::storedMask(*f.store, run, round);
                QFAIL(("expected an error naming " + needle).c_str());
            } catch (const tl::Error &e) {
                QVERIFY2(std::string(e.what()).find(needle) != std::string::npos, e.what());
            }
        };
        expectError(f.imp0, 3, "round 3");
        expectError(f.imp0, -1, "round -1");
        expectError(999, 0, "no run 999");
        expectError(f.noMasks, 0, "no stored masks");
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::storedMaskRounds(*f.store, 999));

        QCOMPARE(tl::storedHeadCount(*f.store, f.imp0), 2);
        QCOMPARE(tl::storedHeadCount(*f.store, f.noHeads), 0); // config without the key
        QCOMPARE(tl::storedHeadCount(*f.store, f.noMasks), 0); // no model
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::storedHeadCount(*f.store, 999));
        QVERIFY(tl::storedHeadLayout(*f.store, f.imp0).removed.empty());
        // A compacted model's pruned_heads come with the layout; a malformed one names the key.
        const int64_t compact =
            f.store->upsertModel({0, "/models/compact",
                                  R"({"hidden_size": 4, "num_attention_heads": 2, "pruned_heads": {"1": [0]}})", "h4"});
        const int64_t onCompact = tltest::RunBuilder(tl::RunKind::Imp, "RTE").model(compact).create(*f.store);
        const tl::HeadLayout layout = tl::storedHeadLayout(*f.store, onCompact);
        QCOMPARE(layout.heads, 2);
        QCOMPARE(layout.removed.at(1), (std::vector<int64_t>{0}));
        const int64_t bad = f.store->upsertModel(
            {0, "/models/bad", R"({"hidden_size": 4, "num_attention_heads": 2, "pruned_heads": {"x": [0]}})", "h5"});
        const int64_t onBad = tltest::RunBuilder(tl::RunKind::Imp, "RTE").model(bad).create(*f.store);
        const QString err = tltest::errorOf([&] { tl::storedHeadLayout(*f.store, onBad); });
        QVERIFY2(err.contains(QStringLiteral("pruned_heads")), qPrintable(err));
    }

    void overlapMatrixOfRuns()
    {
        Fixture f;
        const tl::OverlapMatrix m = tl::overlapMatrix(*f.store, {f.imp0, f.imp1, f.toMrpc0}, {2, 2, 2});
        QCOMPARE(m.labels.size(), size_t(3));
        QCOMPARE(m.labels[0], "RTE imp #" + std::to_string(f.imp0) + " (seed 0), round 2, 50.0%");
        QCOMPARE(m.labels[1], "RTE imp #" + std::to_string(f.imp1) + " (seed 1), round 2, 50.0%");
        QCOMPARE(m.labels[2], "MRPC transfer #" + std::to_string(f.toMrpc0) + " (seed 0), round 2, 50.0%");
        QCOMPARE(m.rounds, (std::vector<int>{2, 2, 2}));
        QCOMPARE(m.sparsities, (std::vector<double>{0.5, 0.5, 0.5}));
        // a2 vs b2: Q disjoint halves (∩ 0, ∪ 8), FFN-in 1100 vs 0110 (∩ 1, ∪ 3): IoU 1/11.
        // Every tensor half kept in both: chance (8/4 + 4/4) / (8·3/4 + 4·3/4) = 3/9.
        QVERIFY(near(m.iou[0][1], 1.0 / 11.0));
        QVERIFY(near(m.iou[1][0], 1.0 / 11.0));
        QVERIFY(near(m.chance[0][1], 1.0 / 3.0));
        QCOMPARE(m.iou[0][0], 1.0);
        QVERIFY(near(m.chance[1][1], 1.0 / 3.0));
        QCOMPARE(m.iou[0][2], 1.0); // the transfer carries imp0's round-2 mask
        // Different rounds per run: a1 (round 1) vs a2 (round 2): ∩ = a2 (6 kept), ∪ = a1 (9 kept).
        const tl::OverlapMatrix r = tl::overlapMatrix(*f.store, {f.imp0, f.imp0}, {1, 2});
        QVERIFY(near(r.iou[0][1], 6.0 / 9.0));
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::overlapMatrix(*f.store, {f.imp0, f.imp1}, {2}));
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::overlapMatrix(*f.store, {f.imp0, 999}, {2, 2}));
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::overlapMatrix(*f.store, {f.imp0, f.imp1}, {2, 5}));
    }

    void commonSparsityOfRuns()
    {
        // IMP reached 0.5 (round 2); a transfer of a round-1 mask only 0.25: every run is
        // compared at 0.25, the IMP run at its round 1, the transfer at the round it trained.
        Fixture f;
        const tl::CommonSparsity c = tl::commonSparsityRounds(*f.store, {f.imp0, f.toRte, f.imp1});
        QCOMPARE(c.target, 0.25);
        QCOMPARE(c.rounds, (std::vector<int>{1, 1, 1}));
        QCOMPARE(c.sparsities, (std::vector<double>{0.25, 0.25, 0.25}));
        // A transfer trains one round only: its sparsity even when it is not the common one.
        const tl::CommonSparsity t = tl::commonSparsityRounds(*f.store, {f.toRte, f.toMrpc0, f.imp0});
        QCOMPARE(t.target, 0.25);
        QCOMPARE(t.rounds, (std::vector<int>{1, 2, 1}));
        QCOMPARE(t.sparsities, (std::vector<double>{0.25, 0.5, 0.25}));
        // Every run reached 0.5: the last rounds.
        QCOMPARE(tl::commonSparsityRounds(*f.store, {f.imp0, f.imp1, f.toMrpc1}).rounds, (std::vector<int>{2, 2, 2}));
        EXPECT_ERROR(tl::commonSparsityRounds(*f.store, {f.imp0, f.noMasks}), "no stored masks");
        EXPECT_ERROR(tl::commonSparsityRounds(*f.store, {f.imp0, 999}), "no run 999");
    }

    void transferTableFromStore()
    {
        Fixture f;
        const tl::TransferTable t = tl::transferTable(*f.store);
        QCOMPARE(t.models, (std::vector<std::string>{"large", "tiny"}));
        QCOMPARE(t.sources, (std::vector<std::string>{"MRPC", "RTE"}));
        QCOMPARE(t.targets, (std::vector<std::string>{"MRPC", "RTE", "SST-2"}));
        QCOMPARE(int(t.cells.size()), 5); // the mask-file transfer is left out
        QVERIFY(t.pair("RTE", "RTE").empty());
        // Rows: (model, source, sparsity), the large model first.
        QCOMPARE(int(t.rows.size()), 5);
        auto rowName = [](const tl::TransferRow &r) {
            return r.model + " " + r.source + " " + std::to_string(int(r.sparsity * 100));
        };
        QCOMPARE(rowName(t.rows[0]), std::string("large MRPC 25"));
        QCOMPARE(rowName(t.rows[1]), std::string("tiny MRPC 25"));
        QCOMPARE(rowName(t.rows[2]), std::string("tiny MRPC 50"));
        QCOMPARE(rowName(t.rows[3]), std::string("tiny RTE 25"));
        QCOMPARE(rowName(t.rows[4]), std::string("tiny RTE 50"));

        // RTE -> MRPC: masks of source rounds 1 and 2 are two cells, never one average.
        const auto rteToMrpc = t.pair("RTE", "MRPC");
        QCOMPARE(int(rteToMrpc.size()), 2);
        // At 0.25 (imp0's round 1): 0.78; own ticket MRPC's round 1, 0.79.
        const tl::TransferCell *c = rteToMrpc[0];
        QCOMPARE(c, t.cell(t.rows[3], "MRPC"));
        QCOMPARE(c->runs, 1);
        QCOMPARE(c->sparsity, 0.25);
        QCOMPARE(c->sourceRounds, (std::vector<int>{1}));
        QVERIFY(near(c->transferMetric, 0.78));
        QVERIFY(near(*c->ownTicket, 0.79));
        QVERIFY(!c->atLeastOwnTicket);
        // At 0.5: (0.76 + 0.72) / 2 = 0.74. MRPC has no full runs: the full model is its IMP
        // run's dense round, 0.80. Own ticket: round 2 (0.5), 0.75.
        c = rteToMrpc[1];
        QCOMPARE(c, t.cell(t.rows[4], "MRPC"));
        QCOMPARE(c->model, std::string("tiny"));
        QCOMPARE(c->runs, 2);
        QVERIFY(near(c->transferMetric, 0.74));
        QVERIFY(near(c->sparsity, 0.5));
        QCOMPARE(c->sourceRounds, (std::vector<int>{2}));
        QCOMPARE(c->fullSeeds, 1);
        QVERIFY(near(c->fullMean, 0.80));
        QVERIFY(near(c->delta, -0.06));
        QVERIFY(c->ownTicket.has_value());
        QVERIFY(near(*c->ownTicket, 0.75));
        QVERIFY(!c->atLeastOwnTicket);

        // MRPC -> RTE, one cell per model. Tiny: 0.69 at 0.25; its full runs 0.72 and 0.68 ->
        // 0.70; own ticket: both tiny IMP seeds at 0.25, (0.68 + 0.66) / 2 = 0.67 <= 0.69.
        const auto mrpcToRte = t.pair("MRPC", "RTE");
        QCOMPARE(int(mrpcToRte.size()), 2);
        c = t.cell(t.rows[1], "RTE");
        QVERIFY(c);
        QCOMPARE(c->runs, 1);
        QCOMPARE(c->fullSeeds, 2);
        QVERIFY(near(c->fullMean, 0.70));
        QVERIFY(near(c->delta, -0.01));
        QVERIFY(near(*c->ownTicket, 0.67));
        QVERIFY(c->atLeastOwnTicket);
        // Large: 0.88 against its own full model 0.90 and its own ticket 0.89.
        c = t.cell(t.rows[0], "RTE");
        QVERIFY(c);
        QCOMPARE(c->model, std::string("large"));
        QCOMPARE(c->fullSeeds, 1);
        QVERIFY(near(c->fullMean, 0.90));
        QVERIFY(near(c->delta, -0.02));
        QVERIFY(near(*c->ownTicket, 0.89));
        QVERIFY(!c->atLeastOwnTicket);

        // MRPC -> SST-2: no full model and no own ticket on the target.
        c = t.cell(t.rows[2], "SST-2");
        QVERIFY(c);
        QVERIFY(near(c->transferMetric, 0.90));
        QCOMPARE(c->fullSeeds, 0);
        QCOMPARE(c->delta, 0.0);
        QVERIFY(!c->ownTicket);
        QVERIFY(!c->atLeastOwnTicket);

        // Another metric: every round has f1 = 0.5.
        const tl::TransferTable f1 = tl::transferTable(*f.store, "f1");
        QCOMPARE(int(f1.cells.size()), 5);
        QCOMPARE(f1.cell(f1.rows[4], "MRPC")->delta, 0.0);
        QVERIFY(f1.cell(f1.rows[4], "MRPC")->atLeastOwnTicket);
        QVERIFY(tl::transferTable(*f.store, "accuracy").cells.empty());
    }

    void ownTicketNeedsNearbySparsity()
    {
        // Transfers onto QNLI at 0.4, 0.505 and 0.511: the IMP rounds are at 0, 0.25 and 0.5;
        // only 0.505 is within 0.01 of one. Each sparsity is its own cell.
        Fixture f;
        auto add = [&f](double sparsity) {
            Fixture::run(tl::RunKind::Transfer, "QNLI", 0)
                .transferFrom(f.mrpcImp, 2)
                .order(Fixture::order({f.a2}, 2))
                .round(2, sparsity, 0.5)
                .create(*f.store);
        };
        Fixture::run(tl::RunKind::Imp, "QNLI", 0)
            .order(Fixture::order({f.a1, f.a2}))
            .rounds({{0.0, 0.9}, {0.25, 0.8}, {0.5, 0.45}})
            .create(*f.store);
        add(0.4);
        add(0.511);
        add(0.505);
        const tl::TransferTable t = tl::transferTable(*f.store);
        const auto cells = t.pair("MRPC", "QNLI");
        QCOMPARE(int(cells.size()), 3);
        QCOMPARE(cells[0]->sparsity, 0.4);
        QVERIFY(!cells[0]->ownTicket);
        QCOMPARE(cells[1]->sparsity, 0.505);
        QCOMPARE(cells[1]->runs, 1);
        QVERIFY(near(*cells[1]->ownTicket, 0.45));
        QVERIFY(cells[1]->atLeastOwnTicket);
        QCOMPARE(cells[2]->sparsity, 0.511);
        QVERIFY(!cells[2]->ownTicket);
        // The QNLI run without masks has a round 0 with no metric: no full model of its own.
        QVERIFY(near(cells[1]->fullMean, 0.9));
        QCOMPARE(cells[1]->fullSeeds, 1);
    }
};

QTEST_APPLESS_MAIN(TestAnalysis)
#include "tst_analysis.moc"
