#include <QtTest>

#include <algorithm>
#include <cmath>
#include <random>

#include "testdata.h"
#include "io/zip_writer.h"
#include "prune/prune_order.h"
#include "util/error.h"

namespace {

using Layout = std::vector<std::pair<std::string, std::vector<int64_t>>>;

const Layout kLayout = {{"bert.encoder.layer.0.attention.self.query.weight", {12, 10}},
                        {"bert.encoder.layer.0.output.dense.bias", {7}},
                        {"bert.pooler.dense.weight", {3, 2, 5}},
                        {"empty", {0, 4}}};

tl::MaskSet dense(const Layout &layout)
{
    tl::MaskSet m;
    for (const auto &[name, shape] : layout) {
        tl::MaskTensor t;
        t.name = name;
        t.shape = shape;
        t.keep.assign(size_t(t.numel()), 1);
        m.tensors.push_back(t);
    }
    return m;
}

// Global magnitude pruning on fixed random |w|: each round removes `step` of the original
// count among the kept weights, the way IMP does. Returns the mask after every round.
std::vector<tl::MaskSet> simulate(const Layout &layout, int rounds, double step, uint32_t seed)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(0.0f, 1.0f);
    tl::MaskSet m = dense(layout);
    std::vector<std::pair<float, uint8_t *>> weights;
    for (tl::MaskTensor &t : m.tensors) {
        for (uint8_t &k : t.keep)
            weights.push_back({dist(rng), &k});
    }
    std::sort(weights.begin(), weights.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    std::vector<tl::MaskSet> out{m};
    for (int r = 1; r <= rounds; ++r) {
        const size_t target = std::min(weights.size(), size_t(std::llround(step * r * double(weights.size()))));
        for (size_t i = 0; i < target; ++i)
            *weights[i].second = 0;
        out.push_back(m);
    }
    return out;
}

tl::PruneOrder recorded(const Layout &layout, int rounds, double step, uint32_t seed)
{
    const std::vector<tl::MaskSet> masks = simulate(layout, rounds, step, seed);
    tl::PruneOrder po = tl::PruneOrder::fromMask(masks[0]);
    for (int r = 1; r <= rounds; ++r)
        po.record(masks[size_t(r)], r);
    return po;
}

bool sameMask(const tl::MaskSet &a, const tl::MaskSet &b)
{
    if (a.tensors.size() != b.tensors.size())
        return false;
    for (size_t i = 0; i < a.tensors.size(); ++i) {
        const tl::MaskTensor &x = a.tensors[i], &y = b.tensors[i];
        if (x.name != y.name || x.shape != y.shape || x.keep != y.keep)
            return false;
    }
    return true;
}

void setLE(std::vector<char> &bytes, size_t at, uint64_t v, int width)
{
    for (int i = 0; i < width; ++i)
        bytes[at + size_t(i)] = char((v >> (8 * i)) & 0xff);
}

void fixCrc(std::vector<char> &bytes)
{
    setLE(bytes, bytes.size() - 4, tl::crc32(bytes.data(), bytes.size() - 4), 4);
}

// Where the names and shapes end (the fixed-layout tail follows).
size_t headerEnd(const tl::PruneOrder &po)
{
    size_t n = 12;
    for (size_t i = 0; i < po.names.size(); ++i)
        n += 8 + po.names[i].size() + 8 * po.shapes[i].size();
    return n;
}

tl::PruneOrder orderOf(const std::vector<int64_t> &shape, std::vector<uint8_t> values)
{
    tl::PruneOrder po;
    po.names = {"w"};
    po.shapes = {shape};
    po.order = std::move(values);
    return po;
}

} // namespace

class TestPruneOrder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void recordAndMaskAt();
    void rerecordingALaterRoundIsHarmless();
    void masksOnlyShrink();
    void recordChecksLayout();
    void fromMaskNeedsDenseMask();
    void roundTrip_data();
    void roundTrip();
    void everyCorruptionThrows();
    void everyTruncationThrows();
    void craftedFilesThrow();
    void entropy();
    void compressesNearEntropy();
};

void TestPruneOrder::recordAndMaskAt()
{
    const std::vector<tl::MaskSet> masks = simulate(kLayout, 6, 0.15, 1);
    tl::PruneOrder po = tl::PruneOrder::fromMask(masks[0]);
    QCOMPARE(po.rounds(), 0);
    QCOMPARE(po.total(), masks[0].total());
    QVERIFY(std::all_of(po.order.begin(), po.order.end(), [](uint8_t v) { return v == 0; }));
    for (int r = 1; r <= 6; ++r) {
        po.record(masks[size_t(r)], r);
        QCOMPARE(po.rounds(), r);
    }
    double last = -1;
    for (int r = 0; r <= 6; ++r) {
        const tl::MaskSet m = po.maskAt(r);
        QVERIFY2(sameMask(m, masks[size_t(r)]), qPrintable(QStringLiteral("round %1").arg(r)));
        QVERIFY(m.sparsity() > last); // masks only shrink, and each round pruned some
        last = m.sparsity();
        QCOMPARE(m.kept(), masks[size_t(r)].kept());
    }
    QVERIFY(std::abs(po.maskAt(6).sparsity() - 0.9) < 0.01);
    QVERIFY(sameMask(po.maskAt(100), masks[6])); // past the last round: the last mask
    QVERIFY(sameMask(po.maskAt(-1), masks[0]));
}

void TestPruneOrder::rerecordingALaterRoundIsHarmless()
{
    const std::vector<tl::MaskSet> masks = simulate(kLayout, 3, 0.2, 2);
    tl::PruneOrder po = tl::PruneOrder::fromMask(masks[0]);
    po.record(masks[1], 1);
    po.record(masks[2], 2);
    const std::vector<uint8_t> before = po.order;
    po.record(masks[2], 2); // a resumed run records the round it restarts at again
    QCOMPARE(po.order, before);
    EXPECT_ERROR(po.record(masks[2], 1), "after round 2");
    EXPECT_ERROR(po.record(masks[3], 0), "outside 1..255");
    EXPECT_ERROR(po.record(masks[3], 256), "outside 1..255");
    QCOMPARE(po.order, before);
    po.record(masks[3], 255);
    QCOMPARE(po.rounds(), 255);
    QVERIFY(sameMask(po.maskAt(254), masks[2]));
    QVERIFY(sameMask(po.maskAt(255), masks[3]));
}

void TestPruneOrder::masksOnlyShrink()
{
    const std::vector<tl::MaskSet> masks = simulate(kLayout, 2, 0.3, 3);
    tl::PruneOrder po = tl::PruneOrder::fromMask(masks[0]);
    po.record(masks[1], 1);
    tl::MaskSet revived = masks[2];
    tl::MaskTensor &t = revived.tensors[0];
    const size_t idx = size_t(std::find(masks[1].tensors[0].keep.begin(), masks[1].tensors[0].keep.end(), 0) -
                              masks[1].tensors[0].keep.begin());
    QVERIFY(idx < t.keep.size());
    t.keep[idx] = 1;
    const std::vector<uint8_t> before = po.order;
    EXPECT_ERROR(po.record(revived, 2), "masks only shrink");
    EXPECT_ERROR(po.record(revived, 2), kLayout[0].first);
    QCOMPARE(po.order, before); // a refused mask leaves the order untouched
}

void TestPruneOrder::recordChecksLayout()
{
    tl::PruneOrder po = tl::PruneOrder::fromMask(dense(kLayout));
    tl::MaskSet missing = dense(kLayout);
    missing.tensors.pop_back();
    EXPECT_ERROR(po.record(missing, 1), "tensors");
    tl::MaskSet renamed = dense(kLayout);
    renamed.tensors[1].name = "other";
    EXPECT_ERROR(po.record(renamed, 1), kLayout[1].first);
    tl::MaskSet reshaped = dense(kLayout);
    reshaped.tensors[0].shape = {10, 12};
    EXPECT_ERROR(po.record(reshaped, 1), kLayout[0].first);
    // Tensor order does not matter: masks read from files come sorted by name.
    tl::MaskSet shuffled = simulate(kLayout, 1, 0.5, 4)[1];
    const tl::MaskSet expected = shuffled;
    std::reverse(shuffled.tensors.begin(), shuffled.tensors.end());
    po.record(shuffled, 1);
    QVERIFY(sameMask(po.maskAt(1), expected));
}

void TestPruneOrder::fromMaskNeedsDenseMask()
{
    tl::MaskSet m = dense(kLayout);
    m.tensors[2].keep[3] = 0;
    EXPECT_ERROR(tl::PruneOrder::fromMask(m), kLayout[2].first);
    QCOMPARE(tl::PruneOrder::fromMask(tl::MaskSet{}).total(), int64_t(0));
}

void TestPruneOrder::roundTrip_data()
{
    QTest::addColumn<int>("rounds");
    QTest::addColumn<int>("extraWeights");
    for (int rounds : {0, 1, 2, 3, 5, 6, 7, 15, 16, 17, 40, 255}) {
        for (int extra : {0, 1, 5})
            QTest::addRow("rounds %d, +%d", rounds, extra) << rounds << extra;
    }
}

void TestPruneOrder::roundTrip()
{
    // Every packing width (8, 5, 4, 3, 2 and 1 rounds per byte) with every remainder.
    QFETCH(int, rounds);
    QFETCH(int, extraWeights);
    Layout layout = kLayout;
    layout.push_back({"tail", {int64_t(1000 + extraWeights)}});
    tl::PruneOrder po = tl::PruneOrder::fromMask(dense(layout));
    std::mt19937 rng(uint32_t(rounds * 7 + extraWeights));
    for (uint8_t &v : po.order)
        v = uint8_t(rng() % uint32_t(rounds + 1));
    if (rounds > 0)
        po.order.back() = uint8_t(rounds);
    const std::vector<char> bytes = tl::encodePruneOrder(po);
    const tl::PruneOrder back = tl::decodePruneOrder(bytes, "mem");
    QCOMPARE(back.names, po.names);
    QCOMPARE(back.shapes, po.shapes);
    QVERIFY(back.order == po.order);
    QCOMPARE(back.rounds(), rounds);
    QCOMPARE(tl::pruneOrderRounds(bytes, "mem"), rounds); // from the header alone
    QCOMPARE(tl::encodePruneOrder(back), bytes);          // deterministic
    EXPECT_ERROR(tl::pruneOrderRounds(std::vector<char>(bytes.begin(), bytes.begin() + 20), "mem"), "mem");
    EXPECT_ERROR(tl::pruneOrderRounds(std::vector<char>(100, 'x'), "junk"), "no TLPO magic");

    const tl::PruneOrder empty = tl::decodePruneOrder(tl::encodePruneOrder(tl::PruneOrder{}), "mem");
    QVERIFY(empty.names.empty() && empty.order.empty());
    tl::PruneOrder bad = po;
    bad.order.pop_back();
    EXPECT_ERROR(tl::encodePruneOrder(bad), "values for");
}

void TestPruneOrder::everyCorruptionThrows()
{
    const std::vector<char> good = tl::encodePruneOrder(recorded(kLayout, 4, 0.2, 5));
    for (size_t i = 0; i < good.size(); ++i) {
        for (unsigned char x : {0x01u, 0x80u, 0xffu}) {
            std::vector<char> bytes = good;
            bytes[i] = char(bytes[i] ^ x);
            EXPECT_ERROR(tl::decodePruneOrder(bytes, "runs.db run 7"), "runs.db run 7");
        }
    }
    std::vector<char> longer = good;
    longer.push_back(0);
    EXPECT_ERROR(tl::decodePruneOrder(longer, "src"), "src");
    EXPECT_ERROR(tl::decodePruneOrder({'h', 'e', 'l', 'l', 'o', '!', '!', '!'}, "hello.bin"), "hello.bin");
}

void TestPruneOrder::everyTruncationThrows()
{
    const std::vector<char> good = tl::encodePruneOrder(recorded(kLayout, 2, 0.3, 6));
    for (size_t n = 0; n < good.size(); ++n)
        EXPECT_ERROR(tl::decodePruneOrder(std::vector<char>(good.begin(), good.begin() + std::ptrdiff_t(n)), "cut"),
                     "cut");
}

void TestPruneOrder::craftedFilesThrow()
{
    // Files with a valid checksum but inconsistent content: what a buggy writer could make.
    std::vector<uint8_t> values(7);
    for (size_t i = 0; i < values.size(); ++i)
        values[i] = uint8_t(i % 10);
    const tl::PruneOrder base = orderOf({7}, values);
    const size_t h = headerEnd(base);

    std::vector<char> version = tl::encodePruneOrder(base);
    setLE(version, 4, 2, 4);
    fixCrc(version);
    EXPECT_ERROR(tl::decodePruneOrder(version, "v"), "version 2");

    std::vector<char> huge = tl::encodePruneOrder(base);
    setLE(huge, h - 8, uint64_t(1) << 40, 8); // the shape
    setLE(huge, h, uint64_t(1) << 40, 8);     // and the weight count
    fixCrc(huge);
    EXPECT_ERROR(tl::decodePruneOrder(huge, "huge"), "huge");

    std::vector<char> packing = tl::encodePruneOrder(base);
    packing[h + 9] = 3; // rounds 0..9 pack 2 to a byte
    fixCrc(packing);
    EXPECT_ERROR(tl::decodePruneOrder(packing, "p"), "packing");

    // Rounds up to 15 pack two per byte like rounds up to 9, so claiming 9 over a payload made
    // for 15 leaves bytes that no order 0..9 packs to.
    std::vector<uint8_t> high = values;
    high[0] = high[1] = 15; // packs to 15 + 16 * 15 = 255; 0..9 pack below 100
    std::vector<char> above = tl::encodePruneOrder(orderOf({7}, high));
    above[h + 8] = 9;
    fixCrc(above);
    EXPECT_ERROR(tl::decodePruneOrder(above, "above"), "round above 9");

    // Seven weights fill four bytes; the unused half of the last must be zero.
    std::vector<uint8_t> eight = values;
    eight.push_back(5);
    std::vector<char> padding = tl::encodePruneOrder(orderOf({8}, eight));
    setLE(padding, h - 8, 7, 8);
    setLE(padding, h, 7, 8);
    fixCrc(padding);
    EXPECT_ERROR(tl::decodePruneOrder(padding, "pad"), "padding");

    std::vector<char> count = tl::encodePruneOrder(base);
    setLE(count, h, 8, 8);
    fixCrc(count);
    EXPECT_ERROR(tl::decodePruneOrder(count, "count"), "weight count");
}

void TestPruneOrder::entropy()
{
    QCOMPARE(tl::pruneOrderEntropyBytes(orderOf({64}, std::vector<uint8_t>(64, 0))), 0.0);
    std::vector<uint8_t> half(64, 0);
    std::fill(half.begin(), half.begin() + 32, uint8_t(3));
    QVERIFY(std::abs(tl::pruneOrderEntropyBytes(orderOf({64}, half)) - 8.0) < 1e-9); // 1 bit each
    std::vector<uint8_t> four(400);
    for (size_t i = 0; i < four.size(); ++i)
        four[i] = uint8_t(i % 4);
    QVERIFY(std::abs(tl::pruneOrderEntropyBytes(orderOf({400}, four)) - 100.0) < 1e-9); // 2 bits each
    QCOMPARE(tl::pruneOrderEntropyBytes(tl::PruneOrder{}), 0.0);
}

void TestPruneOrder::compressesNearEntropy()
{
    // 2M weights: one early round (90% kept, 0.47 bits a weight, where plain zstd on bytes is
    // 2.1x the entropy) and ten IMP rounds (uniform 1..10).
    const Layout layout = {{"a", {1024, 1024}}, {"b", {1024, 1024}}};
    for (int rounds : {1, 10}) {
        const tl::PruneOrder po = recorded(layout, rounds, 0.1, 8);
        const double entropy = tl::pruneOrderEntropyBytes(po);
        const double size = double(tl::encodePruneOrder(po).size());
        qInfo("rounds %d: %.0f bytes, entropy %.0f, ratio %.3f", rounds, size, entropy, size / entropy);
        QVERIFY2(size <= 1.2 * entropy, qPrintable(QString::number(size / entropy)));
    }
}

QTEST_APPLESS_MAIN(TestPruneOrder)
#include "tst_pruneorder.moc"
