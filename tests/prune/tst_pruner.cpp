// open_lth-style invariants of pruning and masked training.

#include <QtTest>

#include "testmodel.h"
#include "libtorch/model/bert.h"
#include "prune/mask_set.h"
#include "libtorch/prune/pruner.h"
#include "libtorch/train/finetune.h"
#include "libtorch/train/schedule.h"
#include "util/error.h"

namespace {

std::vector<float> values(const torch::Tensor &t)
{
    auto c = t.detach().to(torch::kFloat).contiguous().reshape({-1});
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

} // namespace

class TestPruner : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void prunableSetIsBertTickets()
    {
        tl::BertNet base(tl::BertConfig::preset("base"), tl::BertHeads{true, true, false});
        QCOMPARE(int(tl::prunableParameters(base).size()), 73);
        QCOMPARE(int(tl::prunableParameters(base, false).size()), 72);
        QCOMPARE(int(tl::prunableParameters(base, true, true).size()), 76);
        int64_t n = 0;
        for (const auto &[name, t] : tl::prunableParameters(base)) {
            QVERIFY2(name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0, name.c_str());
            QVERIFY(name.find("LayerNorm") == std::string::npos);
            n += t.numel();
        }
        QCOMPARE(n, int64_t(12 * (4 * 768 * 768 + 2 * 768 * 3072) + 768 * 768)); // 85,524,480
    }

    void exactFractionAndMagnitudeOrder_data()
    {
        QTest::addColumn<QString>("method");
        QTest::addColumn<double>("sparsity");
        for (const char *m : {"global_magnitude", "tensor_magnitude", "global_random", "tensor_random"})
            for (double s : {0.1, 0.37, 0.9})
                QTest::newRow(qPrintable(QStringLiteral("%1 %2").arg(QLatin1String(m)).arg(s)))
                    << QString::fromLatin1(m) << s;
    }

    void exactFractionAndMagnitudeOrder()
    {
        QFETCH(QString, method);
        QFETCH(double, sparsity);
        torch::manual_seed(1);
        tl::BertNet net(tltest::smallConfig(60, 32, 32), tl::BertHeads{true, true, false});
        const auto weights = tl::prunableParameters(net);
        const tl::PruneMethod m = tl::pruneMethodFromName(method.toStdString());
        const tl::MaskSet mask = tl::prune(weights, tl::denseMask(weights), sparsity, m, 7);
        const int64_t total = mask.total();
        if (method.startsWith(QLatin1String("global")))
            QCOMPARE(total - mask.kept(), int64_t(std::llround(sparsity * double(total))));
        else {
            for (const auto &t : mask.tensors) {
                int64_t pruned = 0;
                for (uint8_t k : t.keep)
                    pruned += k == 0;
                QCOMPARE(pruned, int64_t(std::llround(sparsity * double(t.numel()))));
            }
        }
        if (!method.endsWith(QLatin1String("magnitude")))
            return;
        // Every kept |w| >= every pruned |w|: across tensors for global, within each for per-tensor.
        float globalMinKept = INFINITY, globalMaxPruned = -INFINITY;
        for (size_t i = 0; i < weights.size(); ++i) {
            const auto w = values(weights[i].second);
            float minKept = INFINITY, maxPruned = -INFINITY;
            for (size_t j = 0; j < w.size(); ++j) {
                if (mask.tensors[i].keep[j])
                    minKept = std::min(minKept, std::abs(w[j]));
                else
                    maxPruned = std::max(maxPruned, std::abs(w[j]));
            }
            QVERIFY(minKept >= maxPruned);
            globalMinKept = std::min(globalMinKept, minKept);
            globalMaxPruned = std::max(globalMaxPruned, maxPruned);
        }
        if (method == QLatin1String("global_magnitude"))
            QVERIFY(globalMinKept >= globalMaxPruned);
    }

    void masksOnlyShrinkAndAreDeterministic()
    {
        torch::manual_seed(2);
        tl::BertNet net(tltest::smallConfig(60, 32, 32), tl::BertHeads{true, true, false});
        const auto weights = tl::prunableParameters(net);
        tl::MaskSet prev = tl::denseMask(weights);
        for (double s : {0.2, 0.4, 0.6}) {
            {
                torch::NoGradGuard g; // weights move between rounds, as after training
                for (const auto &[n, w] : weights)
                    w.add_(torch::randn_like(w) * 0.01);
            }
            const tl::MaskSet next = tl::prune(weights, prev, s, tl::PruneMethod::GlobalMagnitude);
            for (size_t i = 0; i < next.tensors.size(); ++i)
                for (size_t j = 0; j < next.tensors[i].keep.size(); ++j)
                    QVERIFY(!(next.tensors[i].keep[j] && !prev.tensors[i].keep[j]));
            QVERIFY(next.tensors[0].keep ==
                    tl::prune(weights, prev, s, tl::PruneMethod::GlobalMagnitude).tensors[0].keep);
            prev = next;
        }
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::prune(weights, prev, 0.5, tl::PruneMethod::GlobalMagnitude));
        // Random pruning differs by seed and repeats for a seed.
        const auto a = tl::prune(weights, tl::denseMask(weights), 0.5, tl::PruneMethod::GlobalRandom, 1);
        const auto b = tl::prune(weights, tl::denseMask(weights), 0.5, tl::PruneMethod::GlobalRandom, 1);
        const auto c = tl::prune(weights, tl::denseMask(weights), 0.5, tl::PruneMethod::GlobalRandom, 2);
        QVERIFY(a.tensors[3].keep == b.tensors[3].keep);
        QVERIFY(a.tensors[3].keep != c.tensors[3].keep);
    }

    void tiesBrokenByPosition()
    {
        auto w = torch::ones({2, 5});
        std::vector<std::pair<std::string, torch::Tensor>> weights{
            {"bert.encoder.layer.0.intermediate.dense.weight", w}};
        const tl::MaskSet m = tl::prune(weights, tl::denseMask(weights), 0.3, tl::PruneMethod::GlobalMagnitude);
        QCOMPARE(m.tensors[0].keep, (std::vector<uint8_t>{0, 0, 0, 1, 1, 1, 1, 1, 1, 1}));
    }

    void prunedWeightsStayZeroThroughTraining()
    {
        torch::manual_seed(3);
        tl::BertNet net(tltest::smallConfig(60, 32, 32), tl::BertHeads{true, true, false});
        const auto weights = tl::prunableParameters(net);
        const tl::MaskSet mask = tl::prune(weights, tl::denseMask(weights), 0.6, tl::PruneMethod::GlobalMagnitude);
        tl::OptimConfig oc;
        oc.lr = 1e-2;
        oc.weightDecay = 0.1;
        oc.totalSteps = 5;
        tl::Stepper stepper(tl::trainableParameters(*net), oc);
        const auto pm = tl::maskTensors(weights, mask);
        tl::installMaskHooks(stepper, pm);
        net->train();
        for (int step = 0; step < 5; ++step) {
            auto ids = torch::randint(5, 60, {4, 10}, torch::kLong);
            auto loss = tl::taskLoss(net->classify(ids, torch::zeros_like(ids), torch::ones_like(ids)),
                                     torch::randint(0, 2, {4}, torch::kLong), false);
            loss.backward();
            stepper.step();
            for (const auto &[param, m] : pm)
                QCOMPARE((param * (1 - m)).abs().max().item<float>(), 0.0f);
        }
        // Adam's moments of pruned weights stay exactly 0.
        for (const auto &[param, m] : pm) {
            auto &state = stepper.optimizer().state();
            auto it = state.find(c10::guts::to_string(param.unsafeGetTensorImpl()));
            QVERIFY(it != state.end());
            auto &s = static_cast<torch::optim::AdamWParamState &>(*it->second);
            QCOMPARE((s.exp_avg() * (1 - m)).abs().max().item<float>(), 0.0f);
            QCOMPARE((s.exp_avg_sq() * (1 - m)).abs().max().item<float>(), 0.0f);
        }
        // Kept weights did train.
        QVERIFY((pm[0].first * pm[0].second).abs().sum().item<float>() > 0);
    }
};

QTEST_APPLESS_MAIN(TestPruner)
#include "tst_pruner.moc"
