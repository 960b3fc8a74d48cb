// A config.json that disagrees with its checkpoint, or asks for an absurd model, is refused
// before anything is allocated: quickly, naming the config key, the tensor and both shapes,
// in one line without LibTorch's stack frames.

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "testdata.h"

class TestBadConfig : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_model;

    QString modelWith(const QString &name, const QJsonObject &patch)
    {
        const QString dir = m_dir.filePath(name);
        QDir().mkpath(dir);
        for (const char *f : {"model.safetensors", "vocab.txt"})
            QFile::copy(m_model + QLatin1Char('/') + QLatin1String(f), dir + QLatin1Char('/') + QLatin1String(f));
        QFile in(m_model + QStringLiteral("/config.json"));
        in.open(QIODevice::ReadOnly);
        QJsonObject config = QJsonDocument::fromJson(in.readAll()).object();
        for (auto it = patch.begin(); it != patch.end(); ++it)
            config[it.key()] = it.value();
        QFile out(dir + QStringLiteral("/config.json"));
        out.open(QIODevice::WriteOnly);
        out.write(QJsonDocument(config).toJson());
        return dir;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QFile vocab(m_dir.filePath(QStringLiteral("vocab.txt")));
        QVERIFY(vocab.open(QIODevice::WriteOnly));
        vocab.write("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\ncat\nsat\n");
        vocab.close();
        m_model = m_dir.filePath(QStringLiteral("tiny"));
        const auto r = tltest::runCli({QStringLiteral("init"), QStringLiteral("--preset"), QStringLiteral("tiny"),
                                       QStringLiteral("--vocab"), vocab.fileName(), QStringLiteral("--out"), m_model});
        QVERIFY2(r.exitCode == 0, r.err.constData());
    }

    void refusedBeforeAllocating_data()
    {
        QTest::addColumn<QJsonObject>("patch");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("100000 layers") << QJsonObject{{QStringLiteral("num_hidden_layers"), 100000}}
                                       << QStringList{QStringLiteral("'num_hidden_layers'"), QStringLiteral("256")};
        QTest::newRow("hidden 1e9") << QJsonObject{{QStringLiteral("hidden_size"), 1000000000}}
                                    << QStringList{QStringLiteral("'hidden_size'"), QStringLiteral("65536")};
        QTest::newRow("3 layers for 2") << QJsonObject{{QStringLiteral("num_hidden_layers"), 3}}
                                        << QStringList{QStringLiteral("'num_hidden_layers' is 3"),
                                                       QStringLiteral("holds 2 encoder layers")};
        QTest::newRow("ffn") << QJsonObject{{QStringLiteral("intermediate_size"), 100}}
                             << QStringList{QStringLiteral("'intermediate_size'"),
                                            QStringLiteral("bert.encoder.layer.0.intermediate.dense.weight"),
                                            QStringLiteral("[100, 128]"), QStringLiteral("[512, 128]")};
        QTest::newRow("hidden 256") << QJsonObject{{QStringLiteral("hidden_size"), 256}}
                                    << QStringList{QStringLiteral("'hidden_size'"), QStringLiteral("[8, 256]"),
                                                   QStringLiteral("[8, 128]")};
        QTest::newRow("positions") << QJsonObject{{QStringLiteral("max_position_embeddings"), 1024}}
                                   << QStringList{QStringLiteral("'max_position_embeddings'")};
    }
    void refusedBeforeAllocating()
    {
        QFETCH(QJsonObject, patch);
        QFETCH(QStringList, expected);
        const QString dir =
            modelWith(QString::fromUtf8(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('_')), patch);
        QElapsedTimer timer;
        timer.start();
        const auto r = tltest::runCli({QStringLiteral("fill-mask"), QStringLiteral("--model"), dir,
                                       QStringLiteral("--text"), QStringLiteral("the [MASK] sat")},
                                      60000);
        QVERIFY2(timer.elapsed() < 30000, "took too long: the model was built before the config was checked");
        QCOMPARE(r.exitCode, 1);
        const QString err = QString::fromUtf8(r.err);
        for (const QString &e : expected)
            QVERIFY2(err.contains(e), qPrintable(err));
        QVERIFY2(!err.contains(QStringLiteral("frame #")), qPrintable(err));
        QCOMPARE(err.trimmed().count(QLatin1Char('\n')), 0); // one line
    }

    void initRefusesAbsurdConfigs()
    {
        QFile config(m_dir.filePath(QStringLiteral("huge.json")));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write(R"({"hidden_size": 1000000000, "num_attention_heads": 1, "num_hidden_layers": 2})");
        config.close();
        QElapsedTimer timer;
        timer.start();
        const auto r = tltest::runCli({QStringLiteral("init"), QStringLiteral("--config"), config.fileName(),
                                       QStringLiteral("--vocab"), m_dir.filePath(QStringLiteral("vocab.txt")),
                                       QStringLiteral("--out"), m_dir.filePath(QStringLiteral("huge"))},
                                      60000);
        QVERIFY(timer.elapsed() < 30000);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("'hidden_size'"), r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestBadConfig)
#include "tst_badconfig.moc"
