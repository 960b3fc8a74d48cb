// ticketlab-cli's commands over the experiment database as a researcher meets them: a run that
// fails on bad input leaves nothing behind, a failed run shows its error, and `delete` removes
// runs with everything they own, asking first.

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "store/experiment_store.h"
#include "testdata.h"
#include "testruns.h"

namespace {

using Result = tltest::CliResult;

Result cli(const QStringList &args)
{
    return tltest::runCli(args);
}

} // namespace

class TestCliStore : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    QString path(const QString &name) const { return m_dir.filePath(name); }

    QString writeSpec(const QString &name, const QString &fields)
    {
        const QString file = path(name + QStringLiteral(".json"));
        QFile f(file);
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(QStringLiteral(R"({"model": "model", "task": "SST-2", "data_dir": "data/sentiment", "kind": "imp",
            "prune": {"step": 0.3, "rounds": 2},
            "train": {"epochs": 1, "max_steps": 3, "lr": 1e-3, "batch_size": 16, "max_seq_len": 32},
            "seeds": [0], "threads": 1 %1})")
                    .arg(fields)
                    .toUtf8());
        return file;
    }

    static QStringList leftovers(const QString &db)
    {
        QStringList out;
        for (const char *suffix : {"", "-wal", "-shm", "-journal", ".checkpoints"})
            if (QFileInfo::exists(db + QLatin1String(suffix)))
                out << db + QLatin1String(suffix);
        return out;
    }

    QStringList checkpointsOf(const QString &db, qint64 run)
    {
        return QDir(db + QStringLiteral(".checkpoints"))
            .entryList({QStringLiteral("run-%1-round-*").arg(run)}, QDir::Files);
    }

    int runCount(const QString &db)
    {
        const Result r = cli(
            {QStringLiteral("runs"), QStringLiteral("--db"), db, QStringLiteral("--format"), QStringLiteral("json")});
        return int(QJsonDocument::fromJson(r.out).array().size());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QDir::setCurrent(m_dir.path());
        EXPECT_OK(cli({QStringLiteral("demo-data"), QStringLiteral("--out"), path(QStringLiteral("data")),
                       QStringLiteral("--train"), QStringLiteral("100"), QStringLiteral("--dev"), QStringLiteral("20"),
                       QStringLiteral("--corpus-lines"), QStringLiteral("100")}));
        EXPECT_OK(
            cli({QStringLiteral("init"), QStringLiteral("--preset"), QStringLiteral("tiny"), QStringLiteral("--vocab"),
                 path(QStringLiteral("data/vocab.txt")), QStringLiteral("--out"), path(QStringLiteral("model"))}));
        QVERIFY(QDir().mkpath(path(QStringLiteral("empty-task"))));
    }

    void failedRunLeavesNoDatabase_data()
    {
        QTest::addColumn<QString>("fields");
        QTest::addColumn<QString>("fragment");
        QTest::newRow("no data folder") << QStringLiteral(R"(, "data_dir": "data/nope")")
                                        << QStringLiteral("data/nope");
        QTest::newRow("no model") << QStringLiteral(R"(, "model": "no-model")") << QStringLiteral("no-model");
        // The folder exists but holds no task: found only when the data is read.
        QTest::newRow("no train.tsv") << QStringLiteral(R"(, "data_dir": "empty-task")")
                                      << QStringLiteral("empty-task");
        QTest::newRow("no source run") << QStringLiteral(R"(, "kind": "reinit", "source": {"run": 7})")
                                       << QStringLiteral("source run 7 does not exist");
    }

    void failedRunLeavesNoDatabase()
    {
        QFETCH(QString, fields);
        QFETCH(QString, fragment);
        const QString db = path(QStringLiteral("typo.db"));
        const Result r =
            cli({QStringLiteral("run"), writeSpec(QStringLiteral("bad"), fields), QStringLiteral("--db"), db});
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.err.contains(fragment.toUtf8()), r.err.constData());
        QCOMPARE(r.err.count("error:"), 1);
        QCOMPARE(leftovers(db), QStringList());

        // An existing database stays, with nothing added.
        const QString lab =
            path(QStringLiteral("lab-%1.db")
                     .arg(QString::fromLatin1(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('-'))));
        EXPECT_OK(cli({QStringLiteral("run"), writeSpec(QStringLiteral("good"), {}), QStringLiteral("--db"), lab}));
        QVERIFY(cli({QStringLiteral("run"), writeSpec(QStringLiteral("bad"), fields), QStringLiteral("--db"), lab})
                    .exitCode != 0);
        QCOMPARE(runCount(lab), 1);
    }

    /// OpenBLAS 0.3.21 runs CPUs it does not know on its slowest kernels unless
    /// OPENBLAS_CORETYPE names them; the CLI sets it (2-3x faster training on this VM's Xeon), and
    /// keeps the user's choice.
    void runsUseKernelsForTheCpu()
    {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        if (!__builtin_cpu_supports("avx2"))
            QSKIP("this CPU has no AVX2: OpenBLAS's generic kernels are the right ones");
        const QByteArray saved = qgetenv("OPENBLAS_CORETYPE");
        const bool wasSet = qEnvironmentVariableIsSet("OPENBLAS_CORETYPE");
        auto blasOf = [&](const QString &name) {
            const QString db = path(name + QStringLiteral(".db"));
            const Result r = cli({QStringLiteral("run"), writeSpec(name, {}), QStringLiteral("--db"), db});
            return r.exitCode == 0 ? tltest::showRun(db, 1).value(QLatin1String("blas")).toString()
                                   : QString::fromUtf8(r.err);
        };
        qunsetenv("OPENBLAS_CORETYPE");
        const QString chosen = blasOf(QStringLiteral("blas-auto"));
        qputenv("OPENBLAS_CORETYPE", "Haswell");
        const QString asked = blasOf(QStringLiteral("blas-haswell"));
        if (wasSet)
            qputenv("OPENBLAS_CORETYPE", saved);
        else
            qunsetenv("OPENBLAS_CORETYPE");
        if (!chosen.startsWith(QLatin1String("OpenBLAS")))
            QSKIP(qPrintable(QStringLiteral("LibTorch does not run on OpenBLAS here: ") + chosen));
        QVERIFY2(!chosen.contains(QLatin1String("Prescott")), qPrintable(chosen));
        QVERIFY2(asked.contains(QLatin1String("Haswell")), qPrintable(asked));
#else
        QSKIP("OpenBLAS kernel choice is checked on x86-64 only");
#endif
    }

    void failedRunShowsItsError()
    {
        const QString db = path(QStringLiteral("failed.db"));
        {
            auto store = tl::ExperimentStore::open(db.toStdString());
            const int64_t id = tltest::RunBuilder(tl::RunKind::Imp, "RTE").status("running").create(*store);
            store->setRunStatus(id, "failed", "run-5-round-2.safetensors: checkpoint missing\nresume impossible");
        }
        const Result runs = cli({QStringLiteral("runs"), QStringLiteral("--db"), db});
        EXPECT_OK(runs);
        QVERIFY2(runs.out.contains("\tfailed\t"), runs.out.constData());
        QVERIFY2(runs.out.contains("error: run-5-round-2.safetensors: checkpoint missing resume impossible\n"),
                 runs.out.constData());
        QCOMPARE(runs.out.count('\n'), 1); // still one line per run
        const Result show = cli({QStringLiteral("show"), QStringLiteral("1"), QStringLiteral("--db"), db});
        EXPECT_OK(show);
        QVERIFY2(
            show.out.contains(": failed\nerror: run-5-round-2.safetensors: checkpoint missing resume impossible\n"),
            show.out.constData());
    }

    void deleteRemovesRunsWithEverythingTheyOwn()
    {
        const QString db = path(QStringLiteral("delete.db"));
        EXPECT_OK(cli({QStringLiteral("run"), writeSpec(QStringLiteral("del"), QStringLiteral(R"(, "seeds": [0, 1])")),
                       QStringLiteral("--db"), db}));
        const Result t = cli({QStringLiteral("transfer"), QStringLiteral("--db"), db, QStringLiteral("--from"),
                              QStringLiteral("1"), QStringLiteral("--round"), QStringLiteral("1"),
                              QStringLiteral("--task"), QStringLiteral("RTE"), QStringLiteral("--data-dir"),
                              path(QStringLiteral("data/entailment")), QStringLiteral("--seeds"), QStringLiteral("0")});
        EXPECT_OK(t);
        const qint64 transfer = t.out.split('\t')[0].toLongLong();
        QCOMPARE(transfer, 3);
        QVERIFY(!checkpointsOf(db, 1).isEmpty());
        QVERIFY(!checkpointsOf(db, 3).isEmpty());

        // Not on a terminal and no --yes: refused, nothing touched.
        Result r =
            cli({QStringLiteral("delete"), QStringLiteral("1"), QStringLiteral("3"), QStringLiteral("--db"), db});
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.err.contains("--yes") && r.err.contains("not a terminal"), r.err.constData());
        QCOMPARE(runCount(db), 3);
        // The source of a transfer that stays: refused, naming it.
        r = cli({QStringLiteral("delete"), QStringLiteral("1"), QStringLiteral("--db"), db, QStringLiteral("--yes")});
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.err.contains("source of transfer run 3"), r.err.constData());
        QCOMPARE(runCount(db), 3);

        r = cli({QStringLiteral("delete"), QStringLiteral("1"), QStringLiteral("3"), QStringLiteral("--db"), db,
                 QStringLiteral("--yes")});
        EXPECT_OK(r);
        QCOMPARE(runCount(db), 1);
        QVERIFY(checkpointsOf(db, 1).isEmpty());
        QVERIFY(checkpointsOf(db, 3).isEmpty());
        QVERIFY(!checkpointsOf(db, 2).isEmpty());
        {
            auto store = tl::ExperimentStore::open(db.toStdString());
            QVERIFY(store->rounds(1).empty() && store->curve(1).empty() && !store->pruneOrder(1) &&
                    !store->transfer(3));
            QCOMPARE(store->rounds(2).size(), size_t(3));
        }
        QVERIFY(
            cli({QStringLiteral("delete"), QStringLiteral("9"), QStringLiteral("--db"), db, QStringLiteral("--yes")})
                .exitCode != 0);
        // The deleted seed is missing work again: running the spec brings it back, once.
        const Result again = cli({QStringLiteral("run"), path(QStringLiteral("del.json")), QStringLiteral("--db"), db});
        EXPECT_OK(again);
        QCOMPARE(again.out.trimmed(), QByteArray("4 2"));
    }

    void maskOpResultTrainsAsATransfer()
    {
        // Two seeds' tickets, their intersection stored by mask-op, then fine-tuned on another
        // task with `transfer --from` the stored result, as a researcher tries the weights
        // every ticket keeps.
        const QString db = path(QStringLiteral("maskop.db"));
        EXPECT_OK(cli({QStringLiteral("run"), writeSpec(QStringLiteral("mop"), QStringLiteral(R"(, "seeds": [0, 1])")),
                       QStringLiteral("--db"), db}));
        const Result op = cli({QStringLiteral("mask-op"), QStringLiteral("intersect"), QStringLiteral("--db"), db,
                               QStringLiteral("--masks"), QStringLiteral("1:2,2:2"), QStringLiteral("--name"),
                               QStringLiteral("both seeds")});
        EXPECT_OK(op);
        const qint64 combined = op.out.trimmed().toLongLong();
        QCOMPARE(combined, 3);
        double s1 = 0, s3 = 0;
        {
            auto store = tl::ExperimentStore::open(db.toStdString());
            s1 = store->rounds(1).back().sparsity;
            s3 = store->rounds(3).back().sparsity;
        }
        QVERIFY2(s3 >= s1, qPrintable(QStringLiteral("intersection %1 vs ticket %2").arg(s3).arg(s1)));
        const Result t = cli({QStringLiteral("transfer"), QStringLiteral("--db"), db, QStringLiteral("--from"),
                              QString::number(combined), QStringLiteral("--round"), QStringLiteral("1"),
                              QStringLiteral("--task"), QStringLiteral("RTE"), QStringLiteral("--data-dir"),
                              path(QStringLiteral("data/entailment")), QStringLiteral("--seeds"), QStringLiteral("0")});
        EXPECT_OK(t);
        const qint64 transfer = t.out.split('\t')[0].toLongLong();
        auto store = tl::ExperimentStore::open(db.toStdString());
        const tl::RunRecord run = store->requireRun(transfer);
        QCOMPARE(run.kind, tl::RunKind::Transfer);
        QCOMPARE(run.status, std::string("done"));
        QCOMPARE(run.task, std::string("RTE"));
        const auto rounds = store->rounds(transfer);
        QCOMPARE(rounds.size(), size_t(1));
        QCOMPARE(rounds[0].sparsity, s3);
        QVERIFY(store->transfer(transfer) && store->transfer(transfer)->sourceRunId == combined);
    }

    void deleteAsksOnATerminal()
    {
        // script(1) gives the command a terminal; its stdin feeds the answer.
        const QString script = QStandardPaths::findExecutable(QStringLiteral("script"));
        if (script.isEmpty())
            QSKIP("script(1) not found: cannot give the command a terminal");
        const QString db = path(QStringLiteral("ask.db"));
        EXPECT_OK(cli({QStringLiteral("run"), writeSpec(QStringLiteral("ask"), {}), QStringLiteral("--db"), db}));
        for (const char *answer : {"n\n", "y\n"}) {
            QProcess p;
            p.start(script, {QStringLiteral("-qec"),
                             QStringLiteral("'%1' delete 1 --db '%2'").arg(QStringLiteral(TICKETLAB_CLI), db),
                             QStringLiteral("/dev/null")});
            QVERIFY(p.waitForStarted());
            p.write(answer);
            p.closeWriteChannel();
            QVERIFY(p.waitForFinished(60000));
            const QByteArray out = p.readAll();
            QVERIFY2(out.contains("Delete 1 run(s)") && out.contains("[y/N]"), out.constData());
            if (answer[0] == 'n') {
                QVERIFY(p.exitCode() != 0);
                QVERIFY2(out.contains("nothing deleted"), out.constData());
                QCOMPARE(runCount(db), 1);
            } else {
                QCOMPARE(p.exitCode(), 0);
                QCOMPARE(runCount(db), 0);
            }
        }
    }
};

QTEST_APPLESS_MAIN(TestCliStore)
#include "tst_clistore.moc"
