// The run queue's scheduling: up to maxParallel() child processes at once, study runs held
// until the runs they depend on are done, and failed unstarted when one of those fails. The
// children are a stand-in CLI (a shell script that logs its start and end and prints the
// protocol's closing line), so only the queue is measured; tst_studypanel runs the real CLI.

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <map>

#include "jobs/jobqueue.h"

using namespace tl::ui;

class TestJobQueue : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_log;

    /// Per job ("start KEY" .. "end KEY" in the log): the most that overlapped.
    int maxOverlap() const
    {
        QFile f(m_log);
        if (!f.open(QIODevice::ReadOnly))
            return -1;
        int running = 0, most = 0;
        for (const QByteArray &line : f.readAll().split('\n')) {
            running += line.startsWith("start ") ? 1 : line.startsWith("end ") ? -1 : 0;
            most = std::max(most, running);
        }
        return most;
    }
    QList<QByteArray> logLines() const
    {
        QFile f(m_log);
        return f.open(QIODevice::ReadOnly) ? f.readAll().trimmed().split('\n') : QList<QByteArray>{};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_log = m_dir.filePath(QStringLiteral("log.txt"));
        const QString cli = m_dir.filePath(QStringLiteral("fake-cli"));
        QFile f(cli);
        QVERIFY(f.open(QIODevice::WriteOnly));
        // study run-one STUDY --key KEY --db DB --progress json: $5 is the key.
        f.write(QStringLiteral(
                    "#!/bin/sh\n"
                    "echo \"start $5\" >> '%1'\n"
                    "sleep 0.4\n"
                    "case \"$5\" in fail*) echo \"error: $5 broke\" >&2; echo \"end $5\" >> '%1'; exit 1;; esac\n"
                    "echo '{\"event\": \"done\", \"runs\": [1], \"cancelled\": false}'\n"
                    "echo \"end $5\" >> '%1'\n")
                    .arg(m_log)
                    .toUtf8());
        f.close();
        QVERIFY(f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        qputenv("TICKETLAB_CLI", cli.toUtf8());
    }

    void init() { QFile::remove(m_log); }

    void runsNAtOnce_data()
    {
        QTest::addColumn<int>("parallel");
        QTest::newRow("1") << 1;
        QTest::newRow("2") << 2;
    }
    void runsNAtOnce()
    {
        QFETCH(int, parallel);
        JobQueue queue;
        queue.setMaxParallel(parallel);
        QCOMPARE(queue.maxParallel(), parallel);
        int most = 0;
        connect(&queue, &JobQueue::jobStarted, this, [&] { most = std::max(most, queue.runningCount()); });
        QSignalSpy finished(&queue, &JobQueue::jobFinished);
        for (int i = 0; i < 4; ++i)
            queue.enqueueStudyRun(QStringLiteral("study.json"), QStringLiteral("T/imp/s%1").arg(i),
                                  QStringLiteral("lab.db"));
        QCOMPARE(queue.runningCount(), parallel);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 4, 30000);
        for (int i = 0; i < 4; ++i)
            QVERIFY2(queue.job(i)->state() == RunJob::State::Done, qPrintable(queue.job(i)->errorText()));
        QCOMPARE(most, parallel);
        QCOMPARE(maxOverlap(), parallel); // the processes themselves overlapped that much, no more
        QCOMPARE(queue.index(3, JobQueue::SpecColumn).data().toString(), QStringLiteral("study.json: T/imp/s3"));
    }

    void raisingTheLimitStartsWaitingJobs()
    {
        JobQueue queue;
        QSignalSpy finished(&queue, &JobQueue::jobFinished);
        for (int i = 0; i < 3; ++i)
            queue.enqueueStudyRun(QStringLiteral("study.json"), QStringLiteral("T/full/s%1").arg(i),
                                  QStringLiteral("lab.db"));
        QCOMPARE(queue.runningCount(), 1);
        queue.setMaxParallel(3);
        QCOMPARE(queue.runningCount(), 3);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, 30000);
    }

    void dependentsWaitAndFailWithTheirSource()
    {
        JobQueue queue;
        queue.setMaxParallel(4);
        QSignalSpy finished(&queue, &JobQueue::jobFinished);
        const QString study = QStringLiteral("study.json"), db = QStringLiteral("lab.db");
        const int imp = queue.enqueueStudyRun(study, QStringLiteral("T/imp/s0"), db);
        const int reinit = queue.enqueueStudyRun(study, QStringLiteral("T/reinit/s0"), db, 2, {queue.job(imp)});
        const int broken = queue.enqueueStudyRun(study, QStringLiteral("fail/imp/s0"), db);
        const int blocked = queue.enqueueStudyRun(study, QStringLiteral("fail/shuffle/s0"), db, 0, {queue.job(broken)});
        QCOMPARE(queue.job(reinit)->state(), RunJob::State::Queued); // held although a slot is free
        QCOMPARE(queue.activeStudyJob(study, QStringLiteral("T/reinit/s0"), db), queue.job(reinit));
        QCOMPARE(queue.runningCount(), 2);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 4, 30000);
        QCOMPARE(queue.job(imp)->state(), RunJob::State::Done);
        QCOMPARE(queue.job(reinit)->state(), RunJob::State::Done);
        QCOMPARE(queue.job(reinit)->arguments().mid(queue.job(reinit)->arguments().size() - 2),
                 (QStringList{QStringLiteral("--threads"), QStringLiteral("2")}));
        QCOMPARE(queue.job(broken)->state(), RunJob::State::Failed);
        QCOMPARE(queue.job(broken)->errorText(), QStringLiteral("error: fail/imp/s0 broke"));
        QCOMPARE(queue.job(blocked)->state(), RunJob::State::Failed);
        QCOMPARE(queue.job(blocked)->errorText(), QStringLiteral("needs fail/imp/s0, which failed"));
        QVERIFY(!queue.activeStudyJob(study, QStringLiteral("T/reinit/s0"), db));
        // The log: the reinit started after its IMP run ended; the blocked run never started.
        const QList<QByteArray> log = logLines();
        QVERIFY(log.indexOf("start T/reinit/s0") > log.indexOf("end T/imp/s0"));
        QVERIFY(!log.contains("start fail/shuffle/s0"));
        // Resume queues the study run again.
        const int again = queue.resume(blocked);
        QCOMPARE(queue.job(again)->studyKey(), QStringLiteral("fail/shuffle/s0"));
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 5, 30000);
    }
};

QTEST_GUILESS_MAIN(TestJobQueue)
#include "tst_jobqueue.moc"
