// The lottery-ticket engine end to end, through the real CLI: IMP with rewinding, the
// baselines, transfer, masks in and out, and an exact resume after kill -9.

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "testdata.h"
#include "analysis/sensitivity_data.h"
#include "analysis/structure.h"
#include "prune/mask_io.h"
#include "prune/mask_set.h"
#include "store/experiment_store.h"

namespace {

using Result = tltest::CliResult;

Result cli(const QStringList &args)
{
    return tltest::runCli(args);
}

} // namespace

class TestRunner : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_db;

    QString path(const QString &name) const { return m_dir.filePath(name); }

    QString writeSpec(const QString &name, const QString &kind, const QString &extra = {}, int rounds = 3,
                      int steps = 8)
    {
        const QString file = path(name + QStringLiteral(".json"));
        QFile f(file);
        f.open(QIODevice::WriteOnly);
        f.write(QStringLiteral(R"({"model": "model", "task": "SST-2", "data_dir": "data/sentiment", "kind": "%1",
            "prune": {"method": "global_magnitude", "schedule": "linear", "step": 0.2, "rounds": %2},
            "train": {"epochs": 1, "max_steps": %3, "lr": 1e-3, "batch_size": 16, "max_seq_len": 32},
            "seeds": [3], "threads": 1 %4})")
                    .arg(kind)
                    .arg(rounds)
                    .arg(steps)
                    .arg(extra)
                    .toUtf8());
        return file;
    }

    QJsonArray runsJson(const QString &db)
    {
        const Result r = cli(
            {QStringLiteral("runs"), QStringLiteral("--db"), db, QStringLiteral("--format"), QStringLiteral("json")});
        return QJsonDocument::fromJson(r.out).array();
    }

    QJsonObject show(const QString &db, qint64 run)
    {
        const Result r = cli({QStringLiteral("show"), QString::number(run), QStringLiteral("--db"), db,
                              QStringLiteral("--format"), QStringLiteral("json")});
        return QJsonDocument::fromJson(r.out).object();
    }

    tl::MaskSet exported(const QString &db, qint64 run, int round)
    {
        const QString file =
            path(QStringLiteral("mask-%1-%2.npz").arg(QFileInfo(db).baseName()).arg(run * 100 + round));
        const Result r = cli({QStringLiteral("export-mask"), QStringLiteral("--db"), db, QStringLiteral("--run"),
                              QString::number(run), QStringLiteral("--round"), QString::number(round),
                              QStringLiteral("--out"), file});
        if (r.exitCode != 0)
            return {};
        return tl::readMaskFile(file.toStdString());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QDir::setCurrent(m_dir.path());
        EXPECT_OK(cli({QStringLiteral("demo-data"), QStringLiteral("--out"), path(QStringLiteral("data")),
                       QStringLiteral("--train"), QStringLiteral("200"), QStringLiteral("--dev"), QStringLiteral("40"),
                       QStringLiteral("--corpus-lines"), QStringLiteral("200")}));
        EXPECT_OK(
            cli({QStringLiteral("init"), QStringLiteral("--preset"), QStringLiteral("tiny"), QStringLiteral("--vocab"),
                 path(QStringLiteral("data/vocab.txt")), QStringLiteral("--out"), path(QStringLiteral("model"))}));
        m_db = path(QStringLiteral("lab.db"));
    }

    void impStoresEveryRound()
    {
        const Result r = cli({QStringLiteral("run"), writeSpec(QStringLiteral("imp"), QStringLiteral("imp")),
                              QStringLiteral("--db"), m_db});
        EXPECT_OK(r);
        QCOMPARE(r.out.trimmed(), QByteArray("1"));
        const QJsonObject run = tltest::showRun(m_db, 1);
        QCOMPARE(run[QStringLiteral("status")].toString(), QStringLiteral("done"));
        const QJsonArray rounds = run[QStringLiteral("rounds")].toArray();
        QCOMPARE(rounds.size(), 4);
        for (int k = 0; k < 4; ++k) {
            const QJsonObject row = rounds[k].toObject();
            QCOMPARE(row[QStringLiteral("round")].toInt(), k);
            QVERIFY(std::abs(row[QStringLiteral("sparsity")].toDouble() - 0.2 * k) < 1e-9);
            QVERIFY(row[QStringLiteral("metrics")].toObject().contains(QStringLiteral("accuracy")));
        }
        // Masks only shrink from round to round, and the pruned fraction is exact.
        tl::MaskSet prev = exported(m_db, 1, 0);
        QCOMPARE(prev.sparsity(), 0.0);
        for (int k = 1; k <= 3; ++k) {
            const tl::MaskSet m = exported(m_db, 1, k);
            QCOMPARE(m.total() - m.kept(), int64_t(std::llround(0.2 * k * double(m.total()))));
            for (size_t t = 0; t < m.tensors.size(); ++t)
                for (size_t j = 0; j < m.tensors[t].keep.size(); ++j)
                    QVERIFY(!(m.tensors[t].keep[j] && !prev.tensors[t].keep[j]));
            prev = m;
        }
    }

    void baselines_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("extra");
        QTest::addColumn<int>("rounds");
        QTest::newRow("full") << QStringLiteral("full") << QString() << 1;
        QTest::newRow("random") << QStringLiteral("random") << QString() << 4;
        QTest::newRow("oneshot") << QStringLiteral("oneshot") << QString() << 4;
        QTest::newRow("standard") << QStringLiteral("standard") << QString() << 4;
        QTest::newRow("reinit") << QStringLiteral("reinit") << QStringLiteral(R"(, "source": {"run": 1})") << 4;
        QTest::newRow("shuffle") << QStringLiteral("shuffle") << QStringLiteral(R"(, "source": {"run": 1})") << 4;
        QTest::newRow("rewind step") << QStringLiteral("imp") << QStringLiteral(R"(, "rewind": {"step": 3})") << 4;
    }

    void baselines()
    {
        QFETCH(QString, kind);
        QFETCH(QString, extra);
        QFETCH(int, rounds);
        const Result r =
            cli({QStringLiteral("run"),
                 writeSpec(QStringLiteral("b-") +
                               QString::fromLatin1(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('-')),
                           kind, extra),
                 QStringLiteral("--db"), m_db});
        EXPECT_OK(r);
        const qint64 id = r.out.trimmed().toLongLong();
        const QJsonObject run = tltest::showRun(m_db, id);
        QCOMPARE(run[QStringLiteral("kind")].toString(), kind);
        QCOMPARE(run[QStringLiteral("status")].toString(), QStringLiteral("done"));
        const QJsonArray rows = run[QStringLiteral("rounds")].toArray();
        QCOMPARE(rows.size(), rounds);
        QVERIFY(std::abs(rows.last().toObject()[QStringLiteral("sparsity")].toDouble() - 0.2 * (rounds - 1)) < 1e-9);
        if (kind == QLatin1String("reinit") || kind == QLatin1String("shuffle")) {
            // The IMP run's masks, trained from other weights.
            const tl::MaskSet imp = exported(m_db, 1, 3), mine = exported(m_db, id, 3);
            QCOMPARE(imp.tensors[2].keep, mine.tensors[2].keep);
        }
    }

    void baselinesAtChosenSparsities_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("extra");
        QTest::addColumn<QList<int>>("trained");
        QTest::newRow("random") << QStringLiteral("random") << QString() << QList<int>{2, 3};
        QTest::newRow("oneshot") << QStringLiteral("oneshot") << QString() << QList<int>{2, 3};
        QTest::newRow("standard") << QStringLiteral("standard") << QString() << QList<int>{0, 2, 3};
        QTest::newRow("reinit") << QStringLiteral("reinit") << QStringLiteral(R"(, "source": {"run": 1})")
                                << QList<int>{2, 3};
    }
    void baselinesAtChosenSparsities()
    {
        // "at": [0.4, 0.6] trains only rounds 2 and 3 (of 0..3 at 20% a round), and their masks
        // are exactly those of the same baseline run over every round (baselines() above).
        QFETCH(QString, kind);
        QFETCH(QString, extra);
        QFETCH(QList<int>, trained);
        const QString tag = QString::fromLatin1(QTest::currentDataTag());
        const Result r =
            cli({QStringLiteral("run"),
                 writeSpec(QStringLiteral("at-") + tag, kind, extra + QStringLiteral(R"(, "at": [0.6, 0.41])")),
                 QStringLiteral("--db"), m_db});
        EXPECT_OK(r);
        const qint64 id = r.out.trimmed().toLongLong();
        const QJsonArray rows = show(m_db, id)[QStringLiteral("rounds")].toArray();
        QList<int> rounds;
        for (const QJsonValue &row : rows)
            rounds << row.toObject()[QStringLiteral("round")].toInt();
        QCOMPARE(rounds, trained);
        // The full baseline run of this kind (from baselines()): same masks at rounds 2 and 3.
        qint64 full = 0;
        for (const QJsonValue &v : runsJson(m_db)) {
            const QJsonObject o = v.toObject();
            if (o[QStringLiteral("kind")].toString() == kind && o[QStringLiteral("id")].toInteger() != id &&
                !o[QStringLiteral("spec")].toObject().contains(QStringLiteral("at")))
                full = o[QStringLiteral("id")].toInteger();
        }
        QVERIFY2(full > 0, "run baselines() first");
        for (int k : {2, 3}) {
            const tl::MaskSet a = exported(m_db, id, k), b = exported(m_db, full, k);
            QVERIFY(!a.tensors.empty());
            for (size_t t = 0; t < a.tensors.size(); ++t)
                QCOMPARE(a.tensors[t].keep, b.tensors[t].keep);
        }
        // The same spec again adds nothing; "at" on IMP is refused naming the field.
        const Result again = cli({QStringLiteral("run"), path(QStringLiteral("at-") + tag + QStringLiteral(".json")),
                                  QStringLiteral("--db"), m_db});
        EXPECT_OK(again);
        QCOMPARE(again.out.trimmed().toLongLong(), id);
        const Result imp =
            cli({QStringLiteral("run"),
                 writeSpec(QStringLiteral("at-imp"), QStringLiteral("imp"), QStringLiteral(R"(, "at": [0.4])")),
                 QStringLiteral("--db"), m_db});
        QCOMPARE(imp.exitCode, 1);
        QVERIFY2(imp.err.contains("field 'at'"), imp.err.constData());
    }

    void reinitNeedsADoneImpSource()
    {
        // Run 3 is the random baseline: its masks are no IMP masks, so "IMP mask, random init"
        // would be a lie. The error names the run and its kind, and nothing is stored.
        const QJsonArray before = runsJson(m_db);
        qint64 random = 0;
        for (const QJsonValue &v : before)
            if (v.toObject()[QStringLiteral("kind")].toString() == QLatin1String("random"))
                random = v.toObject()[QStringLiteral("id")].toInteger();
        QVERIFY(random > 0);
        const Result r = cli({QStringLiteral("run"),
                              writeSpec(QStringLiteral("reinit-of-random"), QStringLiteral("reinit"),
                                        QStringLiteral(R"(, "source": {"run": %1})").arg(random)),
                              QStringLiteral("--db"), m_db});
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.err.contains(QStringLiteral("source run %1 is a random run").arg(random).toUtf8()),
                 r.err.constData());
        QVERIFY2(r.err.contains("needs the masks of an imp run"), r.err.constData());
        QCOMPARE(runsJson(m_db).size(), before.size());
        // A round in the source is refused up front, naming the field.
        const Result round = cli({QStringLiteral("run"),
                                  writeSpec(QStringLiteral("reinit-round"), QStringLiteral("shuffle"),
                                            QStringLiteral(R"(, "source": {"run": 1, "round": 9})")),
                                  QStringLiteral("--db"), m_db});
        QVERIFY(round.exitCode != 0);
        QVERIFY2(round.err.contains("source.round") && round.err.contains("every round"), round.err.constData());
    }

    void mlmTicket()
    {
        // An MLM ticket: IMP with the masked-LM objective on a folder of text.
        QFile f(path(QStringLiteral("mlm.json")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"model": "model", "task": "mlm", "data_dir": "data/corpus", "kind": "imp",
            "prune": {"step": 0.3, "rounds": 2},
            "train": {"epochs": 1, "max_steps": 5, "lr": 1e-3, "batch_size": 8, "max_seq_len": 32},
            "seeds": [0], "threads": 1})");
        f.close();
        const Result r = cli({QStringLiteral("run"), f.fileName(), QStringLiteral("--db"), m_db});
        EXPECT_OK(r);
        const QJsonObject run = tltest::showRun(m_db, r.out.trimmed().toLongLong());
        QCOMPARE(run[QStringLiteral("task")].toString(), QStringLiteral("mlm"));
        const QJsonArray rows = run[QStringLiteral("rounds")].toArray();
        QCOMPARE(rows.size(), 3);
        QVERIFY(std::abs(rows[2].toObject()[QStringLiteral("sparsity")].toDouble() - 0.6) <
                1e-5); // exact count: round(0.6 n) of n
        const QJsonObject m = rows[2].toObject()[QStringLiteral("metrics")].toObject();
        QVERIFY(m.contains(QStringLiteral("accuracy")) && m.contains(QStringLiteral("perplexity")));
    }

    void transferAndMaskFiles()
    {
        const Result t =
            cli({QStringLiteral("transfer"), QStringLiteral("--db"), m_db, QStringLiteral("--from"),
                 QStringLiteral("1"), QStringLiteral("--round"), QStringLiteral("2"), QStringLiteral("--task"),
                 QStringLiteral("rte"), QStringLiteral("--data-dir"), path(QStringLiteral("data/entailment")),
                 QStringLiteral("--seeds"), QStringLiteral("4"), QStringLiteral("5"), QStringLiteral("--max-steps"),
                 QStringLiteral("3"), QStringLiteral("--threads"), QStringLiteral("1")});
        EXPECT_OK(t);
        // One line per run: its id, then where it came from, where it went, its seed.
        const QList<QByteArray> lines = t.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines[0].endsWith("\tfrom run 1 round 2\tto RTE\tseed 4\tcreated"), lines[0].constData());
        QVERIFY2(lines[1].endsWith("\tfrom run 1 round 2\tto RTE\tseed 5\tcreated"), lines[1].constData());
        const qint64 id = lines[0].split('\t')[0].toLongLong();
        const QJsonObject run = show(m_db, id);
        QCOMPARE(run[QStringLiteral("kind")].toString(), QStringLiteral("transfer"));
        QCOMPARE(run[QStringLiteral("task")].toString(), QStringLiteral("RTE"));
        QCOMPARE(run[QStringLiteral("seed")].toInteger(), 4);
        const QJsonObject spec = run[QStringLiteral("spec")].toObject();
        QCOMPARE(spec[QStringLiteral("train")].toObject()[QStringLiteral("max_steps")].toInt(), 3);
        QCOMPARE(spec[QStringLiteral("threads")].toInt(), 1);
        QCOMPARE(run[QStringLiteral("threads")].toInt(), 1);
        const QJsonObject row = run[QStringLiteral("rounds")].toArray().first().toObject();
        QCOMPARE(row[QStringLiteral("round")].toInt(), 2);
        QCOMPARE(row[QStringLiteral("steps")].toInt(), 3);
        QCOMPARE(exported(m_db, id, 2).tensors[5].keep, exported(m_db, 1, 2).tensors[5].keep);
        // The same transfer again adds nothing.
        const Result again =
            cli({QStringLiteral("transfer"), QStringLiteral("--db"), m_db, QStringLiteral("--from"),
                 QStringLiteral("1"), QStringLiteral("--round"), QStringLiteral("2"), QStringLiteral("--task"),
                 QStringLiteral("RTE"), QStringLiteral("--data-dir"), path(QStringLiteral("data/entailment")),
                 QStringLiteral("--seeds"), QStringLiteral("4"), QStringLiteral("5"), QStringLiteral("--max-steps"),
                 QStringLiteral("3"), QStringLiteral("--threads"), QStringLiteral("1")});
        EXPECT_OK(again);
        QCOMPARE(again.out.trimmed().split('\n')[0].split('\t')[0].toLongLong(), id);
        QVERIFY2(again.out.contains("done already"), again.out.constData());
        const qsizetype runsBefore = runsJson(m_db).size();
        // The batch form: every source x every target (runs 1 and 3: the IMP and random runs).
        const Result batch = cli(
            {QStringLiteral("transfer"), QStringLiteral("--db"), m_db, QStringLiteral("--from"), QStringLiteral("1"),
             QStringLiteral("--from"), QStringLiteral("3"), QStringLiteral("--round"), QStringLiteral("1"),
             QStringLiteral("--target"), QStringLiteral("RTE=") + path(QStringLiteral("data/entailment")),
             QStringLiteral("--target"), QStringLiteral("CoLA=") + path(QStringLiteral("data/agreement"))});
        EXPECT_OK(batch);
        QCOMPARE(batch.out.trimmed().split('\n').size(), 4);
        QVERIFY2(batch.out.contains("\tfrom run 3 round 1\tto CoLA\tseed 3\tcreated"), batch.out.constData());
        QCOMPARE(runsJson(m_db).size(), runsBefore + 4);
        // Export -> import gives the same mask back, bit for bit, in every format, as the
        // round it was exported from, with the model's config (head count) kept.
        for (const char *ext : {"safetensors", "pt", "npz"}) {
            const QString file = path(QStringLiteral("round2.") + QLatin1String(ext));
            EXPECT_OK(cli({QStringLiteral("export-mask"), QStringLiteral("--db"), m_db, QStringLiteral("--run"),
                           QStringLiteral("1"), QStringLiteral("--round"), QStringLiteral("2"), QStringLiteral("--out"),
                           file}));
            const Result im = cli({QStringLiteral("import-mask"), QStringLiteral("--db"), m_db,
                                   QStringLiteral("--file"), file, QStringLiteral("--model"),
                                   path(QStringLiteral("model")), QStringLiteral("--round"), QStringLiteral("2")});
            EXPECT_OK(im);
            const qint64 imported = im.out.trimmed().toLongLong();
            const QJsonObject shown = show(m_db, imported);
            QCOMPARE(shown[QStringLiteral("kind")].toString(), QStringLiteral("import"));
            const QJsonArray rows = shown[QStringLiteral("rounds")].toArray();
            QCOMPARE(rows.size(), 1);
            QCOMPARE(rows[0].toObject()[QStringLiteral("round")].toInt(), 2);
            QCOMPARE(
                rows[0].toObject()[QStringLiteral("sparsity")].toDouble(),
                show(m_db, 1)[QStringLiteral("rounds")].toArray()[2].toObject()[QStringLiteral("sparsity")].toDouble());
            const tl::MaskSet back = exported(m_db, imported, 2);
            const tl::MaskSet orig = exported(m_db, 1, 2);
            QCOMPARE(back.tensors.size(), orig.tensors.size());
            for (size_t i = 0; i < orig.tensors.size(); ++i)
                QCOMPARE(back.tensors[i].keep, orig.tensors[i].keep);
            // Head survival needs no --heads: the model's config came with the import.
            const Result heads =
                cli({QStringLiteral("analyze"), QStringLiteral("head-survival"), QStringLiteral("--db"), m_db,
                     QStringLiteral("--run"), QString::number(imported), QStringLiteral("--round"), QStringLiteral("2"),
                     QStringLiteral("--format"), QStringLiteral("json")});
            EXPECT_OK(heads);
            const Result source =
                cli({QStringLiteral("analyze"), QStringLiteral("head-survival"), QStringLiteral("--db"), m_db,
                     QStringLiteral("--run"), QStringLiteral("1"), QStringLiteral("--round"), QStringLiteral("2"),
                     QStringLiteral("--format"), QStringLiteral("json")});
            QCOMPARE(QJsonDocument::fromJson(heads.out).object()[QStringLiteral("entries")],
                     QJsonDocument::fromJson(source.out).object()[QStringLiteral("entries")]);
        }
        // The same file imported again is the same run: nothing added.
        const Result twice = cli({QStringLiteral("import-mask"), QStringLiteral("--db"), m_db, QStringLiteral("--file"),
                                  path(QStringLiteral("round2.npz")), QStringLiteral("--model"),
                                  path(QStringLiteral("model")), QStringLiteral("--round"), QStringLiteral("2")});
        EXPECT_OK(twice);
        QVERIFY2(twice.err.contains("already imported"), twice.err.constData());
    }

    void transferFromMaskFileStoresItsMask()
    {
        // A mask from elsewhere, trained on another task: the run must keep the mask it
        // trained under, for export and analysis. The spec leaves threads to LibTorch.
        const QString maskFile = path(QStringLiteral("elsewhere.npz"));
        EXPECT_OK(cli({QStringLiteral("export-mask"), QStringLiteral("--db"), m_db, QStringLiteral("--run"),
                       QStringLiteral("1"), QStringLiteral("--round"), QStringLiteral("3"), QStringLiteral("--out"),
                       maskFile}));
        const tl::MaskSet mask = tl::readMaskFile(maskFile.toStdString());
        QVERIFY(mask.sparsity() > 0.5);
        QFile f(path(QStringLiteral("from-file.json")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"model": "model", "task": "RTE", "data_dir": "data/entailment", "kind": "transfer",
            "train": {"epochs": 1, "max_steps": 3, "lr": 1e-3, "batch_size": 16, "max_seq_len": 32},
            "seeds": [0], "threads": 0, "source": {"mask_file": "elsewhere.npz"}})");
        f.close();
        const Result r = cli({QStringLiteral("run"), f.fileName(), QStringLiteral("--db"), m_db});
        EXPECT_OK(r);
        const qint64 id = r.out.trimmed().toLongLong();
        const QJsonObject run = show(m_db, id);
        const QJsonArray rows = run[QStringLiteral("rounds")].toArray();
        QCOMPARE(rows.size(), 1);
        const int round = rows[0].toObject()[QStringLiteral("round")].toInt();
        QCOMPARE(round, 1); // as import-mask stores a mask file
        QCOMPARE(rows[0].toObject()[QStringLiteral("sparsity")].toDouble(), mask.sparsity());
        const tl::MaskSet stored = exported(m_db, id, round);
        QCOMPARE(stored.tensors.size(), mask.tensors.size());
        for (size_t i = 0; i < mask.tensors.size(); ++i)
            QCOMPARE(stored.tensors[i].keep, mask.tensors[i].keep);
        const Result a =
            cli({QStringLiteral("analyze"), QStringLiteral("layer-sparsity"), QStringLiteral("--db"), m_db,
                 QStringLiteral("--run"), QString::number(id), QStringLiteral("--format"), QStringLiteral("json")});
        EXPECT_OK(a);
        const QJsonObject last =
            QJsonDocument::fromJson(a.out).object()[QStringLiteral("rounds")].toArray().last().toObject();
        QCOMPARE(last[QStringLiteral("round")].toInt(), 1);
        QCOMPARE(last[QStringLiteral("sparsity")].toDouble(), mask.sparsity());
        for (const QJsonValue &m : last[QStringLiteral("matrices")].toArray())
            QVERIFY(m.toObject()[QStringLiteral("sparsity")].toDouble() > 0.3);
        // What the run ran on: the thread count LibTorch used (not the spec's 0), its version, the BLAS.
        QVERIFY2(run[QStringLiteral("threads")].toInt() >= 1,
                 qPrintable(QString::number(run[QStringLiteral("threads")].toInt())));
        QCOMPARE(run[QStringLiteral("spec")].toObject()[QStringLiteral("threads")].toInt(), 0);
        QVERIFY(QRegularExpression(QStringLiteral("^\\d+\\.\\d+"))
                    .match(run[QStringLiteral("torch_version")].toString())
                    .hasMatch());
        QVERIFY(!run[QStringLiteral("blas")].toString().isEmpty());
    }

    void resumesExactlyAfterKill9()
    {
        const QString spec = writeSpec(QStringLiteral("kill"), QStringLiteral("imp"), {}, 4, 25);
        const QString reference = path(QStringLiteral("reference.db")), killed = path(QStringLiteral("killed.db"));
        EXPECT_OK(cli({QStringLiteral("run"), spec, QStringLiteral("--db"), reference}));

        // Kill in the middle of round 2's training: rounds 0 and 1 are committed, round 2 is not.
        QVERIFY(tltest::killCliWhen({QStringLiteral("run"), spec, QStringLiteral("--db"), killed,
                                     QStringLiteral("--progress"), QStringLiteral("json")},
                                    [](const QJsonObject &e) {
                                        return e[QStringLiteral("event")].toString() == QLatin1String("progress") &&
                                               e[QStringLiteral("round")].toInt() == 2;
                                    }));
        const QJsonObject partial = tltest::showRun(killed, 1);
        QCOMPARE(partial[QStringLiteral("status")].toString(), QStringLiteral("running"));
        QCOMPARE(partial[QStringLiteral("rounds")].toArray().size(), 2);

        const Result resumed = cli({QStringLiteral("run"), spec, QStringLiteral("--db"), killed});
        EXPECT_OK(resumed);
        QVERIFY2(resumed.err.contains("resuming"), resumed.err.constData());
        const QJsonArray a = tltest::showRun(reference, 1)[QStringLiteral("rounds")].toArray();
        const QJsonArray b = tltest::showRun(killed, 1)[QStringLiteral("rounds")].toArray();
        QCOMPARE(b.size(), 5);
        for (int k = 0; k < 5; ++k)
            QCOMPARE(b[k].toObject()[QStringLiteral("metrics")].toObject(),
                     a[k].toObject()[QStringLiteral("metrics")].toObject());
        for (int k = 1; k <= 4; ++k) {
            const tl::MaskSet x = exported(reference, 1, k), y = exported(killed, 1, k);
            for (size_t i = 0; i < x.tensors.size(); ++i)
                QCOMPARE(y.tensors[i].keep, x.tensors[i].keep);
        }
    }

    void earlyBird()
    {
        // Rounds of 12 steps, a draw every 2 steps. Recording only (stop false): the distances
        // are stored from the second draw on (steps 4..10; none at the schedule's end) and the run
        // trains exactly as plain IMP does: the same metrics and masks.
        const QString db = path(QStringLiteral("earlybird.db"));
        const auto runOk = [&](const QString &spec) -> qint64 {
            const Result r = cli({QStringLiteral("run"), spec, QStringLiteral("--db"), db});
            if (r.exitCode != 0)
                qWarning("%s", r.err.right(2000).constData());
            return r.exitCode == 0 ? r.out.trimmed().toLongLong() : -1;
        };
        const auto report = [&](qint64 run) {
            const Result r = cli({QStringLiteral("analyze"), QStringLiteral("early-bird"), QStringLiteral("--db"), db,
                                  QStringLiteral("--run"), QString::number(run), QStringLiteral("--format"),
                                  QStringLiteral("json")});
            return QJsonDocument::fromJson(r.out).object();
        };
        const qint64 plain = runOk(writeSpec(QStringLiteral("eb-plain"), QStringLiteral("imp"), {}, 2, 12));
        QVERIFY(plain > 0);
        const qint64 recorded = runOk(writeSpec(
            QStringLiteral("eb-record"), QStringLiteral("imp"),
            QStringLiteral(R"(, "early_bird": {"every": 2, "epsilon": 1.0, "window": 2, "stop": false})"), 2, 12));
        QVERIFY(recorded > 0);
        QJsonObject rec = report(recorded);
        QJsonArray rounds = rec[QStringLiteral("rounds")].toArray();
        QCOMPARE(rounds.size(), 3);
        for (int k = 0; k < 3; ++k) {
            const QJsonObject row = rounds[k].toObject();
            QCOMPARE(row[QStringLiteral("steps")].toInt(), 12);
            QVERIFY(row[QStringLiteral("stopped_at")].isNull());
            const QJsonArray d = row[QStringLiteral("distances")].toArray();
            QCOMPARE(d.size(), k < 2 ? 4 : 0); // the last round has no next prune to draw
            for (int i = 0; i < d.size(); ++i) {
                QCOMPARE(d[i].toObject()[QStringLiteral("step")].toInt(), 4 + 2 * i);
                const double v = d[i].toObject()[QStringLiteral("distance")].toDouble();
                QVERIFY(v >= 0 && v < 1);
            }
        }
        // Training moves the mask at first (a learning rate of 1e-3 on a tiny model).
        QVERIFY(rounds[0]
                    .toObject()[QStringLiteral("distances")]
                    .toArray()[0]
                    .toObject()[QStringLiteral("distance")]
                    .toDouble() > 0);
        QCOMPARE(rec[QStringLiteral("steps_saved")].toInt(), 0);
        const QJsonArray plainRounds = tltest::showRun(db, plain)[QStringLiteral("rounds")].toArray();
        const QJsonArray recordedRounds = tltest::showRun(db, recorded)[QStringLiteral("rounds")].toArray();
        QCOMPARE(recordedRounds.size(), plainRounds.size());
        for (int k = 0; k < plainRounds.size(); ++k)
            for (const QString &key : {QStringLiteral("metrics"), QStringLiteral("train"), QStringLiteral("steps")})
                QCOMPARE(recordedRounds[k].toObject()[key], plainRounds[k].toObject()[key]);
        for (int k = 0; k <= 2; ++k) {
            const tl::MaskSet a = exported(db, plain, k), b = exported(db, recorded, k);
            QVERIFY(!a.tensors.empty());
            QCOMPARE(tl::maskDistance(a, b), 0.0);
        }

        // Stopping: epsilon 1 holds for any two draws that are not exact opposites, so with a
        // window of 2 the rule fires at the third draw (step 6) in rounds 0 and 1; the last
        // round trains its 12 steps.
        const qint64 stopped =
            runOk(writeSpec(QStringLiteral("eb-stop"), QStringLiteral("imp"),
                            QStringLiteral(R"(, "early_bird": {"every": 2, "epsilon": 1.0, "window": 2})"), 2, 12));
        QVERIFY(stopped > 0);
        const QJsonObject st = report(stopped);
        rounds = st[QStringLiteral("rounds")].toArray();
        QCOMPARE(rounds.size(), 3);
        QCOMPARE(rounds[0].toObject()[QStringLiteral("stopped_at")].toInt(), 6);
        QCOMPARE(rounds[0].toObject()[QStringLiteral("steps")].toInt(), 6);
        QCOMPARE(rounds[1].toObject()[QStringLiteral("stopped_at")].toInt(), 6);
        QCOMPARE(rounds[1].toObject()[QStringLiteral("distances")].toArray().size(), 2);
        QVERIFY(rounds[2].toObject()[QStringLiteral("stopped_at")].isNull());
        QCOMPARE(rounds[2].toObject()[QStringLiteral("steps")].toInt(), 12);
        QCOMPARE(st[QStringLiteral("steps_saved")].toInt(), 12);
        // The stopped rounds were still pruned to the schedule's sparsities and evaluated.
        const QJsonArray stoppedRounds = tltest::showRun(db, stopped)[QStringLiteral("rounds")].toArray();
        QCOMPARE(stoppedRounds.size(), 3);
        for (int k = 0; k < 3; ++k) {
            QVERIFY(std::abs(stoppedRounds[k].toObject()[QStringLiteral("sparsity")].toDouble() - 0.2 * k) < 1e-9);
            QVERIFY(
                stoppedRounds[k].toObject()[QStringLiteral("metrics")].toObject().contains(QStringLiteral("accuracy")));
        }
        // The text report says what was saved.
        const Result text = cli({QStringLiteral("analyze"), QStringLiteral("early-bird"), QStringLiteral("--db"), db,
                                 QStringLiteral("--run"), QString::number(stopped), QStringLiteral("--against"),
                                 QString::number(plain)});
        EXPECT_OK(text);
        QVERIFY2(text.out.contains("steps trained 24 of 36 scheduled (12 saved"), text.out.constData());
        // A random run refuses early_bird, naming the field.
        const Result bad = cli({QStringLiteral("run"),
                                writeSpec(QStringLiteral("eb-random"), QStringLiteral("random"),
                                          QStringLiteral(R"(, "early_bird": {"epsilon": 0.1})")),
                                QStringLiteral("--db"), db});
        QVERIFY(bad.exitCode != 0);
        QVERIFY2(bad.err.contains("early_bird"), bad.err.constData());
    }

    void structuredHeads()
    {
        // The tiny model has 2 layers x 2 heads: a linear step of 0.25 removes one head a round.
        const QString db = path(QStringLiteral("heads.db"));
        const auto spec = [&](const QString &name, const QString &kind, const QString &method) {
            const QString file = path(name + QStringLiteral(".json"));
            QFile f(file);
            f.open(QIODevice::WriteOnly);
            f.write(QStringLiteral(R"({"model": "model", "task": "SST-2", "data_dir": "data/sentiment", "kind": "%1",
                "prune": {"method": "%2", "schedule": "linear", "step": 0.25, "rounds": 2, "importance_examples": 48},
                "train": {"epochs": 1, "max_steps": 6, "lr": 1e-3, "batch_size": 16, "max_seq_len": 32},
                "seeds": [3], "threads": 1})")
                        .arg(kind, method)
                        .toUtf8());
            return file;
        };
        const auto run = [&](const QString &file) -> qint64 {
            const Result r = cli({QStringLiteral("run"), file, QStringLiteral("--db"), db});
            if (r.exitCode != 0)
                qWarning("%s", r.err.right(2000).constData());
            return r.exitCode == 0 ? r.out.trimmed().toLongLong() : -1;
        };
        const qint64 imp = run(spec(QStringLiteral("heads-imp"), QStringLiteral("imp"), QStringLiteral("heads")));
        QVERIFY(imp > 0);
        const qint64 random =
            run(spec(QStringLiteral("heads-random"), QStringLiteral("random"), QStringLiteral("heads")));
        QVERIFY(random > 0);
        for (const qint64 id : {imp, random}) {
            tl::MaskSet prev = exported(db, id, 0);
            for (int k = 1; k <= 2; ++k) {
                const tl::MaskSet m = exported(db, id, k);
                const tl::MaskStructure st = tl::maskStructure(m, 2);
                QCOMPARE(st.headsAlive(), int64_t(4 - k));
                QCOMPARE(st.neuronsAlive(), st.neuronsTotal()); // heads only
                // Whole heads, nothing else: 4 matrices x 64 rows or columns x 128 per head.
                QCOMPARE(m.total() - m.kept(), int64_t(k) * 4 * 64 * 128);
                QCOMPARE(tl::maskDistance(m, prev) > 0, true);
                for (size_t t = 0; t < m.tensors.size(); ++t)
                    for (size_t j = 0; j < m.tensors[t].keep.size(); ++j)
                        QVERIFY(!(m.tensors[t].keep[j] && !prev.tensors[t].keep[j]));
                prev = m;
            }
        }
        // IMP stored the importance it pruned by with rounds 0 and 1 (the last round prunes no more).
        {
            auto store = tl::ExperimentStore::open(db.toStdString());
            for (int k = 0; k <= 1; ++k) {
                const auto imp0 = tl::storedUnitImportance(*store, imp, k);
                QVERIFY(imp0);
                QCOMPARE(imp0->heads.size(), size_t(2));
                QCOMPARE(imp0->heads[0].size(), size_t(2));
                QCOMPARE(imp0->examples, int64_t(48));
            }
            QVERIFY(!tl::storedUnitImportance(*store, imp, 2));
            QVERIFY(!tl::storedUnitImportance(*store, random, 0)); // random pruning scores nothing
            // Round 1 removed the head the round-0 scores ranked lowest.
            const auto scores = tl::storedUnitImportance(*store, imp, 0)->heads;
            const tl::MaskStructure st = tl::maskStructure(exported(db, imp, 1), 2);
            for (int l = 0; l < 2; ++l)
                for (int h = 0; h < 2; ++h)
                    if (!st.headAlive[size_t(l)][size_t(h)])
                        for (const auto &row : scores)
                            for (double v : row)
                                QVERIFY(scores[size_t(l)][size_t(h)] <= v);
        }

        // The round-2 ticket as a compacted model: half the heads gone for real.
        const QString out = path(QStringLiteral("compact"));
        const Result c = cli({QStringLiteral("export-compact"), QStringLiteral("--db"), db, QStringLiteral("--run"),
                              QString::number(imp), QStringLiteral("--round"), QStringLiteral("2"),
                              QStringLiteral("--out"), out, QStringLiteral("--format"), QStringLiteral("json")});
        EXPECT_OK(c);
        const QJsonObject rep = QJsonDocument::fromJson(c.out).object();
        QCOMPARE(rep[QStringLiteral("heads_removed")].toInt(), 2);
        QCOMPARE(rep[QStringLiteral("heads_total")].toInt(), 4);
        QCOMPARE(rep[QStringLiteral("parameters_before")].toInteger() -
                     rep[QStringLiteral("parameters_after")].toInteger(),
                 qint64(2 * (3 * 64 * 129 + 64 * 128)));
        QFile cfg(out + QStringLiteral("/config.json"));
        QVERIFY(cfg.open(QIODevice::ReadOnly));
        const QJsonObject pruned =
            QJsonDocument::fromJson(cfg.readAll()).object()[QStringLiteral("pruned_heads")].toObject();
        int removed = 0;
        for (const QString &layer : pruned.keys())
            removed += pruned[layer].toArray().size();
        QCOMPARE(removed, 2);
        QVERIFY(QFile::exists(out + QStringLiteral("/vocab.txt")));
        // TicketLab reads it: evaluation, and as the model of a new (magnitude) run.
        EXPECT_OK(cli({QStringLiteral("evaluate"), QStringLiteral("--model"), out, QStringLiteral("--task"),
                       QStringLiteral("SST-2"), QStringLiteral("--data-dir"), path(QStringLiteral("data/sentiment"))}));
        const QString onCompact = path(QStringLiteral("on-compact.json"));
        {
            QFile f(onCompact);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(R"({"model": "compact", "task": "SST-2", "data_dir": "data/sentiment", "kind": "imp",
                "prune": {"step": 0.2, "rounds": 1}, "train": {"epochs": 1, "max_steps": 4, "batch_size": 16,
                "max_seq_len": 32}, "seeds": [0], "threads": 1})");
        }
        QVERIFY(run(onCompact) > 0);
        // Head importance of a stored subnetwork, through the CLI.
        const Result hi = cli({QStringLiteral("analyze"), QStringLiteral("head-importance"), QStringLiteral("--model"),
                               out, QStringLiteral("--task"), QStringLiteral("SST-2"), QStringLiteral("--data-dir"),
                               path(QStringLiteral("data/sentiment")), QStringLiteral("--max-examples"),
                               QStringLiteral("24"), QStringLiteral("--format"), QStringLiteral("json")});
        EXPECT_OK(hi);
        const QJsonArray heads = QJsonDocument::fromJson(hi.out).object()[QStringLiteral("heads")].toArray();
        QCOMPARE(heads.size(), 2);
        QCOMPARE(heads[0].toArray().size() + heads[1].toArray().size(), 2); // the compacted model's two heads

        // Structured methods are for imp and random; and they score importance, not magnitude.
        const Result bad =
            cli({QStringLiteral("run"),
                 spec(QStringLiteral("heads-oneshot"), QStringLiteral("oneshot"), QStringLiteral("heads")),
                 QStringLiteral("--db"), db});
        QVERIFY(bad.exitCode != 0);
        QVERIFY2(bad.err.contains("prune.method"), bad.err.constData());
    }

    void modelAnalysesStoredInTheLab()
    {
        // Sensitivity and head importance of a model folder, stored with --db where the views
        // read them; the JSON names the stored analysis.
        const QString db = path(QStringLiteral("analyses.db"));
        const QStringList common = {QStringLiteral("--model"),    path(QStringLiteral("model")),
                                    QStringLiteral("--task"),     QStringLiteral("SST-2"),
                                    QStringLiteral("--data-dir"), path(QStringLiteral("data/sentiment")),
                                    QStringLiteral("--db"),       db,
                                    QStringLiteral("--format"),   QStringLiteral("json")};
        const Result sens =
            cli(QStringList{QStringLiteral("analyze"), QStringLiteral("sensitivity"), QStringLiteral("--sparsity"),
                            QStringLiteral("0.5,0.9"), QStringLiteral("--max-examples"), QStringLiteral("20"),
                            QStringLiteral("--name"), QStringLiteral("tiny")} +
                common);
        EXPECT_OK(sens);
        const QJsonObject sj = QJsonDocument::fromJson(sens.out).object();
        const qint64 scanId = sj[QStringLiteral("analysis")].toInteger();
        QVERIFY(scanId > 0);
        const Result imp =
            cli(QStringList{QStringLiteral("analyze"), QStringLiteral("head-importance"),
                            QStringLiteral("--max-examples"), QStringLiteral("20"), QStringLiteral("--neurons")} +
                common);
        EXPECT_OK(imp);
        const QJsonObject ij = QJsonDocument::fromJson(imp.out).object();
        QCOMPARE(ij[QStringLiteral("heads")].toArray().size(), 2);
        QCOMPARE(ij[QStringLiteral("neurons")].toArray()[0].toArray().size(), 512);
        auto store = tl::ExperimentStore::open(db.toStdString());
        const tl::StoredSensitivity stored = tl::storedSensitivity(*store, scanId);
        QCOMPARE(stored.name, std::string("tiny"));
        QCOMPARE(stored.task, std::string("SST-2"));
        QCOMPARE(stored.scan.cells.size(), size_t(2 * 6 * 2)); // layers x matrix types x sparsities
        QCOMPARE(stored.scan.examples, int64_t(20));
        QCOMPARE(sj[QStringLiteral("cells")].toArray().size(), 24);
        QCOMPARE(store->analyses(tl::kHeadImportanceAnalysis).size(), size_t(1));
        QCOMPARE(store->analyses().size(), size_t(2));
        // A mask from another lab needs its run.
        const Result bad = cli(QStringList{QStringLiteral("analyze"), QStringLiteral("head-importance"),
                                           QStringLiteral("--mask-from-db"), db} +
                               common);
        QVERIFY(bad.exitCode != 0);
        QVERIFY2(bad.err.contains("--run"), bad.err.constData());
    }

    void badSpecNamesTheField()
    {
        QFile f(path(QStringLiteral("bad.json")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"model": "model", "task": "SST-2", "data_dir": "data/sentiment", "prune": {"mehtod": "x"}})");
        f.close();
        const Result r = cli({QStringLiteral("run"), f.fileName(), QStringLiteral("--db"), m_db});
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.err.contains("prune.mehtod"), r.err.constData());
    }
};

QTEST_APPLESS_MAIN(TestRunner)
#include "tst_runner.moc"
