// Running a spec against a database is idempotent: a finished seed is reused, an unfinished
// one resumed, and only seeds never started get new runs; a repetition is explicit. Checked
// through the real CLI, with SIGKILLs at random moments of a two-seed run.

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include "prune/prune_order.h"
#include "store/experiment_store.h"
#include "testdata.h"

namespace {

using Result = tltest::CliResult;

Result cli(const QStringList &args)
{
    return tltest::runCli(args);
}

} // namespace

class TestResume : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_spec;

    QString path(const QString &name) const { return m_dir.filePath(name); }

    QJsonArray runs(const QString &db)
    {
        const Result r = cli(
            {QStringLiteral("runs"), QStringLiteral("--db"), db, QStringLiteral("--format"), QStringLiteral("json")});
        return QJsonDocument::fromJson(r.out).array();
    }

    /// Every run of db by seed, read with the store's API: its rounds (sparsity, dev and train
    /// metrics, steps) and its prune order (every round's mask, weight by weight).
    struct Snapshot
    {
        QList<qulonglong> seeds;
        QList<QList<QString>> rounds;
        QList<std::vector<uint8_t>> orders;
    };

    static Snapshot snapshot(const QString &db)
    {
        Snapshot s;
        auto store = tl::ExperimentStore::open(db.toStdString());
        std::vector<tl::RunRecord> all = store->runs();
        std::sort(all.begin(), all.end(), [](const auto &a, const auto &b) { return a.seed < b.seed; });
        for (const tl::RunRecord &r : all) {
            s.seeds << qulonglong(r.seed);
            QList<QString> rounds;
            for (const tl::RoundRecord &x : store->rounds(r.id))
                rounds << QStringLiteral("round %1 sparsity %2 dev %3 train %4 steps %5")
                              .arg(x.round)
                              .arg(x.sparsity, 0, 'g', 17)
                              .arg(QString::fromStdString(x.devMetricsJson), QString::fromStdString(x.trainMetricsJson))
                              .arg(x.steps);
            s.rounds << rounds;
            const auto blob = store->pruneOrder(r.id);
            s.orders << (blob ? tl::decodePruneOrder(*blob, "test").order : std::vector<uint8_t>());
        }
        return s;
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
        // Two seeds, three rounds (0, 1, 2), a few steps each: a couple of seconds uninterrupted.
        m_spec = path(QStringLiteral("two-seeds.json"));
        QFile f(m_spec);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"model": "model", "task": "SST-2", "data_dir": "data/sentiment", "kind": "imp",
            "prune": {"method": "global_magnitude", "schedule": "linear", "step": 0.25, "rounds": 2},
            "train": {"epochs": 1, "max_steps": 12, "lr": 1e-3, "batch_size": 16, "max_seq_len": 32},
            "seeds": [0, 1], "threads": 1})");
    }

    void finishedSpecAddsNothing()
    {
        const QString db = path(QStringLiteral("twice.db"));
        const Result first = cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), db});
        EXPECT_OK(first);
        QCOMPARE(first.out.trimmed(), QByteArray("1 2"));
        const Snapshot before = snapshot(db);
        const QJsonArray runsBefore = runs(db);

        const Result again = cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), db,
                                  QStringLiteral("--progress"), QStringLiteral("json")});
        EXPECT_OK(again);
        const auto lines = again.jsonLines();
        QCOMPARE(lines.last()[QStringLiteral("runs")].toArray(), QJsonArray({1, 2}));
        QCOMPARE(lines.last()[QStringLiteral("actions")].toArray(),
                 QJsonArray({QStringLiteral("done"), QStringLiteral("done")}));
        for (const QJsonObject &e : lines) {
            const QString type = e[QStringLiteral("event")].toString();
            QVERIFY2(type == QLatin1String("run_start") || type == QLatin1String("done"), qPrintable(type));
            if (type == QLatin1String("run_start"))
                QVERIFY(e[QStringLiteral("reused")].toBool());
        }
        QCOMPARE(runs(db), runsBefore); // not even updated_at moved
        const Snapshot after = snapshot(db);
        QCOMPARE(after.rounds, before.rounds);
    }

    void repeatIsExplicitAndIdempotent()
    {
        const QString db = path(QStringLiteral("twice.db")); // runs 1 and 2 are done
        const Result rep = cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), db, QStringLiteral("--repeat"),
                                QStringLiteral("1")});
        EXPECT_OK(rep);
        QCOMPARE(rep.out.trimmed(), QByteArray("3 4"));
        const QJsonObject third = tltest::showRun(db, 3);
        QCOMPARE(third[QStringLiteral("repetition")].toInt(), 1);
        QCOMPARE(third[QStringLiteral("spec")].toObject()[QStringLiteral("repeat")].toInt(), 1);
        QCOMPARE(third[QStringLiteral("seed")].toInteger(), 0);
        QVERIFY(!tltest::showRun(db, 1)[QStringLiteral("spec")].toObject().contains(QStringLiteral("repeat")));
        // The same repetition again: nothing new; the spec itself: still its first runs.
        const Result again = cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), db, QStringLiteral("--repeat"),
                                  QStringLiteral("1")});
        EXPECT_OK(again);
        QCOMPARE(again.out.trimmed(), QByteArray("3 4"));
        QCOMPARE(cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), db}).out.trimmed(), QByteArray("1 2"));
        QCOMPARE(runs(db).size(), 4);
        // A --threads override is another identity (CPU results depend on the count).
        const Result threads = cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), db,
                                    QStringLiteral("--threads"), QStringLiteral("2")});
        EXPECT_OK(threads);
        QCOMPARE(threads.out.trimmed(), QByteArray("5 6"));
        QCOMPARE(tltest::showRun(db, 5)[QStringLiteral("threads")].toInt(), 2);
        QCOMPARE(tltest::showRun(db, 5)[QStringLiteral("spec")].toObject()[QStringLiteral("threads")].toInt(), 2);
        QVERIFY(cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), db, QStringLiteral("--repeat"),
                     QStringLiteral("0")})
                    .exitCode != 0);
    }

    void twoProcessesOnOneSpecMakeOneRunEach()
    {
        // Both start at once: the second waits for each seed the first is running, then finds
        // it done. Never two copies of a run; the store stays sound.
        const QString db = path(QStringLiteral("together.db")), reference = path(QStringLiteral("alone.db"));
        EXPECT_OK(cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), reference}));
        const QStringList args = {QStringLiteral("run"),        m_spec,
                                  QStringLiteral("--db"),       db,
                                  QStringLiteral("--progress"), QStringLiteral("json")};
        QProcess a, b;
        a.start(QStringLiteral(TICKETLAB_CLI), args);
        b.start(QStringLiteral(TICKETLAB_CLI), args);
        QVERIFY(a.waitForFinished(600000) && b.waitForFinished(600000));
        const QByteArray errA = a.readAllStandardError(), errB = b.readAllStandardError();
        QVERIFY2(a.exitStatus() == QProcess::NormalExit && a.exitCode() == 0, errA.constData());
        QVERIFY2(b.exitStatus() == QProcess::NormalExit && b.exitCode() == 0, errB.constData());
        QVERIFY2((errA + errB).contains("another process is running spec"), (errA + errB).constData());
        QCOMPARE(runs(db).size(), 2);
        const Snapshot together = snapshot(db), alone = snapshot(reference);
        QCOMPARE(together.seeds, alone.seeds);
        QCOMPARE(together.rounds, alone.rounds);
        QVERIFY(together.orders == alone.orders);
        QCOMPARE(tl::ExperimentStore::open(db.toStdString())->pragma("integrity_check"), std::string("ok"));
    }

    void fullDiskKeepsEarlierRounds()
    {
        // A file-size limit (ulimit -f, as a full disk: writes fail with EFBIG) that the lab
        // outgrows during the run: a clear error, the committed rounds intact, a sound store, and
        // once there is room again the run resumes to the uninterrupted result.
        const QString reference = path(QStringLiteral("roomy.db"));
        EXPECT_OK(cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), reference}));
        const qint64 finalKb = QFileInfo(reference).size() / 1024;
        const Snapshot expected = snapshot(reference);
        int tried = 0;
        for (qint64 limitKb = finalKb / 4; limitKb < finalKb * 2; limitKb += finalKb / 8, ++tried) {
            const QString db = path(QStringLiteral("full-%1.db").arg(limitKb));
            QProcess p;
            p.start(QStringLiteral("bash"),
                    {QStringLiteral("-c"), QStringLiteral("ulimit -f %1; exec \"$0\" \"$@\"").arg(limitKb),
                     QStringLiteral(TICKETLAB_CLI), QStringLiteral("run"), m_spec, QStringLiteral("--db"), db});
            QVERIFY(p.waitForFinished(600000));
            const QByteArray err = p.readAllStandardError();
            QCOMPARE(p.exitStatus(), QProcess::NormalExit); // not killed by SIGXFSZ
            if (p.exitCode() == 0 || !QFileInfo::exists(db))
                continue; // the whole run fit, or not even the database did
            const QByteArray last = err.trimmed().split('\n').last();
            QVERIFY2(last.startsWith("error: " + db.toUtf8()) &&
                         (last.contains("(File too large)") || last.contains("is the disk full")),
                     last.constData());
            const Snapshot partial = snapshot(db);
            int committed = 0;
            for (const QList<QString> &rounds : partial.rounds)
                committed += int(rounds.size());
            if (committed == 0)
                continue; // failed before the first round: try a larger limit
            for (int i = 0; i < partial.seeds.size(); ++i) {
                const int seed = int(expected.seeds.indexOf(partial.seeds[i]));
                QVERIFY(seed >= 0);
                QCOMPARE(partial.rounds[i], expected.rounds[seed].mid(0, partial.rounds[i].size()));
            }
            QCOMPARE(tl::ExperimentStore::open(db.toStdString())->pragma("integrity_check"), std::string("ok"));
            EXPECT_OK(cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), db}));
            const Snapshot resumed = snapshot(db);
            QCOMPARE(resumed.seeds, expected.seeds);
            QCOMPARE(resumed.rounds, expected.rounds);
            QVERIFY(resumed.orders == expected.orders);
            return;
        }
        QFAIL(qPrintable(QStringLiteral("no file-size limit in %1 tries stopped the run between rounds").arg(tried)));
    }

    void resumesAfterSeedOneWasKilled()
    {
        // The issue's case: killed while seed 1 trains, run again: seed 0 is not run twice.
        const QString db = path(QStringLiteral("seed1.db"));
        QVERIFY(tltest::killCliWhen({QStringLiteral("run"), m_spec, QStringLiteral("--db"), db,
                                     QStringLiteral("--progress"), QStringLiteral("json")},
                                    [](const QJsonObject &e) {
                                        return e[QStringLiteral("event")].toString() == QLatin1String("progress") &&
                                               e[QStringLiteral("run")].toInt() == 2;
                                    }));
        const Result resumed = cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), db,
                                    QStringLiteral("--progress"), QStringLiteral("json")});
        EXPECT_OK(resumed);
        const auto lines = resumed.jsonLines();
        QCOMPARE(lines.last()[QStringLiteral("runs")].toArray(), QJsonArray({1, 2}));
        QCOMPARE(lines.last()[QStringLiteral("actions")].toArray(),
                 QJsonArray({QStringLiteral("done"), QStringLiteral("resumed")}));
        QCOMPARE(runs(db).size(), 2);
    }

    void twentyRandomKillsEndExactlyAsUninterrupted()
    {
        const QString reference = path(QStringLiteral("reference.db")), killed = path(QStringLiteral("killed.db"));
        QElapsedTimer clock;
        clock.start();
        EXPECT_OK(cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), reference}));
        const qint64 uninterruptedMs = clock.elapsed(); // process start included
        clock.restart();
        EXPECT_OK(cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), reference})); // nothing to do
        const qint64 startupMs = clock.elapsed();

        // Kill moments: one in five at a random time of process start-up (before the database
        // is even open); the others at a random time up to 150 ms after the k-th progress line
        // of the process, k uniform in 0..6: while a run is loaded, trains, evaluates, commits
        // a round or changes its status. A round takes 4 lines after its run's first, so the
        // run advances by about a round every three or four kills, and the twenty kills fall
        // all over both seeds' rounds, whatever the speed of the machine.
        const quint32 seed = QRandomGenerator::global()->generate();
        QRandomGenerator rng(seed);
        qInfo("kill moments drawn with seed %u (uninterrupted %lld ms, start-up %lld ms)", seed, uninterruptedMs,
              startupMs);
        int kills = 0, attempts = 0;
        while (kills < 20) {
            QVERIFY2(++attempts <= 60, "the run kept finishing before it could be killed");
            QProcess p;
            p.start(QStringLiteral(TICKETLAB_CLI), {QStringLiteral("run"), m_spec, QStringLiteral("--db"), killed,
                                                    QStringLiteral("--progress"), QStringLiteral("json")});
            QVERIFY(p.waitForStarted());
            int delayMs = int(rng.bounded(quint32(std::clamp<qint64>(startupMs, 100, 1000))));
            if (rng.bounded(5) != 0) {
                const int lines = int(rng.bounded(7));
                for (int seen = 0; seen < lines && p.state() == QProcess::Running;) {
                    if (p.canReadLine() || p.waitForReadyRead(20))
                        while (p.canReadLine() && seen < lines)
                            seen += p.readLine().isEmpty() ? 0 : 1;
                }
                delayMs = int(rng.bounded(150u));
            }
            if (!p.waitForFinished(delayMs))
                p.kill(); // SIGKILL; a no-op once it ended (::kill(processId()) then was kill(0): the test itself)
            p.waitForFinished();
            if (p.exitStatus() == QProcess::CrashExit)
                ++kills; // else it finished just before the kill
            else
                QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        }
        int committed = 0;
        for (const QJsonValue &r : runs(killed))
            committed += r.toObject()[QStringLiteral("rounds")].toInt();
        qInfo("%d kills in %d attempts; then %d of 6 rounds were committed", kills, attempts, committed);
        const Result last = cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), killed});
        EXPECT_OK(last);
        QCOMPARE(last.out.trimmed(), QByteArray("1 2"));

        // Exactly the reference's runs: two, one per seed, done, same rounds, metrics and masks.
        const QJsonArray all = runs(killed);
        QCOMPARE(all.size(), 2);
        for (const QJsonValue &r : all)
            QCOMPARE(r.toObject()[QStringLiteral("status")].toString(), QStringLiteral("done"));
        const Snapshot a = snapshot(reference), b = snapshot(killed);
        QCOMPARE(b.seeds, QList<qulonglong>({0, 1}));
        QCOMPARE(b.seeds, a.seeds);
        for (int i = 0; i < 2; ++i) {
            QCOMPARE(b.rounds[i].size(), 3);
            QCOMPARE(b.rounds[i], a.rounds[i]); // sparsity, dev and train metrics, steps
            QVERIFY(!b.orders[i].empty());
            QVERIFY(b.orders[i] == a.orders[i]); // every round's mask, weight by weight
        }
        // And once more: nothing added.
        EXPECT_OK(cli({QStringLiteral("run"), m_spec, QStringLiteral("--db"), killed}));
        QCOMPARE(runs(killed).size(), 2);
    }
};

QTEST_APPLESS_MAIN(TestResume)
#include "tst_resume.moc"
