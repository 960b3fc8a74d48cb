#include "jobs/runjob.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTimer>

#include "engine/progress_protocol.h"

namespace tl::ui {

RunJob::RunJob(QString specPath, QString dbPath, QObject *parent)
    : QObject(parent), m_cli(defaultCliPath()), m_spec(std::move(specPath)), m_db(std::move(dbPath))
{
}

RunJob::~RunJob()
{
    if (m_process && m_process->state() != QProcess::NotRunning) {
        // The app is closing: let the run stop cleanly (it resumes next time), briefly.
        m_process->terminate();
        if (!m_process->waitForFinished(5000))
            m_process->kill();
        m_process->waitForFinished(2000);
    }
}

QString RunJob::defaultCliPath()
{
    const QString env = qEnvironmentVariable("TICKETLAB_CLI");
    if (!env.isEmpty())
        return env;
    const QString beside = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("ticketlab-cli"));
    if (QFileInfo(beside).isExecutable())
        return beside;
    const QString onPath = QStandardPaths::findExecutable(QStringLiteral("ticketlab-cli"));
    return onPath.isEmpty() ? QStringLiteral("ticketlab-cli") : onPath;
}

double RunJob::fractionDone() const
{
    return m_state == State::Done ? 1.0 : runFractionDone(m_progress);
}

void RunJob::setStudyRun(const QString &key, int threads)
{
    m_key = key;
    m_threads = threads;
}

QStringList RunJob::arguments() const
{
    const QStringList progress{QStringLiteral("--db"), m_db, QStringLiteral("--progress"), QStringLiteral("json")};
    if (m_key.isEmpty())
        return QStringList{QStringLiteral("run"), m_spec} + progress;
    QStringList args =
        QStringList{QStringLiteral("study"), QStringLiteral("run-one"), m_spec, QStringLiteral("--key"), m_key} +
        progress;
    if (m_threads > 0)
        args << QStringLiteral("--threads") << QString::number(m_threads);
    return args;
}

void RunJob::block(const QString &reason)
{
    if (m_state != State::Queued)
        return;
    m_error = reason;
    setFinal(State::Failed);
}

void RunJob::start()
{
    if (m_state != State::Queued)
        return;
    m_process = new QProcess(this);
    m_process->setProgram(m_cli);
    m_process->setArguments(arguments());
    connect(m_process, &QProcess::readyReadStandardOutput, this, &RunJob::readOutput);
    connect(m_process, &QProcess::readyReadStandardError, this, [this] {
        m_stderrTail += m_process->readAllStandardError();
        if (m_stderrTail.size() > 8192)
            m_stderrTail = m_stderrTail.right(8192);
    });
    connect(m_process, &QProcess::finished, this, &RunJob::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart) {
            m_error = m_cli + QStringLiteral(": could not start (") + m_process->errorString() + QLatin1Char(')');
            setFinal(State::Failed);
        }
    });
    m_state = State::Running;
    m_process->start();
    Q_EMIT started();
}

void RunJob::cancel()
{
    if (m_state == State::Queued) {
        setFinal(State::Cancelled);
        return;
    }
    if (m_state != State::Running || m_cancelRequested)
        return;
    m_cancelRequested = true;
    m_process->terminate(); // SIGTERM: the CLI stops after the current step, cleanly
    m_killTimer = new QTimer(this);
    m_killTimer->setSingleShot(true);
    connect(m_killTimer, &QTimer::timeout, this, [this] {
        if (m_process->state() != QProcess::NotRunning)
            m_process->kill();
    });
    m_killTimer->start(killTimeoutMs());
}

void RunJob::readOutput()
{
    while (m_process->canReadLine())
        handleLine(m_process->readLine().trimmed());
}

void RunJob::handleLine(const QByteArray &line)
{
    const auto parsed = parseProgressLine(line.toStdString());
    if (!parsed)
        return; // not a progress line (the CLI prints only JSON on stdout with --progress json)
    if (parsed->done) {
        m_sawDone = true;
        m_doneCancelled = parsed->outcome.cancelled;
        m_runIds = QList<qint64>(parsed->outcome.runIds.begin(), parsed->outcome.runIds.end());
        return;
    }
    RunEvent e = parsed->event;
    switch (e.type) {
    case RunEventType::RunStart:
        if (!m_runIds.contains(e.runId))
            m_runIds << e.runId;
        m_progress = e;
        Q_EMIT runStarted(e.runId, e.resumed);
        break;
    case RunEventType::RoundStart:
    case RunEventType::Progress:
        m_progress = e;
        Q_EMIT progress(m_progress);
        break;
    case RunEventType::RoundDone: {
        // The round's last training numbers stay on show until the next round starts.
        e.step = e.totalSteps = m_progress.totalSteps;
        e.loss = m_progress.loss;
        e.lr = m_progress.lr;
        m_progress = e;
        QVariantMap metrics;
        for (const auto &[name, value] : e.metrics)
            metrics.insert(QString::fromStdString(name), value);
        Q_EMIT roundDone(e.runId, e.round, e.sparsity, metrics);
        break;
    }
    case RunEventType::RunDone:
    case RunEventType::Tick:
        break;
    }
}

qint64 RunJob::processId() const
{
    return m_process ? m_process->processId() : 0;
}

void RunJob::onFinished(int exitCode, QProcess::ExitStatus status)
{
    readOutput();
    if (m_killTimer)
        m_killTimer->stop();
    if (m_state != State::Running)
        return;
    if (status == QProcess::NormalExit && exitCode == 0 && m_sawDone && !m_doneCancelled) {
        setFinal(State::Done);
        return;
    }
    if (m_cancelRequested || m_doneCancelled) {
        setFinal(State::Cancelled);
        return;
    }
    const QList<QByteArray> lines = m_stderrTail.trimmed().split('\n');
    QString last;
    for (auto it = lines.crbegin(); it != lines.crend() && last.isEmpty(); ++it)
        last = QString::fromUtf8(it->trimmed());
    if (status == QProcess::CrashExit)
        m_error = QStringLiteral("ticketlab-cli was killed or crashed (%1); Resume continues the run from its last "
                                 "finished round")
                      .arg(last.isEmpty() ? m_process->errorString() : last);
    else
        m_error = last.isEmpty() ? QStringLiteral("ticketlab-cli exited with code %1").arg(exitCode) : last;
    setFinal(State::Failed);
}

void RunJob::setFinal(State state)
{
    m_state = state;
    Q_EMIT finished(state);
}

} // namespace tl::ui
