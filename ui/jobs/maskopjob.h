#pragma once

#include <QFutureWatcher>
#include <QObject>
#include <QString>

namespace tl::ui {

/// Intersects, unites or subtracts stored masks (`ticketlab-cli mask-op`'s work, the same
/// engine function) on a worker thread and stores the result as an imported mask run.
/// finished() arrives on the thread that owns the job; the destructor waits for the worker.
class MaskOpJob : public QObject
{
    Q_OBJECT

public:
    /// op: "intersect", "union" or "diff"; refs: "R:K,R:K,R" (a bare R is its last mask round).
    MaskOpJob(QString dbPath, QString op, QString refs, QString name, QObject *parent = nullptr);
    ~MaskOpJob() override;

    void start();
    bool isRunning() const { return m_watcher.isRunning(); }

    /// After finished(true): the stored run (found again when the same op was stored before).
    qint64 runId() const { return m_runId; }
    /// After finished(true): "stored as run 12: 40.1% of the weights kept (sparsity 59.9%)".
    QString summary() const { return m_summary; }
    /// After finished(false): why, naming the run, round or parameter.
    QString errorText() const { return m_error; }

Q_SIGNALS:
    void finished(bool ok);

private:
    struct Result
    {
        qint64 runId = 0;
        QString error, summary;
    };
    void workerFinished();

    QString m_db, m_op, m_refs, m_name, m_error, m_summary;
    qint64 m_runId = 0;
    QFutureWatcher<Result> m_watcher;
};

} // namespace tl::ui
