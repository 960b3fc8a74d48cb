#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>

#include "testmodel.h"
#include "testdata.h"
#include "libtorch/io/checkpoint.h"
#include "io/safetensors.h"
#include "text/vocab.h"
#include "util/error.h"

namespace {

bool contains(const std::vector<std::string> &v, const std::string &s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

/// Writes a model's tensors under renamed keys (and extra ones), as other tools save them.
void writeRenamed(tl::BertNet &net, const std::string &path,
                  const std::function<std::string(const std::string &)> &rename,
                  const std::map<std::string, torch::Tensor> &extra = {})
{
    std::vector<torch::Tensor> keep;
    std::vector<tl::SafeTensorOut> out;
    auto add = [&](const std::string &name, const torch::Tensor &t) {
        torch::Tensor c = t.detach().contiguous();
        keep.push_back(c);
        out.push_back({name, tl::DType::F32, c.sizes().vec(), c.data_ptr()});
    };
    for (const auto &item : net->named_parameters()) {
        const std::string name = rename(item.key());
        if (!name.empty())
            add(name, item.value());
    }
    for (const auto &[k, v] : extra)
        add(k, v);
    tl::writeSafetensors(path, out);
}

void expectEqualParameters(tl::BertNet &a, tl::BertNet &b, const std::string &prefix = "")
{
    auto pb = b->named_parameters();
    for (const auto &item : a->named_parameters()) {
        if (item.key().rfind(prefix, 0) != 0)
            continue;
        QVERIFY2(pb.contains(item.key()), item.key().c_str());
        QVERIFY2(torch::equal(item.value(), pb[item.key()]), item.key().c_str());
    }
}

} // namespace

class TestCheckpoint : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void saveLoadRoundTripIsExact()
    {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        torch::manual_seed(1);
        tl::BertConfig c = tltest::smallConfig(40, 24, 16);
        c.id2label = {"neg", "neu", "pos"};
        tl::BertNet net(c, tl::BertHeads{true, true, true});
        tl::saveBert(net, d);
        tl::LoadReport report;
        tl::BertNet back = tl::loadBert(d, tl::BertHeads{true, true, true}, &report);
        QVERIFY(report.missingKeys.empty());
        QVERIFY(report.unusedKeys.empty());
        QCOMPARE(back->config.id2label[2], std::string("pos"));
        expectEqualParameters(net, back);
        // HF requires this metadata to read a safetensors checkpoint.
        const auto file = tl::SafetensorsFile::read(d + "/model.safetensors");
        QCOMPARE(file.metadata().at("format"), std::string("pt"));
    }

    void legacyNamesAndMissingPrefix()
    {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        torch::manual_seed(2);
        tl::BertNet net(tltest::smallConfig(40, 24, 16), tl::BertHeads{true, false, true});
        net->config.save(d + "/config.json");
        // TF-converted checkpoints: LayerNorm.gamma/beta; BertModel checkpoints: no "bert." prefix.
        writeRenamed(net, d + "/model.safetensors",
                     [](std::string k) {
                         if (k.rfind("bert.", 0) == 0)
                             k = k.substr(5);
                         const auto ln = k.find("LayerNorm.");
                         if (ln != std::string::npos)
                             k = k.substr(0, ln) +
                                 (k.substr(ln + 10) == "weight" ? "LayerNorm.gamma" : "LayerNorm.beta");
                         return k;
                     },
                     {{"embeddings.position_ids", torch::arange(24).view({1, 24}).to(torch::kFloat)}});
        tl::LoadReport report;
        tl::BertNet back = tl::loadBert(d, tl::BertHeads{true, false, true}, &report);
        QVERIFY2(report.missingKeys.empty(), tl::describe(report).c_str());
        QVERIFY2(report.unusedKeys.empty(), tl::describe(report).c_str());
        QVERIFY(contains(report.legacyRenamed, "embeddings.LayerNorm.gamma"));
        expectEqualParameters(net, back);
    }

    void pretrainingCheckpointIntoClassifier()
    {
        // As bert-base-uncased: pooler, MLM head with decoder aliases, NSP head, position_ids;
        // no classifier. Loading a classifier reports the head as new and the rest as unused.
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        torch::manual_seed(3);
        tl::BertNet net(tltest::smallConfig(40, 24, 16), tl::BertHeads{true, false, true});
        net->config.save(d + "/config.json");
        auto words = net->bert->embeddings->word_embeddings->weight;
        writeRenamed(net, d + "/model.safetensors", [](const std::string &k) { return k; },
                     {{"cls.predictions.decoder.weight", words},
                      {"cls.seq_relationship.weight", torch::zeros({2, 16})},
                      {"cls.seq_relationship.bias", torch::zeros({2})},
                      {"bert.embeddings.position_ids", torch::arange(24).view({1, 24}).to(torch::kFloat)}});
        tl::LoadReport report;
        tl::BertNet cls = tl::loadBert(d, tl::BertHeads{true, true, false}, &report);
        QVERIFY(contains(report.missingKeys, "classifier.weight"));
        QVERIFY(contains(report.missingKeys, "classifier.bias"));
        QCOMPARE(int(report.missingKeys.size()), 2);
        QVERIFY(contains(report.unusedKeys, "cls.seq_relationship.weight"));
        QVERIFY(contains(report.unusedKeys, "cls.predictions.bias"));
        QVERIFY(!contains(report.unusedKeys, "cls.predictions.decoder.weight")); // tied alias
        QVERIFY(!contains(report.unusedKeys, "bert.embeddings.position_ids"));   // a buffer
        expectEqualParameters(net, cls, "bert.");
        // The classifier is initialised as HF does: normal(0, 0.02) weights, zero bias.
        QCOMPARE(cls->classifier->bias.abs().max().item<float>(), 0.0f);
        QVERIFY(cls->classifier->weight.abs().max().item<float>() > 0.0f);
    }

    void decoderBiasAliasIsUsed()
    {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        tl::BertNet net(tltest::smallConfig(40, 24, 16), tl::BertHeads{false, false, true});
        net->config.save(d + "/config.json");
        auto bias = torch::linspace(-1, 1, 40);
        writeRenamed(net, d + "/model.safetensors",
                     [](const std::string &k) { return k == "cls.predictions.bias" ? std::string() : k; },
                     {{"cls.predictions.decoder.bias", bias}});
        tl::LoadReport report;
        tl::BertNet back = tl::loadBert(d, tl::BertHeads{false, false, true}, &report);
        QVERIFY(report.missingKeys.empty());
        QVERIFY(torch::equal(back->cls->predictions->bias, bias));
    }

    void shapeMismatchNamesTheKey()
    {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        tl::BertNet net(tltest::smallConfig(40, 24, 16), tl::BertHeads{true, true, false});
        tl::saveBert(net, d);
        tl::BertConfig wider = tltest::smallConfig(40, 24, 16);
        wider.intermediateSize = 48;
        try {
            tl::loadBert(d, tl::BertHeads{true, true, false}, nullptr, &wider);
            QFAIL("no error");
        } catch (const tl::Error &e) {
            QVERIFY2(
                QString::fromUtf8(e.what()).contains(QStringLiteral("bert.encoder.layer.0.intermediate.dense.weight")),
                e.what());
        }
        // Another label count only re-initialises the head.
        tl::BertConfig three = tltest::smallConfig(40, 24, 16);
        three.id2label = {"a", "b", "c"};
        tl::LoadReport report;
        tl::BertNet back = tl::loadBert(d, tl::BertHeads{true, true, false}, &report, &three);
        QVERIFY(contains(report.reinitialised, "classifier.weight"));
        QCOMPARE(back->classifier->weight.size(0), 3);
    }

    void missingFilesAreClearErrors()
    {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::findWeightsFile(d));
        QFile bin(dir.filePath(QStringLiteral("pytorch_model.bin")));
        QVERIFY(bin.open(QIODevice::WriteOnly));
        bin.write("definitely not a zip archive");
        bin.close();
        try {
            tl::readStateDict(tl::findWeightsFile(d));
            QFAIL("no error");
        } catch (const tl::Error &e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains(QStringLiteral("pytorch_model.bin")) && msg.contains(QStringLiteral("safetensors")),
                     e.what());
        }
    }

    void readsPytorchModelBin()
    {
        // A real torch.save() file, made by Debian's python3-torch when it is installed.
        const QString python = tltest::pythonWithTorch();
        if (python.isEmpty())
            TL_SKIP("python3 with torch is not installed (apt-get install python3-torch)");
        QTemporaryDir dir;
        const QString bin = dir.filePath(QStringLiteral("pytorch_model.bin"));
        QProcess py;
        py.start(
            python,
            {QStringLiteral("-c"),
             QStringLiteral(
                 "import torch, collections, sys\n"
                 "sd = collections.OrderedDict()\n"
                 "sd['bert.embeddings.word_embeddings.weight'] = torch.arange(12, dtype=torch.float32).view(3, 4)\n"
                 "sd['bert.embeddings.LayerNorm.gamma'] = torch.ones(4, dtype=torch.float16)\n"
                 "torch.save(sd, sys.argv[1])\n"),
             bin});
        QVERIFY(py.waitForFinished(120000));
        QCOMPARE(py.exitCode(), 0);
        tl::LoadReport report;
        const auto state = tl::readStateDict(bin.toStdString(), &report);
        QCOMPARE(int(state.size()), 2);
        QVERIFY(torch::equal(state.at("bert.embeddings.word_embeddings.weight"),
                             torch::arange(12, torch::kFloat).view({3, 4})));
        QCOMPARE(state.at("bert.embeddings.LayerNorm.weight").dtype(), torch::kFloat);
    }
};

QTEST_APPLESS_MAIN(TestCheckpoint)
#include "tst_checkpoint.moc"
