#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QPointer>

#include "jobs/runjob.h"

namespace tl::ui {

/// The queue of run specs and planned study runs: runs them in order, up to maxParallel() at
/// once, each in its own ticketlab-cli process (RunJob). A study run waits for the jobs it
/// depends on (the IMP run its reinit, shuffle or transfer reads) and fails unstarted when one
/// of them fails or is cancelled. A table model for the queue panel: spec, database, state, round,
/// progress, ETA, loss. Cancel stops a job (its finished rounds stay); Resume queues its spec
/// again, which continues the unfinished run from the store.
class JobQueue : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        SpecColumn,
        StateColumn,
        RoundColumn,
        ProgressColumn,
        EtaColumn,
        LossColumn,
        ColumnCount
    };
    static constexpr int FractionRole = Qt::UserRole + 1; ///< double in [0, 1] on ProgressColumn

    explicit JobQueue(QObject *parent = nullptr);

    /// Appends a job and starts it when fewer than maxParallel() run. Returns its row.
    int enqueue(const QString &specPath, const QString &dbPath);
    /// Appends `study run-one STUDY --key KEY` (RunJob::setStudyRun); it starts once every job
    /// in `after` is done. Returns its row.
    int enqueueStudyRun(const QString &studyPath, const QString &key, const QString &dbPath, int threads = 0,
                        const QList<RunJob *> &after = {});
    /// The queued or running job of that study run, or nullptr.
    RunJob *activeStudyJob(const QString &studyPath, const QString &key, const QString &dbPath) const;
    /// How many jobs run at once (child processes; default 1). Raising it starts waiting jobs.
    void setMaxParallel(int jobs);
    int maxParallel() const { return m_maxParallel; }
    int runningCount() const;
    void cancel(int row);
    /// Queues the spec of a finished job again (it resumes its unfinished run).
    int resume(int row);
    RunJob *job(int row) const;
    /// The first running job, or nullptr.
    RunJob *current() const;
    bool isIdle() const { return current() == nullptr; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void jobStarted(tl::ui::RunJob *job);
    void jobProgress(tl::ui::RunJob *job, const tl::ui::RunProgress &progress);
    void jobRoundDone(tl::ui::RunJob *job, qint64 runId, int round, double sparsity, const QVariantMap &metrics);
    void jobFinished(tl::ui::RunJob *job, tl::ui::RunJob::State state);

private:
    int add(RunJob *job, const QList<RunJob *> &after);
    void startNext();
    void rowChanged(RunJob *job);

    QList<RunJob *> m_jobs;                         ///< owned (children)
    QHash<const RunJob *, QList<RunJob *>> m_after; ///< job -> the jobs it waits for
    int m_maxParallel = 1;
    bool m_starting = false;
};

QString stateName(RunJob::State state);

} // namespace tl::ui
