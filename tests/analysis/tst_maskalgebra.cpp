// Mask algebra and super-survivors on hand-made masks whose answers are known, and the stored
// result of a mask op through the store and through ticketlab-cli.

#include <random>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include "analysis/analysis.h"
#include "analysis/mask_algebra.h"
#include "prune/prune_order.h"
#include "store/experiment_store.h"
#include "testdata.h"
#include "testruns.h"
#include "util/error.h"

namespace {

const std::string kQuery = "bert.encoder.layer.0.attention.self.query.weight";
const std::string kFfn = "bert.encoder.layer.1.intermediate.dense.weight";

/// Two tensors: Q of layer 0 [2, 4] and FFN-in of layer 1 [4, 2], keep bits as given.
tl::MaskSet mask(std::vector<uint8_t> q, std::vector<uint8_t> f)
{
    tl::MaskSet m;
    m.tensors.push_back({kQuery, {2, 4}, std::move(q)});
    m.tensors.push_back({kFfn, {4, 2}, std::move(f)});
    return m;
}

std::vector<uint8_t> bits(const tl::MaskSet &m, const std::string &name)
{
    return m.find(name)->keep;
}

} // namespace

class TestMaskAlgebra : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void operationsOnKnownMasks()
    {
        const tl::MaskSet a = mask({1, 1, 0, 0, 1, 1, 0, 0}, {1, 0, 1, 0, 1, 0, 1, 0});
        const tl::MaskSet b = mask({1, 0, 1, 0, 1, 0, 1, 0}, {1, 1, 1, 1, 0, 0, 0, 0});
        const tl::MaskSet c = mask({1, 1, 1, 1, 0, 0, 0, 0}, {1, 1, 0, 0, 1, 1, 0, 0});
        using V = std::vector<uint8_t>;
        const tl::MaskSet i = tl::combineMasks(tl::MaskOp::Intersect, {a, b, c});
        QCOMPARE(bits(i, kQuery), (V{1, 0, 0, 0, 0, 0, 0, 0}));
        QCOMPARE(bits(i, kFfn), (V{1, 0, 0, 0, 0, 0, 0, 0}));
        const tl::MaskSet u = tl::combineMasks(tl::MaskOp::Union, {a, b});
        QCOMPARE(bits(u, kQuery), (V{1, 1, 1, 0, 1, 1, 1, 0}));
        QCOMPARE(bits(u, kFfn), (V{1, 1, 1, 1, 1, 0, 1, 0}));
        // a minus (b or c)
        const tl::MaskSet d = tl::combineMasks(tl::MaskOp::Diff, {a, b, c});
        QCOMPARE(bits(d, kQuery), (V{0, 0, 0, 0, 0, 1, 0, 0}));
        QCOMPARE(bits(d, kFfn), (V{0, 0, 0, 0, 0, 0, 1, 0}));
        QCOMPARE(d.kept(), int64_t(2));
        QCOMPARE(d.sparsity(), 14.0 / 16.0);
        // The result keeps the first mask's tensor order, whatever the others' order.
        tl::MaskSet reordered = b;
        std::swap(reordered.tensors[0], reordered.tensors[1]);
        const tl::MaskSet i2 = tl::combineMasks(tl::MaskOp::Intersect, {a, reordered});
        QCOMPARE(i2.tensors[0].name, kQuery);
        QCOMPARE(bits(i2, kQuery), (V{1, 0, 0, 0, 1, 0, 0, 0}));
    }

    void mismatchedMasksAreRefusedByName()
    {
        const tl::MaskSet a = mask(std::vector<uint8_t>(8, 1), std::vector<uint8_t>(8, 1));
        tl::MaskSet wrongShape = a;
        wrongShape.tensors[1].shape = {2, 4};
        try {
            tl::combineMasks(tl::MaskOp::Union, {a, wrongShape}, {"run 1 round 2", "run 5 round 2"});
            QFAIL("expected an error");
        } catch (const tl::Error &e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains(QString::fromStdString(kFfn)) && msg.contains(QStringLiteral("run 5 round 2")) &&
                         msg.contains(QStringLiteral("[2, 4]")),
                     e.what());
        }
        tl::MaskSet renamed = a;
        renamed.tensors[0].name = "bert.encoder.layer.0.attention.self.key.weight";
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::combineMasks(tl::MaskOp::Intersect, {a, renamed}));
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::combineMasks(tl::MaskOp::Intersect, {a}));
    }

    void superSurvivorsCountAndChance()
    {
        // Q: densities 4/8 and 4/8, both keep {0, 1} -> kept by all 2, chance 8 * 0.5 * 0.5 = 2.
        // FFN: densities 6/8 and 2/8, the two kept by the second are among the first's -> 2,
        // chance 8 * 0.75 * 0.25 = 1.5.
        const tl::MaskSet a = mask({1, 1, 1, 1, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 0, 0});
        const tl::MaskSet b = mask({1, 1, 0, 0, 1, 1, 0, 0}, {0, 0, 0, 0, 1, 1, 0, 0});
        const tl::SuperSurvivors s = tl::superSurvivors({a, b});
        QCOMPARE(s.masks, 2);
        QCOMPARE(s.byTensor.size(), size_t(2));
        QCOMPARE(s.byTensor[0].layer, 0);
        QCOMPARE(s.byTensor[0].type, tl::MatrixType::Query);
        QCOMPARE(s.byTensor[0].keptByAll, int64_t(2));
        QCOMPARE(s.byTensor[0].expected, 2.0);
        QCOMPARE(s.byTensor[1].layer, 1);
        QCOMPARE(s.byTensor[1].type, tl::MatrixType::FfnIn);
        QCOMPARE(s.byTensor[1].keptByAll, int64_t(2));
        QCOMPARE(s.byTensor[1].expected, 1.5);
        QCOMPARE(s.overall.total, int64_t(16));
        QCOMPARE(s.overall.keptByAll, int64_t(4));
        QCOMPARE(s.overall.expected, 3.5);
        QCOMPARE(s.byType.size(), size_t(2));
        QCOMPARE(s.byType[0].type, tl::MatrixType::Query);
        QCOMPARE(s.byType[1].type, tl::MatrixType::FfnIn);
    }

    void independentRandomMasksShareAboutChance()
    {
        // Three random masks of a 256 x 256 matrix at densities 0.5, 0.3, 0.8: the count kept
        // by all is within 5 sigma of n * 0.12.
        std::mt19937 rng(7);
        std::vector<tl::MaskSet> masks;
        for (const double p : {0.5, 0.3, 0.8}) {
            std::bernoulli_distribution keep(p);
            tl::MaskSet m;
            m.tensors.push_back({kQuery, {256, 256}, std::vector<uint8_t>(256 * 256)});
            for (uint8_t &k : m.tensors[0].keep)
                k = keep(rng) ? 1 : 0;
            masks.push_back(m);
        }
        const tl::SuperSurvivors s = tl::superSurvivors(masks);
        const double n = 256.0 * 256.0, mean = s.overall.expected;
        QVERIFY(std::abs(mean - n * 0.12) < n * 0.01); // the realised densities are near p
        QVERIFY2(std::abs(double(s.overall.keptByAll) - mean) < 5 * std::sqrt(mean),
                 qPrintable(QStringLiteral("%1 vs %2").arg(s.overall.keptByAll).arg(mean)));
        QVERIFY(std::abs(s.overall.ratio() - 1.0) < 0.05);
    }

    void parsesMaskReferences()
    {
        const auto refs = tl::parseMaskRefs("3:5,7:0,9");
        QCOMPARE(refs.size(), size_t(3));
        QCOMPARE(refs[0].run, int64_t(3));
        QCOMPARE(refs[0].round, 5);
        QCOMPARE(refs[1].round, 0);
        QCOMPARE(refs[2].run, int64_t(9));
        QCOMPARE(refs[2].round, -1);
        for (const char *bad : {"", "3:5,", "x:1", "3:y", "3:-1", "0:1", "3:1:2", "3 :1"}) {
            try {
                tl::parseMaskRefs(bad);
                QFAIL(qPrintable(QStringLiteral("accepted '%1'").arg(QString::fromUtf8(bad))));
            } catch (const tl::Error &e) {
                QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("expected RUN:ROUND")), e.what());
            }
        }
    }

    void storedOpIsAnImportRunFoundAgain()
    {
        QTemporaryDir dir;
        const std::string db = dir.filePath(QStringLiteral("lab.db")).toStdString();
        const tl::MaskSet dense = mask(std::vector<uint8_t>(8, 1), std::vector<uint8_t>(8, 1));
        const auto orderOf = [&dense](const tl::MaskSet &round1) {
            tl::PruneOrder o = tl::PruneOrder::fromMask(dense);
            o.record(round1, 1);
            return o;
        };
        const tl::MaskSet a = mask({1, 1, 0, 0, 1, 1, 0, 0}, {1, 0, 1, 0, 1, 0, 1, 0});
        const tl::MaskSet b = mask({1, 0, 1, 0, 1, 0, 1, 0}, {1, 1, 1, 1, 0, 0, 0, 0});
        int64_t runA = 0, runB = 0, modelId = 0;
        {
            auto store = tl::ExperimentStore::open(db);
            tl::ModelRecord model;
            model.path = "/models/tiny";
            model.contentHash = "abc";
            model.configJson = R"({"num_attention_heads": 2})";
            modelId = store->upsertModel(model);
            runA = tltest::RunBuilder(tl::RunKind::Imp, "RTE")
                       .model(modelId)
                       .order(orderOf(a))
                       .rounds({{0, 0.6}, {0.5, 0.62}})
                       .create(*store);
            runB = tltest::RunBuilder(tl::RunKind::Imp, "MRPC")
                       .model(modelId)
                       .order(orderOf(b))
                       .rounds({{0, 0.8}, {0.5, 0.81}})
                       .create(*store);
        }
        // Through the CLI, as a user would: "R" alone is the run's last mask round.
        const QString refs = QStringLiteral("%1:1,%2").arg(runA).arg(runB);
        QProcess cli;
        cli.start(QStringLiteral(TICKETLAB_CLI),
                  {QStringLiteral("mask-op"), QStringLiteral("intersect"), QStringLiteral("--db"),
                   QString::fromStdString(db), QStringLiteral("--masks"), refs, QStringLiteral("--name"),
                   QStringLiteral("shared by RTE and MRPC"), QStringLiteral("--format"), QStringLiteral("json")});
        QVERIFY(cli.waitForFinished(60000));
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        const auto out = nlohmann::json::parse(cli.readAllStandardOutput().toStdString());
        QCOMPARE(out.at("created").get<bool>(), true);
        QCOMPARE(out.at("kept").get<int64_t>(), int64_t(4));
        const int64_t id = out.at("run").get<int64_t>();

        auto store = tl::ExperimentStore::open(db);
        const tl::RunRecord run = store->requireRun(id);
        QCOMPARE(run.kind, tl::RunKind::Import);
        QCOMPARE(run.status, std::string("done"));
        QCOMPARE(run.modelId, modelId);
        const auto spec = nlohmann::json::parse(run.specJson);
        QCOMPARE(spec.at("mask_op").get<std::string>(), std::string("intersect"));
        QCOMPARE(spec.at("name").get<std::string>(), std::string("shared by RTE and MRPC"));
        QCOMPARE(spec.at("masks").size(), size_t(2));
        QCOMPARE(spec.at("masks")[1].at("round").get<int>(), 1); // resolved
        const tl::MaskSet stored = tl::storedMask(*store, id, 1);
        QCOMPARE(stored.find(kQuery)->keep, (std::vector<uint8_t>{1, 0, 0, 0, 1, 0, 0, 0}));
        QCOMPARE(tl::storedMask(*store, id, 0).kept(), int64_t(16)); // round 0 is dense
        QCOMPARE(store->rounds(id).size(), size_t(1));

        // The same op again finds it; another op is another run.
        const tl::StoredMaskOp again = tl::storeMaskOp(*store, tl::MaskOp::Intersect,
                                                       tl::parseMaskRefs(refs.toStdString()), "shared by RTE and MRPC");
        QCOMPARE(again.runId, id);
        QVERIFY(!again.created);
        const tl::StoredMaskOp uni =
            tl::storeMaskOp(*store, tl::MaskOp::Union, tl::parseMaskRefs(refs.toStdString()), "either");
        QVERIFY(uni.created && uni.runId != id);
        QCOMPARE(uni.mask.kept(), int64_t(12));

        // A round the run does not have, a run that does not exist: errors naming them; nothing stored.
        const size_t runsBefore = store->runs().size();
        QVERIFY_THROWS_EXCEPTION(
            tl::Error, tl::storeMaskOp(*store, tl::MaskOp::Union,
                                       tl::parseMaskRefs(std::to_string(runA) + ":4," + std::to_string(runB)), "x"));
        QVERIFY_THROWS_EXCEPTION(tl::Error,
                                 tl::storeMaskOp(*store, tl::MaskOp::Union, tl::parseMaskRefs("999:1,1:1"), "x"));
        QCOMPARE(store->runs().size(), runsBefore);

        // super-survivors through the CLI: 4 weights kept by both, chance 8*.5*.5 + 8*.5*.5 = 4.
        cli.start(QStringLiteral(TICKETLAB_CLI),
                  {QStringLiteral("analyze"), QStringLiteral("super-survivors"), QStringLiteral("--db"),
                   QString::fromStdString(db), QStringLiteral("--masks"), refs, QStringLiteral("--format"),
                   QStringLiteral("json")});
        QVERIFY(cli.waitForFinished(60000));
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        const auto ss = nlohmann::json::parse(cli.readAllStandardOutput().toStdString());
        QCOMPARE(ss.at("rows")[0].at("scope").get<std::string>(), std::string("all"));
        QCOMPARE(ss.at("rows")[0].at("kept_by_all").get<int64_t>(), int64_t(4));
        QCOMPARE(ss.at("rows")[0].at("chance").get<double>(), 4.0);
    }
};

QTEST_GUILESS_MAIN(TestMaskAlgebra)
#include "tst_maskalgebra.moc"
