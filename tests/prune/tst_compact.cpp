// Structure removed for real: a compacted model (pruned heads and FFN neurons taken out)
// computes what the masked model computes, survives a save and load as a Hugging Face folder,
// and matches the reference transcription of transformers 4.x (which applies pruned_heads on
// load); head and neuron importance as Michel et al. on a model whose dead units are known.

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "analysis/structure.h"
#include "libtorch/io/checkpoint.h"
#include "libtorch/io/compact.h"
#include "libtorch/model/bert.h"
#include "libtorch/prune/head_importance.h"
#include "libtorch/prune/pruner.h"
#include "libtorch/train/finetune.h"
#include "testdata.h"
#include "testmodel.h"
#include "text/tasks.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace {

QJsonArray toJson(const torch::Tensor &t)
{
    QJsonArray out;
    for (int64_t i = 0; i < t.size(0); ++i) {
        if (t.dim() == 1)
            out.append(t[i].item<double>());
        else
            out.append(toJson(t[i]));
    }
    return out;
}

torch::Tensor fromJson(const QJsonArray &a)
{
    std::vector<torch::Tensor> rows;
    for (const QJsonValue v : a) {
        std::vector<float> values;
        for (const QJsonValue x : v.toArray())
            values.push_back(float(x.toDouble()));
        rows.push_back(torch::tensor(values));
    }
    return torch::stack(rows);
}

/// Hidden 24, 3 heads of 8, FFN 40, 2 layers, 3 labels; every parameter random.
tl::BertNet randomNet(uint64_t seed)
{
    tl::BertConfig c = tltest::smallConfig(50, 16, 24);
    c.numAttentionHeads = 3;
    c.intermediateSize = 40;
    c.id2label = {"a", "b", "c"};
    torch::manual_seed(seed);
    tl::BertNet net(c, tl::BertHeads{true, true, false});
    torch::NoGradGuard g;
    for (auto &p : net->parameters())
        p.normal_(0.0, 0.5);
    net->eval();
    return net;
}

struct Inputs
{
    torch::Tensor ids, types, mask;
};

Inputs inputs()
{
    return {torch::tensor({{2, 7, 8, 9, 10, 3, 0, 0}, {2, 11, 12, 3, 13, 14, 15, 3}}, torch::kLong),
            torch::tensor({{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 1, 1, 1}}, torch::kLong),
            torch::tensor({{1, 1, 1, 1, 1, 1, 0, 0}, {1, 1, 1, 1, 1, 1, 1, 1}}, torch::kLong)};
}

torch::Tensor logits(tl::BertNet &net)
{
    torch::NoGradGuard g;
    net->eval();
    const Inputs in = inputs();
    return net->classify(in.ids, in.types, in.mask);
}

/// The structured mask of the tests: head 1 of layer 0, every head of layer 1, neurons 0, 5
/// and 39 of layer 0; plus unstructured zeros (every third FFN-in weight of layer 1), which
/// compacting keeps as zeros.
tl::MaskSet structuredMask(tl::BertNet &net)
{
    tl::MaskSet m = tl::denseMask(tl::prunableParameters(net));
    tl::pruneUnits(m, 3, {{0, 1}, {1, 0}, {1, 1}, {1, 2}}, {{0, 0}, {0, 5}, {0, 39}});
    tl::MaskTensor *f = m.find("bert.encoder.layer.1.intermediate.dense.weight");
    for (size_t i = 0; i < f->keep.size(); i += 3)
        f->keep[i] = 0;
    return m;
}

} // namespace

class TestCompact : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void compactComputesWhatTheMaskedModelComputes()
    {
        tl::BertNet net = randomNet(3);
        const tl::MaskSet mask = structuredMask(net);
        tl::CompactReport report;
        tl::BertNet compact = tl::compactModel(net, mask, &report);
        QCOMPARE(report.headsRemoved, int64_t(4));
        QCOMPARE(report.headsTotal, int64_t(6));
        QCOMPARE(report.neuronsRemoved, int64_t(3));
        QCOMPARE(report.neuronsTotal, int64_t(80));
        // 4 heads x 8 rows of Q, K, V (24 inputs + bias) and 8 attention-output columns (24 rows);
        // 3 neurons x (24 FFN-in weights + bias + 24 FFN-out weights).
        QCOMPARE(report.parametersBefore - report.parametersAfter, int64_t(4 * (3 * 8 * 25 + 8 * 24) + 3 * 49));
        const tl::BertConfig &c = compact->config;
        QCOMPARE(c.prunedHeads.at(0), (std::vector<int64_t>{1}));
        QCOMPARE(c.prunedHeads.at(1), (std::vector<int64_t>{0, 1, 2}));
        QCOMPARE(c.intermediateSizes, (std::vector<int64_t>{37, 40}));

        // The masked model: the same weights, masked in place.
        const torch::Tensor before = logits(net);
        tl::BertNet masked = randomNet(3);
        tl::applyMask(tl::maskTensors(tl::prunableParameters(masked), mask));
        const torch::Tensor want = logits(masked);
        const double diff = (logits(compact) - want).abs().max().item<double>();
        qInfo("compact vs masked: max |diff| %.2e (logit scale %.2f)", diff, want.abs().max().item<double>());
        QVERIFY2(diff < 1e-5, qPrintable(QString::number(diff)));
        QVERIFY((before - want).abs().max().item<double>() > 1e-3); // the mask does change the model
        QVERIFY(torch::equal(logits(net), before));                 // and compacting left net alone

        // Saved as a folder and loaded again: the config's pruned_heads and intermediate_sizes
        // rebuild the same shapes.
        QTemporaryDir dir;
        tl::saveBert(compact, dir.path().toStdString());
        tl::BertNet loaded = tl::loadBert(dir.path().toStdString(), tl::BertHeads{true, true, false});
        QCOMPARE(loaded->bert->encoder->layer[1]->as<tl::BertLayerImpl>()->attention->self->heads, int64_t(0));
        QVERIFY((logits(loaded) - want).abs().max().item<double>() < 1e-5);

        // A compacted model is compacted once.
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::compactModel(loaded, mask));

        // The reference transcription of transformers 4.x's BertModel, which builds the layers
        // config.json's pruned_heads describe, gives the same logits.
        const QString python = tltest::pythonWithTorch();
        if (python.isEmpty())
            TL_SKIP("python3 with torch and numpy is not installed (apt-get install python3-torch python3-numpy)");
        const Inputs in = inputs();
        const QString inPath = dir.filePath(QStringLiteral("inputs.json")),
                      outPath = dir.filePath(QStringLiteral("out.json"));
        QFile f(inPath);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(QJsonObject{{QStringLiteral("input_ids"), toJson(in.ids)},
                                          {QStringLiteral("token_type_ids"), toJson(in.types)},
                                          {QStringLiteral("attention_mask"), toJson(in.mask)}})
                    .toJson());
        f.close();
        QProcess py;
        py.start(python, {QStringLiteral(TICKETLAB_SOURCE_DIR "/tests/reference/hf_bert_reference.py"), dir.path(),
                          inPath, outPath});
        QVERIFY(py.waitForFinished(120000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        QFile r(outPath);
        QVERIFY(r.open(QIODevice::ReadOnly));
        const torch::Tensor ref =
            fromJson(QJsonDocument::fromJson(r.readAll()).object()[QStringLiteral("logits")].toArray());
        const double refDiff = (ref - want).abs().max().item<double>();
        qInfo("reference (transformers 4.x transcription) vs masked: max |diff| %.2e", refDiff);
        QVERIFY2(refDiff < 1e-4, qPrintable(QString::number(refDiff)));
    }

    void sameLogitsOnTheDevSet()
    {
        // On every MRPC dev example of the shared data, tokenized with bert-base-uncased's vocab:
        // a random pair classifier with head 0 of layer 0, heads 1-2 of layer 1 and a tenth of
        // the FFN neurons removed, masked against compacted.
        TL_REQUIRE_SHARED_DATA(data);
        const tl::BertTokenizer tokenizer(
            tl::Vocab::load((data + QStringLiteral("/vocab/bert-base-uncased/vocab.txt")).toStdString()));
        tl::TaskSpec task = tl::taskByName("MRPC");
        const std::vector<tl::Example> dev = tl::readLabelledExamples(
            task, tl::splitPath(task, (data + QStringLiteral("/glue/MRPC")).toStdString(), "dev"));
        QCOMPARE(dev.size(), size_t(408));
        tl::BertConfig c = tltest::smallConfig(30522, 128, 24);
        c.numAttentionHeads = 3;
        c.intermediateSize = 40;
        torch::manual_seed(9);
        tl::BertNet net(c, tl::BertHeads{true, true, false});
        tl::MaskSet mask = tl::denseMask(tl::prunableParameters(net));
        std::vector<tl::UnitId> neurons;
        for (int j = 0; j < 40; j += 10)
            neurons.push_back({j % 20 == 0 ? 0 : 1, j});
        tl::pruneUnits(mask, 3, {{0, 0}, {1, 1}, {1, 2}}, neurons);
        tl::BertNet compact = tl::compactModel(net, mask);
        tl::applyMask(tl::maskTensors(tl::prunableParameters(net), mask));
        const std::vector<float> a = tl::predictLogits(net, tokenizer, task, dev, 128, 64, torch::kCPU);
        const std::vector<float> b = tl::predictLogits(compact, tokenizer, task, dev, 128, 64, torch::kCPU);
        QCOMPARE(a.size(), b.size());
        double diff = 0;
        for (size_t i = 0; i < a.size(); ++i)
            diff = std::max(diff, double(std::abs(a[i] - b[i])));
        qInfo("MRPC dev (%zu examples): max |logit diff| compact vs masked %.2e", dev.size(), diff);
        QVERIFY2(diff < 1e-5, qPrintable(QString::number(diff)));
    }

    void headImportanceOfKnownDeadUnits()
    {
        torch::manual_seed(5);
        const tl::TaskSpec task = tl::taskByName("generic-regression");
        tl::BertConfig config = tltest::smallConfig(13, 16, 32); // 2 heads of 16, FFN 64
        config.regression = true;
        tl::BertNet net(config, tl::BertHeads{true, true, false});
        {
            // Head 1 of layer 0 writes nothing (its attention-output columns are 0), and FFN
            // neuron 7 of layer 1 neither (its FFN-out column): their gates cannot matter.
            torch::NoGradGuard g;
            for (auto &p : net->named_parameters()) {
                if (p.key() == "bert.encoder.layer.0.attention.output.dense.weight")
                    p.value().narrow(1, 16, 16).zero_();
                if (p.key() == "bert.encoder.layer.1.output.dense.weight")
                    p.value().select(1, 7).zero_();
            }
        }
        std::vector<torch::Tensor> before;
        for (auto &p : net->parameters())
            before.push_back(p.detach().clone());
        const tl::BertTokenizer tokenizer{tltest::wordVocab()};
        const tl::UnitImportance imp =
            tl::unitImportance(net, tokenizer, task, tltest::wordRegressionExamples(40), true, 16, 16, torch::kCPU);
        QCOMPARE(imp.heads.size(), size_t(2));
        QCOMPARE(imp.heads[0][1], 0.0);
        QVERIFY(imp.heads[0][0] > 0);
        QVERIFY(std::abs(imp.heads[0][0] - 1.0) < 1e-12); // normalised: the only live head of layer 0
        double norm = 0;
        for (double v : imp.heads[1])
            norm += v * v;
        QVERIFY(std::abs(norm - 1.0) < 1e-9);
        QCOMPARE(imp.neurons.size(), size_t(2));
        QCOMPARE(imp.neurons[1].size(), size_t(64));
        QCOMPARE(imp.neurons[1][7], 0.0);
        QVERIFY(imp.neurons[1][6] > 0);
        QCOMPARE(imp.examples, int64_t(40));
        // The model is as it was: no gate left, no gradient taken, the same weights.
        auto *self = net->bert->encoder->layer[0]->as<tl::BertLayerImpl>()->attention->self.get();
        QVERIFY(!self->headGate.defined());
        size_t i = 0;
        for (auto &p : net->parameters()) {
            QVERIFY(torch::equal(p, before[i++]));
            QVERIFY(p.requires_grad());
            QVERIFY(!p.grad().defined() || p.grad().abs().sum().item<double>() == 0);
        }
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::unitImportance(net, tokenizer, task, {}, false, 16, 16, torch::kCPU));
    }
};

QTEST_GUILESS_MAIN(TestCompact)
#include "tst_compact.moc"
