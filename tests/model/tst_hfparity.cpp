// TicketLab's BERT against a line-by-line PyTorch transcription of Hugging Face's
// modeling_bert.py (tests/reference/hf_bert_reference.py), on the same checkpoint.

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "testdata.h"
#include "libtorch/io/checkpoint.h"

namespace {

QJsonArray toJson(const torch::Tensor &t)
{
    QJsonArray out;
    if (t.dim() == 1) {
        for (int64_t i = 0; i < t.size(0); ++i)
            out.append(t[i].item<double>());
    } else {
        for (int64_t i = 0; i < t.size(0); ++i)
            out.append(toJson(t[i]));
    }
    return out;
}

torch::Tensor fromJson(const QJsonArray &a)
{
    if (!a.isEmpty() && a[0].isArray()) {
        std::vector<torch::Tensor> rows;
        for (const QJsonValue v : a)
            rows.push_back(fromJson(v.toArray()));
        return torch::stack(rows);
    }
    std::vector<float> values;
    for (const QJsonValue v : a)
        values.push_back(static_cast<float>(v.toDouble()));
    return torch::tensor(values);
}

} // namespace

class TestHfParity : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void matchesReference_data()
    {
        QTest::addColumn<QString>("act");
        QTest::newRow("gelu") << QStringLiteral("gelu");
        QTest::newRow("gelu_new") << QStringLiteral("gelu_new");
        QTest::newRow("relu") << QStringLiteral("relu");
    }

    void matchesReference()
    {
        QFETCH(QString, act);
        const QString python = tltest::pythonWithTorch();
        if (python.isEmpty())
            TL_SKIP("python3 with torch and numpy is not installed (apt-get install python3-torch python3-numpy)");
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        tl::BertConfig c = tl::BertConfig::preset("tiny");
        c.vocabSize = 50;
        c.hiddenSize = 24;
        c.numAttentionHeads = 3;
        c.intermediateSize = 40;
        c.maxPositionEmbeddings = 16;
        c.layerNormEps = 1e-12;
        c.hiddenAct = act.toStdString();
        c.id2label = {"a", "b", "c"};
        torch::manual_seed(11);
        tl::BertNet net(c, tl::BertHeads{true, true, true});
        {
            // Every parameter random, biases and LayerNorm included, so no term hides behind a 0 or 1.
            torch::NoGradGuard g;
            for (auto &p : net->parameters())
                p.normal_(0.0, 0.5);
        }
        tl::saveBert(net, d);
        auto ids = torch::tensor({{2, 7, 8, 9, 10, 3, 0, 0}, {2, 11, 12, 3, 13, 14, 15, 3}}, torch::kLong);
        auto types = torch::tensor({{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 1, 1, 1}}, torch::kLong);
        auto mask = torch::tensor({{1, 1, 1, 1, 1, 1, 0, 0}, {1, 1, 1, 1, 1, 1, 1, 1}}, torch::kLong);
        net->eval();
        torch::NoGradGuard g;
        const auto logits = net->classify(ids, types, mask);
        const auto mlm = net->mlmLogits(ids, types, mask, torch::ones_like(ids).to(torch::kBool)).view({2, 8, 50});

        const QString in = dir.filePath(QStringLiteral("inputs.json")), out = dir.filePath(QStringLiteral("out.json"));
        QFile f(in);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QJsonDocument(QJsonObject{{QStringLiteral("input_ids"), toJson(ids)},
                                          {QStringLiteral("token_type_ids"), toJson(types)},
                                          {QStringLiteral("attention_mask"), toJson(mask)}})
                    .toJson());
        f.close();
        QProcess py;
        py.start(python,
                 {QStringLiteral(TICKETLAB_SOURCE_DIR "/tests/reference/hf_bert_reference.py"), dir.path(), in, out});
        QVERIFY(py.waitForFinished(120000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        QFile r(out);
        QVERIFY(r.open(QIODevice::ReadOnly));
        const QJsonObject ref = QJsonDocument::fromJson(r.readAll()).object();
        const auto refLogits = fromJson(ref[QStringLiteral("logits")].toArray());
        const auto refMlm = fromJson(ref[QStringLiteral("mlm_logits")].toArray());
        QCOMPARE(refLogits.sizes().vec(), logits.sizes().vec());
        QCOMPARE(refMlm.sizes().vec(), mlm.sizes().vec());
        const double dl = (refLogits - logits).abs().max().item<double>();
        // Padded positions of row 0 are compared too: HF computes them, and so do we.
        const double dm = (refMlm - mlm).abs().max().item<double>();
        qInfo("%s: max |diff| classifier %.2e, MLM %.2e (logit scale %.1f)", qPrintable(act), dl, dm,
              refMlm.abs().max().item<double>());
        QVERIFY2(dl < 1e-4, qPrintable(QString::number(dl)));
        QVERIFY2(dm < 1e-3, qPrintable(QString::number(dm)));
    }
};

QTEST_APPLESS_MAIN(TestHfParity)
#include "tst_hfparity.moc"
