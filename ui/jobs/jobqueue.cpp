#include "jobs/jobqueue.h"

#include <QFileInfo>
#include <QScopedValueRollback>

#include <algorithm>
#include <cmath>

#include "engine/progress_protocol.h"

namespace tl::ui {

QString stateName(RunJob::State state)
{
    switch (state) {
    case RunJob::State::Queued:
        return QStringLiteral("queued");
    case RunJob::State::Running:
        return QStringLiteral("running");
    case RunJob::State::Done:
        return QStringLiteral("done");
    case RunJob::State::Failed:
        return QStringLiteral("failed");
    case RunJob::State::Cancelled:
        return QStringLiteral("cancelled");
    }
    return {};
}

JobQueue::JobQueue(QObject *parent) : QAbstractTableModel(parent) {}

int JobQueue::enqueue(const QString &specPath, const QString &dbPath)
{
    return add(new RunJob(specPath, dbPath, this), {});
}

int JobQueue::enqueueStudyRun(const QString &studyPath, const QString &key, const QString &dbPath, int threads,
                              const QList<RunJob *> &after)
{
    auto *job = new RunJob(studyPath, dbPath, this);
    job->setStudyRun(key, threads);
    return add(job, after);
}

RunJob *JobQueue::activeStudyJob(const QString &studyPath, const QString &key, const QString &dbPath) const
{
    for (RunJob *j : m_jobs)
        if ((j->state() == RunJob::State::Queued || j->state() == RunJob::State::Running) && j->studyKey() == key &&
            j->specPath() == studyPath && j->dbPath() == dbPath)
            return j;
    return nullptr;
}

void JobQueue::setMaxParallel(int jobs)
{
    m_maxParallel = std::max(1, jobs);
    startNext();
}

int JobQueue::runningCount() const
{
    return int(std::count_if(m_jobs.begin(), m_jobs.end(),
                             [](const RunJob *j) { return j->state() == RunJob::State::Running; }));
}

int JobQueue::add(RunJob *job, const QList<RunJob *> &after)
{
    const int row = int(m_jobs.size());
    beginInsertRows({}, row, row);
    m_jobs << job;
    endInsertRows();
    if (!after.isEmpty())
        m_after.insert(job, after);
    connect(job, &RunJob::progress, this, [this, job](const RunProgress &p) {
        rowChanged(job);
        Q_EMIT jobProgress(job, p);
    });
    connect(job, &RunJob::roundDone, this, [this, job](qint64 run, int round, double sparsity, const QVariantMap &m) {
        rowChanged(job);
        Q_EMIT jobRoundDone(job, run, round, sparsity, m);
    });
    connect(job, &RunJob::started, this, [this, job] {
        rowChanged(job);
        Q_EMIT jobStarted(job);
    });
    connect(job, &RunJob::finished, this, [this, job](RunJob::State state) {
        rowChanged(job);
        Q_EMIT jobFinished(job, state);
        startNext();
    });
    startNext();
    return row;
}

void JobQueue::cancel(int row)
{
    if (RunJob *j = job(row))
        j->cancel();
}

int JobQueue::resume(int row)
{
    RunJob *j = job(row);
    if (!j || j->state() == RunJob::State::Running || j->state() == RunJob::State::Queued)
        return -1;
    if (!j->studyKey().isEmpty())
        return enqueueStudyRun(j->specPath(), j->studyKey(), j->dbPath(), j->studyThreads());
    return enqueue(j->specPath(), j->dbPath());
}

RunJob *JobQueue::job(int row) const
{
    return row >= 0 && row < m_jobs.size() ? m_jobs[row] : nullptr;
}

RunJob *JobQueue::current() const
{
    for (RunJob *j : m_jobs)
        if (j->state() == RunJob::State::Running)
            return j;
    return nullptr;
}

void JobQueue::startNext()
{
    // Starting or blocking a job can finish it at once (a CLI that cannot start), which calls
    // back here: the outer call goes on until nothing changes.
    if (m_starting)
        return;
    const QScopedValueRollback<bool> starting(m_starting, true);
    for (bool changed = true; changed;) {
        changed = false;
        for (RunJob *j : std::as_const(m_jobs)) {
            if (runningCount() >= m_maxParallel)
                return;
            if (j->state() != RunJob::State::Queued)
                continue;
            bool ready = true;
            for (RunJob *dep : m_after.value(j)) {
                if (dep->state() == RunJob::State::Failed || dep->state() == RunJob::State::Cancelled) {
                    j->block(QStringLiteral("needs %1, which %2").arg(dep->studyKey(), stateName(dep->state())));
                    ready = false;
                    changed = true;
                    break;
                }
                ready = ready && dep->state() == RunJob::State::Done;
            }
            if (ready) {
                j->start();
                changed = true;
            }
        }
    }
}

void JobQueue::rowChanged(RunJob *job)
{
    const int row = int(m_jobs.indexOf(job));
    if (row >= 0)
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

int JobQueue::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_jobs.size());
}

int JobQueue::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant JobQueue::data(const QModelIndex &index, int role) const
{
    const RunJob *j = job(index.row());
    if (!j || !index.isValid())
        return {};
    const RunProgress &p = j->lastProgress();
    const bool running = j->state() == RunJob::State::Running;
    if (role == FractionRole && index.column() == ProgressColumn)
        return j->fractionDone();
    if (role == Qt::ToolTipRole) {
        QString tip = j->specPath() + QStringLiteral("\n\u2192 ") + j->dbPath();
        if (!j->errorText().isEmpty())
            tip += QStringLiteral("\n") + j->errorText();
        return tip;
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case SpecColumn:
        return QFileInfo(j->specPath()).fileName() +
               (j->studyKey().isEmpty() ? QString() : QStringLiteral(": ") + j->studyKey());
    case StateColumn:
        if (j->state() == RunJob::State::Failed && !j->errorText().isEmpty())
            return QStringLiteral("failed: ") + j->errorText();
        return stateName(j->state()) + (p.runId ? QStringLiteral(" (run %1)").arg(p.runId) : QString());
    case RoundColumn:
        return running || p.runId
                   ? QStringLiteral("%1/%2 (%3%)").arg(p.round).arg(p.rounds).arg(p.sparsity * 100, 0, 'f', 1)
                   : QString();
    case ProgressColumn:
        return QStringLiteral("%1%").arg(int(j->fractionDone() * 100));
    case EtaColumn:
        return running && p.etaSeconds > 0 ? QString::fromStdString(formatDuration(p.etaSeconds)) : QString();
    case LossColumn:
        return p.step > 0 ? QString::number(p.loss, 'f', 4) : QString();
    default:
        return {};
    }
}

QVariant JobQueue::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case SpecColumn:
        return QStringLiteral("Spec");
    case StateColumn:
        return QStringLiteral("State");
    case RoundColumn:
        return QStringLiteral("Round (sparsity)");
    case ProgressColumn:
        return QStringLiteral("Progress");
    case EtaColumn:
        return QStringLiteral("ETA (round)");
    case LossColumn:
        return QStringLiteral("Loss");
    default:
        return {};
    }
}

} // namespace tl::ui
