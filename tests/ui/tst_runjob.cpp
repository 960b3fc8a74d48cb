// RunJob and JobQueue: the real ticketlab-cli on the demo data, progress and completion
// through signals, Cancel leaving the store consistent, Resume finishing the run.

#include <signal.h>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "testdata.h"
#include "jobs/jobqueue.h"
#include "jobs/runjob.h"
#include "prune/prune_order.h"
#include "store/experiment_store.h"

using namespace tl;
using namespace tl::ui;

class TestRunJob : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    QString path(const QString &name) const { return m_dir.filePath(name); }

    bool cli(const QStringList &args)
    {
        const tltest::CliResult r = tltest::runCli(args, 300000);
        if (r.exitCode != 0)
            qWarning("%s", r.err.constData());
        return r.exitCode == 0;
    }

    QString writeSpec(const QString &name, int rounds, int steps)
    {
        const QString file = path(name + QStringLiteral(".json"));
        QFile f(file);
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(QStringLiteral(R"({"model": "model", "task": "SST-2", "data_dir": "data/sentiment", "kind": "imp",
            "prune": {"method": "global_magnitude", "schedule": "linear", "step": 0.2, "rounds": %1},
            "train": {"epochs": 1, "max_steps": %2, "lr": 1e-3, "batch_size": 16, "max_seq_len": 32},
            "seeds": [5], "threads": 1})")
                    .arg(rounds)
                    .arg(steps)
                    .toUtf8());
        return file;
    }

    /// Resumes job `row` of queue (its run runId in db stopped after some rounds) and checks that
    /// the same run, resumed, finishes its 4 rounds as the only run of db; `again` is the new job.
    void resumeToTheEnd(JobQueue &queue, QSignalSpy &finished, int row, qint64 runId, const QString &db, int &again)
    {
        again = queue.resume(row);
        QVERIFY(again > row);
        QSignalSpy resumedStart(queue.job(again), &RunJob::runStarted);
        QVERIFY(finished.wait(300000));
        QCOMPARE(queue.job(again)->state(), RunJob::State::Done);
        QCOMPARE(resumedStart.count(), 1);
        QCOMPARE(resumedStart[0][0].toLongLong(), runId);
        QCOMPARE(resumedStart[0][1].toBool(), true); // resumed, not a new run
        auto store = ExperimentStore::open(db.toStdString());
        QCOMPARE(store->run(runId)->status, std::string("done"));
        QCOMPARE(store->rounds(runId).size(), size_t(4));
        QCOMPARE(store->runs().size(), size_t(1));
        QCOMPARE(store->pragma("integrity_check"), std::string("ok"));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("TICKETLAB_CLI", TICKETLAB_CLI);
        QVERIFY(cli({QStringLiteral("demo-data"), QStringLiteral("--out"), path(QStringLiteral("data")),
                     QStringLiteral("--train"), QStringLiteral("200"), QStringLiteral("--dev"), QStringLiteral("40"),
                     QStringLiteral("--corpus-lines"), QStringLiteral("100")}));
        QVERIFY(
            cli({QStringLiteral("init"), QStringLiteral("--preset"), QStringLiteral("tiny"), QStringLiteral("--vocab"),
                 path(QStringLiteral("data/vocab.txt")), QStringLiteral("--out"), path(QStringLiteral("model"))}));
    }

    void runReportsProgressAndCompletion()
    {
        const QString db = path(QStringLiteral("lab.db"));
        RunJob job(writeSpec(QStringLiteral("imp"), 2, 6), db);
        QCOMPARE(job.state(), RunJob::State::Queued);
        QSignalSpy started(&job, &RunJob::runStarted);
        QSignalSpy progress(&job, &RunJob::progress);
        QSignalSpy rounds(&job, &RunJob::roundDone);
        QSignalSpy finished(&job, &RunJob::finished);
        job.start();
        QCOMPARE(job.state(), RunJob::State::Running);
        QVERIFY(finished.wait(240000));
        QVERIFY2(job.state() == RunJob::State::Done, qPrintable(job.errorText()));
        QCOMPARE(started.count(), 1);
        QCOMPARE(started[0][1].toBool(), false); // not resumed
        QVERIFY(progress.count() >= 3);          // the CLI logs every 10 steps and each round's last
        QCOMPARE(rounds.count(), 3);
        for (int r = 0; r < 3; ++r) {
            QCOMPARE(rounds[r][1].toInt(), r);
            QVERIFY(std::abs(rounds[r][2].toDouble() - 0.2 * r) < 1e-9);
            QVERIFY(rounds[r][3].toMap().contains(QStringLiteral("accuracy")));
        }
        const RunProgress last = progress.last()[0].value<RunProgress>();
        QCOMPARE(last.round, 2);
        QCOMPARE(last.step, qint64(6));
        QCOMPARE(job.runIds().size(), 1);
        QCOMPARE(job.fractionDone(), 1.0);
        // The store agrees with the signals.
        auto store = ExperimentStore::open(db.toStdString());
        const auto run = store->run(job.runIds()[0]);
        QVERIFY(run);
        QCOMPARE(run->status, std::string("done"));
        QCOMPARE(store->rounds(run->id).size(), size_t(3));
    }

    void failureIsReported()
    {
        const QString spec = path(QStringLiteral("broken.json"));
        QFile f(spec);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(
            R"({"model": "model", "task": "SST-2", "data_dir": "data/sentiment", "kind": "imp", "bogus_field": 1})");
        f.close();
        RunJob job(spec, path(QStringLiteral("fail.db")));
        QSignalSpy finished(&job, &RunJob::finished);
        job.start();
        QVERIFY(finished.wait(60000));
        QCOMPARE(job.state(), RunJob::State::Failed);
        QVERIFY2(job.errorText().contains(QStringLiteral("bogus_field")), qPrintable(job.errorText()));

        RunJob missing(spec, path(QStringLiteral("fail.db")));
        missing.setCliPath(path(QStringLiteral("no-such-cli")));
        QSignalSpy missingFinished(&missing, &RunJob::finished);
        missing.start();
        QVERIFY(missingFinished.count() == 1 || missingFinished.wait(10000));
        QCOMPARE(missing.state(), RunJob::State::Failed);
        QVERIFY(missing.errorText().contains(QStringLiteral("could not start")));
    }

    void killedChildFailsAndResumeFinishes()
    {
        // The child dies mid-round (SIGKILL: out of memory, a crash): the queue says so, stays
        // usable, and Resume continues the same run to its end.
        const QString db = path(QStringLiteral("killed.db"));
        const QString spec = writeSpec(QStringLiteral("killed"), 3, 40);
        JobQueue queue;
        QSignalSpy finished(&queue, &JobQueue::jobFinished);
        QSignalSpy roundDone(&queue, &JobQueue::jobRoundDone);
        const int row = queue.enqueue(spec, db);
        QVERIFY(roundDone.wait(240000));
        QSignalSpy progress(&queue, &JobQueue::jobProgress);
        QVERIFY(progress.wait(60000));
        const qint64 pid = queue.job(row)->processId();
        QVERIFY(pid > 0);
        QCOMPARE(::kill(pid_t(pid), SIGKILL), 0);
        QVERIFY(finished.wait(120000));
        QCOMPARE(queue.job(row)->state(), RunJob::State::Failed);
        QVERIFY2(queue.job(row)->errorText().contains(QStringLiteral("killed or crashed")),
                 qPrintable(queue.job(row)->errorText()));
        QVERIFY(queue.isIdle());
        const qint64 runId = queue.job(row)->runIds().value(0);
        QVERIFY(runId > 0);
        int again = 0;
        resumeToTheEnd(queue, finished, row, runId, db, again);
        if (QTest::currentTestFailed())
            return;
    }

    void cancelKeepsStoreConsistentAndResumeFinishes()
    {
        const QString db = path(QStringLiteral("cancel.db"));
        const QString spec = writeSpec(QStringLiteral("long"), 3, 40);
        JobQueue queue;
        QSignalSpy finished(&queue, &JobQueue::jobFinished);
        QSignalSpy roundDone(&queue, &JobQueue::jobRoundDone);
        const int row = queue.enqueue(spec, db);
        QVERIFY(!queue.isIdle());
        // Cancel in the middle of round 1: round 0 is committed, round 1 is not.
        QVERIFY(roundDone.wait(240000));
        QSignalSpy progress(&queue, &JobQueue::jobProgress);
        QVERIFY(progress.wait(60000));
        queue.cancel(row);
        QVERIFY(finished.wait(120000));
        QCOMPARE(queue.job(row)->state(), RunJob::State::Cancelled);
        QVERIFY(queue.isIdle());
        const qint64 runId = queue.job(row)->runIds().value(0);
        QVERIFY(runId > 0);
        {
            auto store = ExperimentStore::open(db.toStdString());
            const auto run = store->run(runId);
            QCOMPARE(run->status, std::string("cancelled"));
            const auto rounds = store->rounds(runId);
            QVERIFY(!rounds.empty());
            QVERIFY(rounds.size() < 4);
            for (size_t i = 0; i < rounds.size(); ++i) // whole rounds only, in order
                QCOMPARE(rounds[i].round, int(i));
            const auto blob = store->pruneOrder(runId);
            QVERIFY(blob);
            decodePruneOrder(*blob, "cancel.db"); // intact
        }
        // Resume: the same spec continues the run and finishes it.
        int again = 0;
        resumeToTheEnd(queue, finished, row, runId, db, again);
        if (QTest::currentTestFailed())
            return;
        // The queue model shows both jobs.
        QCOMPARE(queue.rowCount(), 2);
        QCOMPARE(queue.index(again, JobQueue::StateColumn).data().toString(),
                 QStringLiteral("done (run %1)").arg(runId));
        QCOMPARE(queue.index(again, JobQueue::ProgressColumn).data().toString(), QStringLiteral("100%"));
    }
};

QTEST_MAIN(TestRunJob)
#include "tst_runjob.moc"
