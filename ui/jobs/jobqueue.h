#pragma once

#include <QAbstractTableModel>
#include <QPointer>

#include "jobs/runjob.h"

namespace tl::ui {

/// The queue of run specs: runs them one at a time, in order, each in its own ticketlab-cli
/// process (RunJob). A table model for the queue panel: spec, database, state, round,
/// progress, ETA, loss. Cancel stops a job (its finished rounds stay); Resume queues its spec
/// again, which continues the unfinished run from the store.
class JobQueue : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { SpecColumn, StateColumn, RoundColumn, ProgressColumn, EtaColumn, LossColumn, ColumnCount };
    static constexpr int FractionRole = Qt::UserRole + 1; ///< double in [0, 1] on ProgressColumn

    explicit JobQueue(QObject *parent = nullptr);

    /// Appends a job and starts it when nothing else runs. Returns its row.
    int enqueue(const QString &specPath, const QString &dbPath);
    void cancel(int row);
    /// Queues the spec of a finished job again (it resumes its unfinished run).
    int resume(int row);
    RunJob *job(int row) const;
    /// The running job, or nullptr.
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
    void startNext();
    void rowChanged(RunJob *job);

    QList<RunJob *> m_jobs; ///< owned (children)
};

QString stateName(RunJob::State state);

} // namespace tl::ui
