// Layer sensitivity on a model whose layers are known to matter differently: layer 1's
// attention output is zeroed beforehand, so pruning it changes nothing (drop exactly 0), while
// pruning layer 0's FFN-in changes every prediction; the scan leaves the model as it was.

#include <QtTest>

#include "libtorch/model/bert.h"
#include "libtorch/prune/sensitivity.h"
#include "testmodel.h"
#include "text/tasks.h"
#include "text/tokenizer.h"
#include "util/error.h"

class TestSensitivity : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void knownLayersMatterAsBuilt()
    {
        torch::manual_seed(5);
        const tl::TaskSpec task = tl::taskByName("generic-regression");
        tl::BertConfig config = tltest::smallConfig(13, 16, 32);
        config.regression = true;
        tl::BertNet net(config, tl::BertHeads{true, true, false});
        net->eval();
        {
            torch::NoGradGuard g;
            for (auto &p : net->named_parameters())
                if (p.key() == "bert.encoder.layer.1.attention.output.dense.weight")
                    p.value().zero_();
        }
        std::vector<torch::Tensor> before;
        for (auto &p : net->parameters())
            before.push_back(p.detach().clone());

        const tl::BertTokenizer tokenizer(tltest::wordVocab());
        const std::vector<tl::Example> dev = tltest::wordRegressionExamples(48);
        const std::vector<double> sparsities = {0.0, 0.5, 0.9};
        int calls = 0;
        const tl::SensitivityScan scan = tl::sensitivityScan(net, tokenizer, task, dev, sparsities, "pearson", 16, 16,
                                                             torch::kCPU, [&calls](int done, int total) {
                                                                 ++calls;
                                                                 QCOMPARE(total, 2 * 6 * 3);
                                                                 QCOMPARE(done, calls);
                                                             });
        QCOMPARE(calls, 36);
        QCOMPARE(scan.cells.size(), size_t(36));
        QVERIFY(std::isfinite(scan.baseline));
        // Ordered by layer, matrix type (display order), sparsity.
        QCOMPARE(scan.cells[0].layer, 0);
        QCOMPARE(scan.cells[0].type, tl::MatrixType::Query);
        QCOMPARE(scan.cells[3].type, tl::MatrixType::Key);
        QCOMPARE(scan.cells[18].layer, 1);
        for (const tl::SensitivityCell &c : scan.cells) {
            QCOMPARE(c.drop, scan.baseline - c.metric);
            if (c.sparsity == 0.0) // nothing pruned: the unpruned model exactly
                QCOMPARE(c.metric, scan.baseline);
            if (c.layer == 1 && c.type == tl::MatrixType::AttentionOutput) // already all zero
                QCOMPARE(c.metric, scan.baseline);
        }
        const auto cell = [&scan](int layer, tl::MatrixType type, double s) {
            for (const tl::SensitivityCell &c : scan.cells)
                if (c.layer == layer && c.type == type && c.sparsity == s)
                    return c;
            return tl::SensitivityCell{};
        };
        QVERIFY2(cell(0, tl::MatrixType::FfnIn, 0.9).metric != scan.baseline,
                 "pruning a live matrix changes the metric");
        // The model is as it was.
        size_t i = 0;
        for (auto &p : net->parameters())
            QVERIFY(torch::equal(p, before[i++]));

        QVERIFY_THROWS_EXCEPTION(tl::Error,
                                 tl::sensitivityScan(net, tokenizer, task, dev, {1.5}, "pearson", 16, 16, torch::kCPU));
        QVERIFY_THROWS_EXCEPTION(tl::Error,
                                 tl::sensitivityScan(net, tokenizer, task, dev, {0.5}, "bleu", 16, 16, torch::kCPU));
    }
};

QTEST_GUILESS_MAIN(TestSensitivity)
#include "tst_sensitivity.moc"
