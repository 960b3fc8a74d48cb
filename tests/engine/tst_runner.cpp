// The lottery-ticket engine end to end, through the real CLI: IMP with rewinding, the
// baselines, transfer, masks in and out, and an exact resume after kill -9.

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "testdata.h"
#include "prune/mask_io.h"
#include "prune/mask_set.h"

namespace {

using Result = tltest::CliResult;

Result cli(const QStringList &args) { return tltest::runCli(args); }

} // namespace

class TestRunner : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_db;

    QString path(const QString &name) const { return m_dir.filePath(name); }

    QString writeSpec(const QString &name, const QString &kind, const QString &extra = {}, int rounds = 3, int steps = 8)
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

    tl::MaskSet exported(const QString &db, qint64 run, int round)
    {
        const QString file = path(QStringLiteral("mask-%1-%2.npz").arg(QFileInfo(db).baseName()).arg(run * 100 + round));
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
        EXPECT_OK(cli({QStringLiteral("init"), QStringLiteral("--preset"), QStringLiteral("tiny"), QStringLiteral("--vocab"),
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
        const Result r = cli({QStringLiteral("run"), writeSpec(QStringLiteral("b-") + QString::fromLatin1(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('-')), kind, extra),
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
        QVERIFY(std::abs(rows[2].toObject()[QStringLiteral("sparsity")].toDouble() - 0.6) < 1e-5); // exact count: round(0.6 n) of n
        const QJsonObject m = rows[2].toObject()[QStringLiteral("metrics")].toObject();
        QVERIFY(m.contains(QStringLiteral("accuracy")) && m.contains(QStringLiteral("perplexity")));
    }

    void transferAndMaskFiles()
    {
        const Result t = cli({QStringLiteral("transfer"), QStringLiteral("--db"), m_db, QStringLiteral("--from"),
                              QStringLiteral("1"), QStringLiteral("--round"), QStringLiteral("2"), QStringLiteral("--task"),
                              QStringLiteral("RTE"), QStringLiteral("--data-dir"), path(QStringLiteral("data/entailment"))});
        EXPECT_OK(t);
        const qint64 id = t.out.trimmed().split('\n')[0].split('\t')[0].toLongLong(); // "ID\tfrom run ..."
        const QJsonObject run = tltest::showRun(m_db, id);
        QCOMPARE(run[QStringLiteral("kind")].toString(), QStringLiteral("transfer"));
        QCOMPARE(run[QStringLiteral("task")].toString(), QStringLiteral("RTE"));
        QCOMPARE(run[QStringLiteral("rounds")].toArray().first().toObject()[QStringLiteral("round")].toInt(), 2);
        QCOMPARE(exported(m_db, id, 2).tensors[5].keep, exported(m_db, 1, 2).tensors[5].keep);
        // The batch form: every source x every target (runs 1 and 3: the IMP and random runs).
        const Result batch = cli({QStringLiteral("transfer"), QStringLiteral("--db"), m_db, QStringLiteral("--from"),
                                  QStringLiteral("1"), QStringLiteral("--from"), QStringLiteral("3"), QStringLiteral("--round"),
                                  QStringLiteral("1"), QStringLiteral("--target"),
                                  QStringLiteral("RTE=") + path(QStringLiteral("data/entailment")), QStringLiteral("--target"),
                                  QStringLiteral("CoLA=") + path(QStringLiteral("data/agreement"))});
        EXPECT_OK(batch);
        QCOMPARE(batch.out.trimmed().split('\n').size(), 4);
        // Export -> import gives the same mask back, bit for bit, in every format.
        for (const char *ext : {"safetensors", "pt", "npz"}) {
            const QString file = path(QStringLiteral("round2.") + QLatin1String(ext));
            EXPECT_OK(cli({QStringLiteral("export-mask"), QStringLiteral("--db"), m_db, QStringLiteral("--run"),
                           QStringLiteral("1"), QStringLiteral("--round"), QStringLiteral("2"), QStringLiteral("--out"), file}));
            const Result im = cli({QStringLiteral("import-mask"), QStringLiteral("--db"), m_db, QStringLiteral("--file"),
                                   file, QStringLiteral("--model"), path(QStringLiteral("model"))});
            EXPECT_OK(im);
            const tl::MaskSet back = exported(m_db, im.out.trimmed().toLongLong(), 1);
            const tl::MaskSet orig = exported(m_db, 1, 2);
            QCOMPARE(back.tensors.size(), orig.tensors.size());
            for (size_t i = 0; i < orig.tensors.size(); ++i)
                QCOMPARE(back.tensors[i].keep, orig.tensors[i].keep);
        }
    }

    void resumesExactlyAfterKill9()
    {
        const QString spec = writeSpec(QStringLiteral("kill"), QStringLiteral("imp"), {}, 4, 25);
        const QString reference = path(QStringLiteral("reference.db")), killed = path(QStringLiteral("killed.db"));
        EXPECT_OK(cli({QStringLiteral("run"), spec, QStringLiteral("--db"), reference}));

        QProcess p;
        p.start(QStringLiteral(TICKETLAB_CLI), {QStringLiteral("run"), spec, QStringLiteral("--db"), killed,
                                                 QStringLiteral("--progress"), QStringLiteral("json")});
        QVERIFY(p.waitForStarted());
        // Kill in the middle of round 2's training: rounds 0 and 1 are committed, round 2 is not.
        bool inRound2 = false;
        QByteArray buffer;
        while (!inRound2 && p.waitForReadyRead(120000)) {
            buffer += p.readAllStandardOutput();
            for (const QByteArray &line : buffer.split('\n')) {
                const QJsonObject e = QJsonDocument::fromJson(line).object();
                if (e[QStringLiteral("event")].toString() == QLatin1String("progress") && e[QStringLiteral("round")].toInt() == 2)
                    inRound2 = true;
            }
        }
        QVERIFY(inRound2);
        p.kill(); // SIGKILL; a no-op once it ended (::kill(processId()) then was kill(0): the test itself)
        p.waitForFinished();
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);
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
            QCOMPARE(b[k].toObject()[QStringLiteral("metrics")].toObject(), a[k].toObject()[QStringLiteral("metrics")].toObject());
        for (int k = 1; k <= 4; ++k) {
            const tl::MaskSet x = exported(reference, 1, k), y = exported(killed, 1, k);
            for (size_t i = 0; i < x.tensors.size(); ++i)
                QCOMPARE(y.tensors[i].keep, x.tensors[i].keep);
        }
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
