#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "demodata.h"
#include "testdata.h"
#include "testruns.h"
#include "prune/prune_order.h"
#include "store/experiment_store.h"

namespace {

using Result = tltest::CliResult;

Result cli(const QStringList &args, int timeoutMs = 300000)
{
    return tltest::runCli(args, timeoutMs);
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_data, m_model, m_tuned;

    QString path(const QString &name) const { return m_dir.filePath(name); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_data = path(QStringLiteral("demo"));
        const Result gen = cli({QStringLiteral("demo-data"), QStringLiteral("--out"), m_data, QStringLiteral("--train"),
                                QStringLiteral("300"), QStringLiteral("--dev"), QStringLiteral("60"),
                                QStringLiteral("--corpus-lines"), QStringLiteral("800")});
        EXPECT_OK(gen);
        m_model = path(QStringLiteral("init"));
        const Result init =
            cli({QStringLiteral("init"), QStringLiteral("--preset"), QStringLiteral("tiny"), QStringLiteral("--vocab"),
                 m_data + QStringLiteral("/vocab.txt"), QStringLiteral("--out"), m_model});
        EXPECT_OK(init);
        for (const char *f : {"config.json", "model.safetensors", "vocab.txt"})
            QVERIFY2(QFile::exists(m_model + QLatin1Char('/') + QLatin1String(f)), f);
    }

    void helpForEveryCommand_data()
    {
        QTest::addColumn<QString>("command");
        for (const char *c : {"tokenize", "predict", "fill-mask", "finetune", "evaluate", "pretrain", "init",
                              "bench-train", "demo", "demo-data", "analyze"})
            QTest::newRow(c) << QString::fromLatin1(c);
    }

    void helpForEveryCommand()
    {
        QFETCH(QString, command);
        const Result r = cli({command, QStringLiteral("--help")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out.contains("--"));
    }

    void tokenizeRealSst2()
    {
        TL_REQUIRE_SHARED_DATA(data);
        const Result r =
            cli({QStringLiteral("tokenize"), QStringLiteral("--vocab"),
                 data + QStringLiteral("/vocab/bert-base-uncased/vocab.txt"), QStringLiteral("--task"),
                 QStringLiteral("sst-2"), QStringLiteral("--data"), data + QStringLiteral("/glue/SST-2/dev.tsv")});
        EXPECT_OK(r);
        const auto lines = r.jsonLines();
        QCOMPARE(lines.size(), 872);
        // "it 's a charming and often affecting journey ."
        const QList<int> expected = {101, 2009, 1005, 1055, 1037, 11951, 1998, 2411, 12473, 4990, 1012, 102};
        QList<int> ids;
        for (const QJsonValue v : lines.first()[QStringLiteral("input_ids")].toArray())
            ids.append(v.toInt());
        QCOMPARE(ids, expected);
        QCOMPARE(lines.first()[QStringLiteral("token_type_ids")].toArray().size(), expected.size());
    }

    void finetunePredictEvaluate()
    {
        m_tuned = path(QStringLiteral("tuned"));
        const Result ft = cli({QStringLiteral("finetune"),
                               QStringLiteral("--model"),
                               m_model,
                               QStringLiteral("--task"),
                               QStringLiteral("SST-2"),
                               QStringLiteral("--data-dir"),
                               m_data + QStringLiteral("/sentiment"),
                               QStringLiteral("--out"),
                               m_tuned,
                               QStringLiteral("--epochs"),
                               QStringLiteral("1"),
                               QStringLiteral("--max-steps"),
                               QStringLiteral("6"),
                               QStringLiteral("--batch-size"),
                               QStringLiteral("16"),
                               QStringLiteral("--lr"),
                               QStringLiteral("1e-3"),
                               QStringLiteral("--threads"),
                               QStringLiteral("2"),
                               QStringLiteral("--log-every"),
                               QStringLiteral("2")});
        EXPECT_OK(ft);
        QVERIFY2(ft.err.contains("step 6/6"), ft.err.constData());
        QVERIFY(ft.out.contains("accuracy"));
        QFile metricsFile(m_tuned + QStringLiteral("/metrics.json"));
        QVERIFY(metricsFile.open(QIODevice::ReadOnly));
        const QJsonObject metrics = QJsonDocument::fromJson(metricsFile.readAll()).object();
        QCOMPARE(metrics[QStringLiteral("task")].toString(), QStringLiteral("SST-2"));
        QVERIFY(metrics[QStringLiteral("final")].toObject().contains(QStringLiteral("accuracy")));

        const Result pred =
            cli({QStringLiteral("predict"), QStringLiteral("--model"), m_tuned, QStringLiteral("--task"),
                 QStringLiteral("sst-2"), QStringLiteral("--data"), m_data + QStringLiteral("/sentiment/dev.tsv")});
        EXPECT_OK(pred);
        const auto lines = pred.jsonLines();
        QCOMPARE(lines.size(), 60);
        QCOMPARE(lines.first()[QStringLiteral("logits")].toArray().size(), 2);

        const Result ev =
            cli({QStringLiteral("evaluate"), QStringLiteral("--model"), m_tuned, QStringLiteral("--task"),
                 QStringLiteral("SST-2"), QStringLiteral("--data-dir"), m_data + QStringLiteral("/sentiment")});
        EXPECT_OK(ev);
        const QJsonObject e = ev.jsonLines().first();
        const double acc = e[QStringLiteral("metrics")].toObject()[QStringLiteral("accuracy")].toDouble(-1);
        QVERIFY(acc >= 0.0 && acc <= 1.0);
        // evaluate agrees with the accuracy of predict's logits.
        QFile dev(m_data + QStringLiteral("/sentiment/dev.tsv"));
        QVERIFY(dev.open(QIODevice::ReadOnly));
        dev.readLine();
        int hits = 0;
        for (const QJsonObject &line : lines) {
            const QJsonArray l = line[QStringLiteral("logits")].toArray();
            const int predicted = l[1].toDouble() > l[0].toDouble() ? 1 : 0;
            const int gold = QString::fromUtf8(dev.readLine()).trimmed().split(QLatin1Char('\t')).last().toInt();
            hits += predicted == gold;
        }
        QCOMPARE(acc, hits / 60.0);
    }

    void fillMask()
    {
        const Result r =
            cli({QStringLiteral("fill-mask"), QStringLiteral("--model"), m_model, QStringLiteral("--text"),
                 QStringLiteral("the [MASK] runs in the [MASK]."), QStringLiteral("--top-k"), QStringLiteral("3")});
        EXPECT_OK(r);
        const QJsonArray masks = r.jsonLines().first()[QStringLiteral("masks")].toArray();
        QCOMPARE(masks.size(), 2);
        const QJsonArray top = masks[0].toArray();
        QCOMPARE(top.size(), 3);
        QVERIFY(top[0].toObject()[QStringLiteral("score")].toDouble() >=
                top[1].toObject()[QStringLiteral("score")].toDouble());
        QVERIFY(top[0].toObject().contains(QStringLiteral("token")));
        QVERIFY(top[0].toObject().contains(QStringLiteral("token_id")));
    }

    void pretrainWritesModel()
    {
        const QString out = path(QStringLiteral("pre"));
        const Result r = cli(
            {QStringLiteral("pretrain"), QStringLiteral("--corpus"), m_data + QStringLiteral("/corpus"),
             QStringLiteral("--vocab"), m_data + QStringLiteral("/vocab.txt"), QStringLiteral("--preset"),
             QStringLiteral("tiny"), QStringLiteral("--out"), out, QStringLiteral("--max-steps"), QStringLiteral("4"),
             QStringLiteral("--seq-len"), QStringLiteral("32"), QStringLiteral("--batch-size"), QStringLiteral("8"),
             QStringLiteral("--progress"), QStringLiteral("json"), QStringLiteral("--log-every"), QStringLiteral("2")});
        EXPECT_OK(r);
        const auto lines = r.jsonLines();
        QCOMPARE(lines.first()[QStringLiteral("event")].toString(), QStringLiteral("progress"));
        QVERIFY(lines.first().contains(QStringLiteral("eta_s")));
        QCOMPARE(lines.last()[QStringLiteral("event")].toString(), QStringLiteral("done"));
        QCOMPARE(lines.last()[QStringLiteral("steps")].toInt(), 4);
        QVERIFY(QFile::exists(out + QStringLiteral("/model.safetensors")));
    }

    void mlmTask()
    {
        // "mlm" as a task: masked-LM on a folder of text, through finetune, evaluate and tokenize.
        const QString out = path(QStringLiteral("mlm"));
        const QString corpus = m_data + QStringLiteral("/corpus");
        const Result ft = cli({QStringLiteral("finetune"), QStringLiteral("--model"), m_model, QStringLiteral("--task"),
                               QStringLiteral("MLM"), QStringLiteral("--data-dir"), corpus, QStringLiteral("--out"),
                               out, QStringLiteral("--max-steps"), QStringLiteral("3"), QStringLiteral("--max-seq-len"),
                               QStringLiteral("32"), QStringLiteral("--batch-size"), QStringLiteral("8"),
                               QStringLiteral("--progress"), QStringLiteral("json")});
        EXPECT_OK(ft);
        const QJsonObject done = ft.jsonLines().last();
        QCOMPARE(done[QStringLiteral("event")].toString(), QStringLiteral("done"));
        QCOMPARE(done[QStringLiteral("metrics")].toObject()[QStringLiteral("steps")].toInt(), 3);
        QVERIFY(QFile::exists(out + QStringLiteral("/metrics.json")));

        const Result ev = cli({QStringLiteral("evaluate"), QStringLiteral("--model"), out, QStringLiteral("--task"),
                               QStringLiteral("mlm"), QStringLiteral("--data-dir"), corpus,
                               QStringLiteral("--max-seq-len"), QStringLiteral("32")});
        EXPECT_OK(ev);
        const QJsonObject m = ev.jsonLines().first()[QStringLiteral("metrics")].toObject();
        QVERIFY(m[QStringLiteral("masked_tokens")].toInt() > 0);
        QVERIFY(m[QStringLiteral("perplexity")].toDouble() > 1.0);

        const Result tok =
            cli({QStringLiteral("tokenize"), QStringLiteral("--vocab"), m_model, QStringLiteral("--task"),
                 QStringLiteral("mlm"), QStringLiteral("--data"), corpus + QStringLiteral("/toy.txt"),
                 QStringLiteral("--max-seq-len"), QStringLiteral("16")});
        EXPECT_OK(tok);
        const auto lines = tok.jsonLines();
        QCOMPARE(lines.size(), 800);
        QVERIFY(lines.first()[QStringLiteral("input_ids")].toArray().size() <= 16);
    }

    void benchTrain()
    {
        const Result r =
            cli({QStringLiteral("bench-train"), QStringLiteral("--layers"), QStringLiteral("1"),
                 QStringLiteral("--hidden"), QStringLiteral("32"), QStringLiteral("--heads"), QStringLiteral("2"),
                 QStringLiteral("--intermediate"), QStringLiteral("64"), QStringLiteral("--batch"), QStringLiteral("4"),
                 QStringLiteral("--seq"), QStringLiteral("16"), QStringLiteral("--steps"), QStringLiteral("2")});
        EXPECT_OK(r);
        const QJsonObject j = r.jsonLines().last();
        QVERIFY(j[QStringLiteral("seq_per_s")].toDouble() > 0);
        QVERIFY(j[QStringLiteral("peak_mem_mb")].toDouble() > 10);
    }

    void analyzeStoredRun()
    {
        // One layer (hidden 4, 2 heads): round 1 prunes Q rows 0-1 (head 0), round 2 also the
        // attention-output columns 2-3 (head 1's inputs).
        const std::string db = path(QStringLiteral("analyze.db")).toStdString();
        int64_t run = 0;
        {
            auto store = tl::ExperimentStore::open(db);
            const int64_t model = store->upsertModel({0, "/m", R"({"num_attention_heads": 2})", "h"});
            tl::MaskSet mask;
            for (const char *m :
                 {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"})
                mask.tensors.push_back(
                    {std::string("bert.encoder.layer.0.") + m + ".weight", {4, 4}, std::vector<uint8_t>(16, 1)});
            tl::PruneOrder order = tl::PruneOrder::fromMask(mask);
            std::fill(mask.tensors[0].keep.begin(), mask.tensors[0].keep.begin() + 8, 0);
            order.record(mask, 1);
            for (int row = 0; row < 4; ++row)
                mask.tensors[3].keep[size_t(row * 4 + 2)] = mask.tensors[3].keep[size_t(row * 4 + 3)] = 0;
            order.record(mask, 2);
            tltest::RunBuilder b(tl::RunKind::Imp, "RTE");
            b.model(model).order(order);
            for (int k = 0; k < 3; ++k)
                b.round(k, order.maskAt(k).sparsity(), 0.5);
            run = b.create(*store);
        }
        const QString dbArg = QString::fromStdString(db), runArg = QString::number(run);
        const Result layers =
            cli({QStringLiteral("analyze"), QStringLiteral("layer-sparsity"), QStringLiteral("--db"), dbArg,
                 QStringLiteral("--run"), runArg, QStringLiteral("--format"), QStringLiteral("csv")});
        EXPECT_OK(layers);
        const QList<QByteArray> lines = layers.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 1 + 3 * 4); // header, then every trained round's 4 matrices
        QCOMPARE(lines[0], QByteArray("round,layer,type,total,pruned,sparsity"));
        QCOMPARE(lines[5], QByteArray("1,0,Q,16,8,0.500000"));
        QCOMPARE(lines[12], QByteArray("2,0,AttnOut,16,8,0.500000"));

        const Result heads = cli({QStringLiteral("analyze"), QStringLiteral("head-survival"), QStringLiteral("--db"),
                                  dbArg, QStringLiteral("--run"), runArg, QStringLiteral("--round"),
                                  QStringLiteral("2"), QStringLiteral("--threshold"), QStringLiteral("0.75"),
                                  QStringLiteral("--format"), QStringLiteral("csv")});
        EXPECT_OK(heads);
        // Per head 32 weights (2 rows of Q, K, V and 2 columns of the attention output); 8 gone each.
        QCOMPARE(heads.out, QByteArray("layer,head,kept,total,fraction,alive\n0,0,24,32,0.750000,0\n"
                                       "0,1,24,32,0.750000,0\n"));

        const Result badRun = cli({QStringLiteral("analyze"), QStringLiteral("layer-sparsity"), QStringLiteral("--db"),
                                   dbArg, QStringLiteral("--run"), QStringLiteral("999")});
        QVERIFY(badRun.exitCode != 0);
        QVERIFY2(badRun.err.contains("no run 999"), badRun.err.constData());
        const Result badRound =
            cli({QStringLiteral("analyze"), QStringLiteral("head-survival"), QStringLiteral("--db"), dbArg,
                 QStringLiteral("--run"), runArg, QStringLiteral("--round"), QStringLiteral("3")});
        QVERIFY(badRound.exitCode != 0);
        QVERIFY2(badRound.err.contains("round 3"), badRound.err.constData());
    }

    void badInputIsAClearError_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        const QString bad = path(QStringLiteral("bad"));
        QDir().mkpath(bad);
        QFile f(bad + QStringLiteral("/train.tsv"));
        if (f.open(QIODevice::WriteOnly))
            f.write("sentence\tlabel\na fine line\t1\na line with no label\n");
        f.close();
        QTest::newRow("unknown task")
            << QStringList{QStringLiteral("tokenize"),        QStringLiteral("--vocab"), m_model,
                           QStringLiteral("--task"),          QStringLiteral("SQUADX"),  QStringLiteral("--data"),
                           bad + QStringLiteral("/train.tsv")}
            << QStringLiteral("SST-2");
        QTest::newRow("malformed row")
            << QStringList{QStringLiteral("tokenize"),        QStringLiteral("--vocab"), m_model,
                           QStringLiteral("--task"),          QStringLiteral("SST-2"),   QStringLiteral("--data"),
                           bad + QStringLiteral("/train.tsv")}
            << QStringLiteral("train.tsv:3");
        QTest::newRow("no weights") << QStringList{QStringLiteral("finetune"),
                                                   QStringLiteral("--model"),
                                                   bad,
                                                   QStringLiteral("--task"),
                                                   QStringLiteral("SST-2"),
                                                   QStringLiteral("--data-dir"),
                                                   m_data + QStringLiteral("/sentiment"),
                                                   QStringLiteral("--out"),
                                                   path(QStringLiteral("x"))}
                                    << QStringLiteral("config.json");
        QTest::newRow("untrained head")
            << QStringList{QStringLiteral("evaluate"), QStringLiteral("--model"),    m_model, QStringLiteral("--task"),
                           QStringLiteral("MNLI"),     QStringLiteral("--data-dir"), bad}
            << QStringLiteral("fine-tune");
        QTest::newRow("device") << QStringList{QStringLiteral("bench-train"), QStringLiteral("--device"),
                                               QStringLiteral("vulkan")}
                                << QStringLiteral("vulkan");
        QTest::newRow("no mask") << QStringList{QStringLiteral("fill-mask"), QStringLiteral("--model"), m_model,
                                                QStringLiteral("--text"), QStringLiteral("no masks here")}
                                 << QStringLiteral("[MASK]");
        const QString study = QStringLiteral(TICKETLAB_SOURCE_DIR "/studies/minilm-glue.json");
        QTest::newRow("negative seed") << QStringList{QStringLiteral("study"), QStringLiteral("plan"), study,
                                                      QStringLiteral("--seeds"), QStringLiteral("0,-1")}
                                       << QStringLiteral("--seeds: a seed is a non-negative integer, got \"-1\"");
        QTest::newRow("seed not in study")
            << QStringList{QStringLiteral("study"), QStringLiteral("plan"), study, QStringLiteral("--seeds"),
                           QStringLiteral("7")}
            << QStringLiteral("minilm-glue.json: seed 7 is not one of the study's seeds (0, 1, 2)");
        QTest::newRow("task not in study")
            << QStringList{QStringLiteral("study"), QStringLiteral("plan"), study, QStringLiteral("--tasks"),
                           QStringLiteral("rte,sst-2")}
            << QStringLiteral("is not one of the study's tasks (CoLA, MRPC, RTE, STS-B)");
    }

    void badInputIsAClearError()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        const Result r = cli(args);
        QVERIFY(r.exitCode != 0);
        QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
    }

    void deviceIsCheckedFirst_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("db");
        // Inputs that fail (a malformed train.tsv, no dev.tsv) or take long (a whole corpus to
        // tokenize) once read: a device this build or machine lacks must fail before them.
        const QString bad = path(QStringLiteral("bad-device"));
        QDir().mkpath(bad);
        QFile f(bad + QStringLiteral("/train.tsv"));
        if (f.open(QIODevice::WriteOnly))
            f.write("sentence\tlabel\na fine line\t1\na line with no label\n");
        f.close();
        const QString device = QStringLiteral("cuda:99"); // on a CUDA build no machine has 100 GPUs
        const QString shared = tltest::sharedDataDir();
        const QString corpus =
            shared.isEmpty() ? m_data + QStringLiteral("/corpus") : shared + QStringLiteral("/corpus");
        QTest::newRow("finetune") << QStringList{QStringLiteral("finetune"),
                                                 QStringLiteral("--model"),
                                                 m_model,
                                                 QStringLiteral("--task"),
                                                 QStringLiteral("SST-2"),
                                                 QStringLiteral("--data-dir"),
                                                 bad,
                                                 QStringLiteral("--out"),
                                                 path(QStringLiteral("device-out")),
                                                 QStringLiteral("--device"),
                                                 device}
                                  << QString();
        QTest::newRow("pretrain") << QStringList{QStringLiteral("pretrain"),
                                                 QStringLiteral("--corpus"),
                                                 corpus,
                                                 QStringLiteral("--vocab"),
                                                 m_model + QStringLiteral("/vocab.txt"),
                                                 QStringLiteral("--preset"),
                                                 QStringLiteral("tiny"),
                                                 QStringLiteral("--out"),
                                                 path(QStringLiteral("device-pre")),
                                                 QStringLiteral("--device"),
                                                 device}
                                  << QString();
        QTest::newRow("evaluate") << QStringList{QStringLiteral("evaluate"),
                                                 QStringLiteral("--model"),
                                                 m_model,
                                                 QStringLiteral("--task"),
                                                 QStringLiteral("SST-2"),
                                                 QStringLiteral("--data-dir"),
                                                 bad,
                                                 QStringLiteral("--device"),
                                                 device}
                                  << QString();
        QTest::newRow("predict")
            << QStringList{QStringLiteral("predict"),          QStringLiteral("--model"),  m_model,
                           QStringLiteral("--task"),           QStringLiteral("SST-2"),    QStringLiteral("--data"),
                           bad + QStringLiteral("/train.tsv"), QStringLiteral("--device"), device}
            << QString();
        const QString spec = path(QStringLiteral("device-spec.json"));
        QFile s(spec);
        if (s.open(QIODevice::WriteOnly))
            s.write(QJsonDocument(QJsonObject{{QStringLiteral("model"), m_model},
                                              {QStringLiteral("task"), QStringLiteral("SST-2")},
                                              {QStringLiteral("data_dir"), bad},
                                              {QStringLiteral("kind"), QStringLiteral("full")},
                                              {QStringLiteral("device"), device}})
                        .toJson());
        s.close();
        const QString db = path(QStringLiteral("device.db"));
        QTest::newRow("run") << QStringList{QStringLiteral("run"), spec, QStringLiteral("--db"), db} << db;
    }

    void deviceIsCheckedFirst()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, db);
        QElapsedTimer clock;
        clock.start();
        const Result r = cli(args);
        const qint64 ms = clock.elapsed();
        QVERIFY(r.exitCode != 0);
        const QString err = QString::fromUtf8(r.err);
        QVERIFY2(err.contains(QStringLiteral("device 'cuda:99'")), r.err.constData());
        QVERIFY2(!err.contains(QStringLiteral(".tsv")) && !err.contains(QStringLiteral("tokens ->")),
                 r.err.constData());
        // Nothing read: the error comes as fast as the program starts (generous for a loaded machine).
        QVERIFY2(ms < 3000, qPrintable(QStringLiteral("%1 ms").arg(ms)));
        if (!db.isEmpty())
            QVERIFY2(!QFile::exists(db), "the database was created for a run that cannot start");
    }

    void warnsWhenModelLabelsDiffer()
    {
        // A model fine-tuned on an RTE-format task (entailment / not_entailment) ...
        const QString rte = path(QStringLiteral("rte-model"));
        const QString entailment = m_data + QStringLiteral("/entailment"),
                      sentiment = m_data + QStringLiteral("/sentiment");
        const QStringList quick{
            QStringLiteral("--max-steps"), QStringLiteral("2"), QStringLiteral("--batch-size"), QStringLiteral("16"),
            QStringLiteral("--threads"),   QStringLiteral("2"), QStringLiteral("--progress"),   QStringLiteral("none")};
        const Result ft = cli(QStringList{QStringLiteral("finetune"), QStringLiteral("--model"), m_model,
                                          QStringLiteral("--task"), QStringLiteral("RTE"), QStringLiteral("--data-dir"),
                                          entailment, QStringLiteral("--out"), rte} +
                              quick);
        EXPECT_OK(ft);
        QVERIFY2(!ft.err.contains("labels are"), ft.err.constData()); // an untrained head's LABEL_0/1: nothing to say
        // ... on its own task: no warning.
        const Result own = cli({QStringLiteral("evaluate"), QStringLiteral("--model"), rte, QStringLiteral("--task"),
                                QStringLiteral("rte"), QStringLiteral("--data-dir"), entailment});
        EXPECT_OK(own);
        QVERIFY2(!own.err.contains("warning"), own.err.constData());
        // ... evaluated, used for predictions or fine-tuned on SST-2 (labels 0 / 1): it runs, with a warning
        // naming the model's config and both label sets.
        const QList<QStringList> others{
            {QStringLiteral("evaluate"), QStringLiteral("--model"), rte, QStringLiteral("--task"),
             QStringLiteral("SST-2"), QStringLiteral("--data-dir"), sentiment},
            {QStringLiteral("predict"), QStringLiteral("--model"), rte, QStringLiteral("--task"),
             QStringLiteral("SST-2"), QStringLiteral("--data"), sentiment + QStringLiteral("/dev.tsv")},
            QStringList{QStringLiteral("finetune"), QStringLiteral("--model"), rte, QStringLiteral("--task"),
                        QStringLiteral("SST-2"), QStringLiteral("--data-dir"), sentiment, QStringLiteral("--out"),
                        path(QStringLiteral("rte-then-sst"))} +
                quick};
        for (const QStringList &args : others) {
            const Result r = cli(args);
            EXPECT_OK(r);
            const QString err = QString::fromUtf8(r.err);
            QVERIFY2(err.contains(QStringLiteral("warning: ") + rte + QStringLiteral("/config.json")) &&
                         err.contains(QStringLiteral("(entailment, not_entailment)")) &&
                         err.contains(QStringLiteral("SST-2's are (0, 1)")),
                     qPrintable(args.first() + QStringLiteral(": ") + err));
        }
    }
};

QTEST_APPLESS_MAIN(TestCli)
#include "tst_cli.moc"
