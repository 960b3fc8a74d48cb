#pragma once

#include <QFutureWatcher>
#include <QObject>
#include <QString>

namespace tl::ui {

/// Writes the mask of a stored run and round to a file (the format from its extension) on a
/// worker thread: a BERT-large mask is 300 million weights, seconds of decoding and gigabytes
/// of writing, during which the window must keep drawing. finished() arrives on the thread
/// that owns the job; the destructor waits for the worker, so the file is complete or absent.
class MaskExportJob : public QObject
{
    Q_OBJECT

public:
    MaskExportJob(QString dbPath, qint64 run, int round, QString path, QObject *parent = nullptr);
    ~MaskExportJob() override;

    /// Starts the export and returns at once.
    void start();
    bool isRunning() const { return m_watcher.isRunning(); }

    qint64 run() const { return m_run; }
    int round() const { return m_round; }
    QString path() const { return m_path; }
    /// After finished(false): why, naming the run, round or file.
    QString errorText() const { return m_error; }
    /// After finished(true): "12 tensors, sparsity 0.4000".
    QString summary() const { return m_summary; }

Q_SIGNALS:
    void finished(bool ok);

private:
    struct Result
    {
        QString error, summary;
    };
    void workerFinished();

    QString m_db, m_path, m_error, m_summary;
    qint64 m_run;
    int m_round;
    QFutureWatcher<Result> m_watcher;
};

} // namespace tl::ui
