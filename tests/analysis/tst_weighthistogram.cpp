// Weight distributions on hand-made weights whose histograms are known: bin counts, zeros,
// means, the agreement with one-shot magnitude pruning, θ0 read from a model folder written
// with a bare BertModel's key names, and the CLI.

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include "analysis/weight_histogram.h"
#include "io/safetensors.h"
#include "prune/prune_order.h"
#include "store/experiment_store.h"
#include "testdata.h"
#include "testruns.h"
#include "util/error.h"

namespace {

const std::string kQuery = "bert.encoder.layer.0.attention.self.query.weight";
const std::string kOut = "bert.encoder.layer.0.output.dense.weight";

// Q [2, 3]: 0.0015, -0.015, 0.15, -1, 0, 0.05; FFN-out [1, 4]: 0.002, 0.02, -0.2, 0.5. With
// 3 bins, the edges are log10(0.0015) = -2.82, -1.88, -0.94, 0: no weight sits on an edge.
std::map<std::string, tl::FloatTensor> weights()
{
    return {{kQuery, {{2, 3}, {0.0015f, -0.015f, 0.15f, -1.0f, 0.0f, 0.05f}}},
            {kOut, {{1, 4}, {0.002f, 0.02f, -0.2f, 0.5f}}}};
}

tl::MaskSet mask(std::vector<uint8_t> q, std::vector<uint8_t> o)
{
    tl::MaskSet m;
    m.tensors.push_back({kQuery, {2, 3}, std::move(q)});
    m.tensors.push_back({kOut, {1, 4}, std::move(o)});
    return m;
}

} // namespace

class TestWeightHistogram : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void countsMeansAndZeros()
    {
        // Keep the three largest |w| of Q (1, 0.15, 0.05) and the two largest of FFN-out.
        const tl::MaskSet m = mask({0, 0, 1, 1, 0, 1}, {0, 0, 1, 1});
        const tl::WeightHistograms h = tl::weightHistograms(m, weights(), 3);
        // log10|w| spans log10(0.0015) .. 0 (1).
        QCOMPARE(h.edges.size(), size_t(4));
        QVERIFY(std::abs(h.edges.front() - std::log10(0.0015)) < 1e-6 && std::abs(h.edges.back()) < 1e-9);
        using V = std::vector<int64_t>;
        // Q: kept 0.15 (bin 2), 1 (bin 2, the top edge), 0.05 (bin 1); pruned 0.0015 (0), 0.015 (1), zero.
        QCOMPARE(h.byType.size(), size_t(2));
        const tl::WeightHistogram &q = h.byType[0];
        QCOMPARE(q.type, tl::MatrixType::Query);
        QCOMPARE(q.kept, (V{0, 1, 2}));
        QCOMPARE(q.pruned, (V{1, 1, 0}));
        QCOMPARE(q.prunedZeros, int64_t(1));
        QCOMPARE(q.keptZeros, int64_t(0));
        QCOMPARE(q.keptCount, int64_t(3));
        QCOMPARE(q.prunedCount, int64_t(3));
        QVERIFY(std::abs(q.keptMeanAbs - (0.15 + 1 + 0.05) / 3) < 1e-6);
        QVERIFY(std::abs(q.prunedMeanAbs - (0.0015 + 0.015) / 3) < 1e-6);
        const tl::WeightHistogram &o = h.byType[1];
        QCOMPARE(o.type, tl::MatrixType::FfnOut);
        QCOMPARE(o.kept, (V{0, 0, 2}));
        QCOMPARE(o.pruned, (V{1, 1, 0}));
        QCOMPARE(h.overall.kept, (V{0, 1, 4}));
        QCOMPARE(h.overall.pruned, (V{2, 2, 0}));
        QCOMPARE(h.overall.prunedZeros, int64_t(1));
        // The mask keeps the 5 largest |w| overall: exactly one-shot magnitude pruning.
        QCOMPARE(h.magnitudeAgreement, 1.0);
        QCOMPARE(h.chanceAgreement, 5.0 / 10.0);
    }

    void agreementOfTheOppositeMask()
    {
        // Keeps the 4 smallest nonzero and the zero: none of the 5 largest.
        const tl::MaskSet m = mask({1, 1, 0, 0, 1, 0}, {1, 1, 0, 0});
        const tl::WeightHistograms h = tl::weightHistograms(m, weights(), 10);
        QCOMPARE(h.magnitudeAgreement, 0.0);
        QCOMPARE(h.overall.keptZeros, int64_t(1));
        // A mask that keeps nothing: no agreement to speak of, no division by zero.
        const tl::WeightHistograms none =
            tl::weightHistograms(mask(std::vector<uint8_t>(6, 0), {0, 0, 0, 0}), weights(), 4);
        QCOMPARE(none.magnitudeAgreement, 0.0);
        QCOMPARE(none.overall.keptCount, int64_t(0));
    }

    void mismatchesNameTheParameter()
    {
        auto w = weights();
        w.erase(kOut);
        try {
            tl::weightHistograms(mask(std::vector<uint8_t>(6, 1), std::vector<uint8_t>(4, 1)), w);
            QFAIL("expected an error");
        } catch (const tl::Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QString::fromStdString(kOut)), e.what());
        }
        w = weights();
        w[kQuery].values.pop_back();
        QVERIFY_THROWS_EXCEPTION(tl::Error,
                                 tl::weightHistograms(mask(std::vector<uint8_t>(6, 1), std::vector<uint8_t>(4, 1)), w));
    }

    void storedRunReadsTheModelFolder()
    {
        QTemporaryDir dir;
        // A bare BertModel checkpoint (no "bert." prefix), as MiniLM's.
        const QString modelDir = dir.filePath(QStringLiteral("model"));
        QVERIFY(QDir().mkpath(modelDir));
        const auto w = weights();
        tl::writeSafetensors((modelDir + QStringLiteral("/model.safetensors")).toStdString(),
                             {{kQuery.substr(5), tl::DType::F32, {2, 3}, w.at(kQuery).values.data()},
                              {kOut.substr(5), tl::DType::F32, {1, 4}, w.at(kOut).values.data()}});
        const std::string db = dir.filePath(QStringLiteral("lab.db")).toStdString();
        int64_t run = 0;
        const tl::MaskSet round1 = mask({0, 0, 1, 1, 0, 1}, {0, 0, 1, 1});
        {
            auto store = tl::ExperimentStore::open(db);
            const int64_t model = store->upsertModel({0, modelDir.toStdString(), "{}", "hash"});
            tl::PruneOrder order =
                tl::PruneOrder::fromMask(mask(std::vector<uint8_t>(6, 1), std::vector<uint8_t>(4, 1)));
            order.record(round1, 1);
            run = tltest::RunBuilder(tl::RunKind::Imp, "RTE")
                      .model(model)
                      .order(order)
                      .rounds({{0, 0.6}, {0.5, 0.6}})
                      .create(*store);
            const tl::WeightHistograms h = tl::storedWeightHistograms(*store, run, 1, 3);
            QCOMPARE(h.overall.kept, (std::vector<int64_t>{0, 1, 4}));
            QCOMPARE(h.magnitudeAgreement, 1.0);
        }
        QProcess cli;
        cli.start(QStringLiteral(TICKETLAB_CLI),
                  {QStringLiteral("analyze"), QStringLiteral("weight-histogram"), QStringLiteral("--db"),
                   QString::fromStdString(db), QStringLiteral("--run"), QString::number(run), QStringLiteral("--round"),
                   QStringLiteral("1"), QStringLiteral("--bins"), QStringLiteral("3"), QStringLiteral("--format"),
                   QStringLiteral("json")});
        QVERIFY(cli.waitForFinished(60000));
        QVERIFY2(cli.exitCode() == 0, cli.readAllStandardError().constData());
        const auto j = nlohmann::json::parse(cli.readAllStandardOutput().toStdString());
        QCOMPARE(j.at("rows")[0].at("type").get<std::string>(), std::string("all"));
        QCOMPARE(j.at("rows")[0].at("kept").get<std::vector<int64_t>>(), (std::vector<int64_t>{0, 1, 4}));
        QCOMPARE(j.at("magnitude_agreement").get<double>(), 1.0);

        // The model folder gone: a clear error naming it.
        QVERIFY(QDir(modelDir).removeRecursively());
        auto store = tl::ExperimentStore::open(db);
        try {
            tl::storedWeightHistograms(*store, run, 1);
            QFAIL("expected an error");
        } catch (const tl::Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("is not on this machine")), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestWeightHistogram)
#include "tst_weighthistogram.moc"
