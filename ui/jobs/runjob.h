#pragma once

#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QVariantMap>

#include "engine/runner.h"

class QTimer;

namespace tl::ui {

/// One event of `ticketlab-cli run --progress json`, as parseProgressLine() reads it.
using RunProgress = tl::RunEvent;

/// Runs one run spec in a child `ticketlab-cli run SPEC --db DB --progress json` process (or one
/// planned run of a study, `study run-one`: setStudyRun()), so
/// that a crash or out-of-memory in training never takes the app down. Progress arrives as
/// signals parsed from the child's JSON lines. cancel() asks the child to stop (SIGTERM: it
/// finishes the current step, keeps its committed rounds and marks the run cancelled, so the
/// same spec resumes later); it is killed if it has not exited after killTimeoutMs().
class RunJob : public QObject
{
    Q_OBJECT

public:
    enum class State
    {
        Queued,
        Running,
        Done,
        Failed,
        Cancelled
    };
    Q_ENUM(State)

    RunJob(QString specPath, QString dbPath, QObject *parent = nullptr);
    ~RunJob() override;

    /// The CLI to run: $TICKETLAB_CLI, else ticketlab-cli beside this executable, else on PATH.
    static QString defaultCliPath();
    void setCliPath(const QString &path) { m_cli = path; }
    static int killTimeoutMs() { return 30000; }

    /// Makes this job one planned run of a study instead: `ticketlab-cli study run-one SPEC --key
    /// KEY --db DB --progress json`, where specPath() is the study file; threads > 0 is passed
    /// as --threads (part of the run's identity, as in `study run`).
    void setStudyRun(const QString &key, int threads = 0);
    QString studyKey() const { return m_key; }
    int studyThreads() const { return m_threads; }
    /// The child's arguments (without the program).
    QStringList arguments() const;

    void start();
    void cancel();
    /// Fails a queued job without starting it, with why (a run it needs failed).
    void block(const QString &reason);

    State state() const { return m_state; }
    QString specPath() const { return m_spec; }
    QString dbPath() const { return m_db; }
    QList<qint64> runIds() const { return m_runIds; }
    /// The child's process id while it runs (0 otherwise).
    qint64 processId() const;
    /// Why the job failed: the child's last error line (or the process error).
    QString errorText() const { return m_error; }
    const RunProgress &lastProgress() const { return m_progress; }
    /// Fraction done over all rounds of the current run (runFractionDone()), in [0, 1].
    double fractionDone() const;

Q_SIGNALS:
    void started();
    void runStarted(qint64 runId, bool resumed);
    void progress(const tl::ui::RunProgress &progress);
    void roundDone(qint64 runId, int round, double sparsity, const QVariantMap &metrics);
    void finished(tl::ui::RunJob::State state);

private:
    void readOutput();
    void handleLine(const QByteArray &line);
    void onFinished(int exitCode, QProcess::ExitStatus status);
    void setFinal(State state);

    QString m_cli, m_spec, m_db;
    QString m_key; ///< study run-one: the planned run's key
    int m_threads = 0;
    QProcess *m_process = nullptr;
    QTimer *m_killTimer = nullptr;
    State m_state = State::Queued;
    bool m_cancelRequested = false;
    bool m_sawDone = false, m_doneCancelled = false;
    QList<qint64> m_runIds;
    QString m_error;
    QByteArray m_stderrTail;
    RunProgress m_progress;
};

} // namespace tl::ui

Q_DECLARE_METATYPE(tl::RunEvent)
