#include <QTemporaryDir>
#include <QtTest>

#include "model/bert_config.h"
#include "util/error.h"

using nlohmann::json;

class TestBertConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readsHuggingFaceConfig()
    {
        // bert-base-uncased's config.json, as published.
        const json j = json::parse(R"({
          "architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1,
          "gradient_checkpointing": false, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
          "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
          "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert",
          "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 0,
          "position_embedding_type": "absolute", "transformers_version": "4.6.0.dev0",
          "type_vocab_size": 2, "use_cache": true, "vocab_size": 30522})");
        const tl::BertConfig c = tl::BertConfig::fromJson(j, "config.json");
        QCOMPARE(c.hiddenSize, 768);
        QCOMPARE(c.numHiddenLayers, 12);
        QCOMPARE(c.headDim(), 64);
        QCOMPARE(c.layerNormEps, 1e-12);
        QCOMPARE(c.numLabels(), 2);
        QVERIFY(!c.regression);
        // Unknown keys survive a round trip.
        const json back = c.toJson();
        QCOMPARE(back["transformers_version"].get<std::string>(), std::string("4.6.0.dev0"));
        QCOMPARE(back["vocab_size"].get<int>(), 30522);
        QCOMPARE(tl::BertConfig::fromJson(back, "x").intermediateSize, 3072);
    }

    void labelsAndRegression()
    {
        const json mnli = json::parse(R"({"id2label": {"0": "contradiction", "1": "entailment", "2": "neutral"},
                                          "label2id": {"contradiction": 0, "entailment": 1, "neutral": 2}})");
        const tl::BertConfig c = tl::BertConfig::fromJson(mnli, "c");
        QCOMPARE(c.numLabels(), 3);
        QCOMPARE(c.id2label[2], std::string("neutral"));
        const tl::BertConfig sts = tl::BertConfig::fromJson(json::parse(R"({"num_labels": 1})"), "c");
        QVERIFY(sts.regression);
        QCOMPARE(sts.numLabels(), 1);
        const tl::BertConfig back = tl::BertConfig::fromJson(sts.toJson(), "c");
        QVERIFY(back.regression);
        const tl::BertConfig five = tl::BertConfig::fromJson(json::parse(R"({"num_labels": 5})"), "c");
        QCOMPARE(five.numLabels(), 5);
        QCOMPARE(five.id2label[4], std::string("LABEL_4"));
    }

    void badValuesNameTheKey_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("key");
        QTest::newRow("type") << R"({"hidden_size": "768"})"
                              << "hidden_size";
        QTest::newRow("heads") << R"({"hidden_size": 100, "num_attention_heads": 12})"
                               << "hidden_size";
        QTest::newRow("act") << R"({"hidden_act": "swish"})"
                             << "hidden_act";
        QTest::newRow("dropout") << R"({"hidden_dropout_prob": 1.5})"
                                 << "hidden_dropout_prob";
        QTest::newRow("position") << R"({"position_embedding_type": "relative_key"})"
                                  << "position_embedding_type";
        QTest::newRow("id2label") << R"({"id2label": {"0": "a", "2": "b"}})"
                                  << "id2label";
        QTest::newRow("negative") << R"({"num_hidden_layers": -1})"
                                  << "num_hidden_layers";
    }

    void badValuesNameTheKey()
    {
        QFETCH(QString, text);
        QFETCH(QString, key);
        try {
            tl::BertConfig::fromJson(json::parse(text.toStdString()), "my/config.json");
            QFAIL("no error");
        } catch (const tl::Error &e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains(QStringLiteral("my/config.json")), qPrintable(msg));
            QVERIFY2(msg.contains(key), qPrintable(msg));
        }
    }

    void loadReportsFileErrors()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("config.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{ not json");
        f.close();
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::BertConfig::load(path.toStdString()));
        // JSON whose number no double holds: nlohmann throws out_of_range, not parse_error; it
        // escaped as a foreign exception without the file's name until fuzz_config found it.
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(R"({"hidden_size": 128, "layer_norm_eps": 1e612})");
        f.close();
        try {
            tl::BertConfig::load(path.toStdString());
            QFAIL("expected tl::Error");
        } catch (const tl::Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).startsWith(path + QStringLiteral(": invalid JSON")), e.what());
        }
        QVERIFY_THROWS_EXCEPTION(tl::Error,
                                 tl::BertConfig::load(dir.filePath(QStringLiteral("absent.json")).toStdString()));
        tl::BertConfig c = tl::BertConfig::preset("mini");
        c.save(path.toStdString());
        QCOMPARE(tl::BertConfig::load(path.toStdString()).hiddenSize, 256);
    }

    void presets()
    {
        QCOMPARE(tl::BertConfig::preset("tiny").numHiddenLayers, 2);
        QCOMPARE(tl::BertConfig::preset("large").numAttentionHeads, 16);
        QVERIFY_THROWS_EXCEPTION(tl::Error, tl::BertConfig::preset("huge"));
    }
};

QTEST_APPLESS_MAIN(TestBertConfig)
#include "tst_bertconfig.moc"
