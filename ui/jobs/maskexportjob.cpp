#include "jobs/maskexportjob.h"

#include <QtConcurrent/QtConcurrentRun>

#include <exception>

#include "analysis/analysis.h"
#include "prune/mask_io.h"
#include "store/experiment_store.h"

namespace tl::ui {

MaskExportJob::MaskExportJob(QString dbPath, qint64 run, int round, QString path, QObject *parent)
    : QObject(parent), m_db(std::move(dbPath)), m_path(std::move(path)), m_run(run), m_round(round)
{
    connect(&m_watcher, &QFutureWatcher<Result>::finished, this, &MaskExportJob::workerFinished);
}

MaskExportJob::~MaskExportJob()
{
    m_watcher.waitForFinished();
}

void MaskExportJob::start()
{
    // The worker has its own store connection and copies of its inputs: nothing it touches
    // is shared with the UI thread.
    m_watcher.setFuture(QtConcurrent::run([db = m_db.toStdString(), run = m_run, round = m_round,
                                           path = m_path.toStdString()]() -> Result {
        try {
            const auto store = ExperimentStore::open(db);
            const MaskSet mask = storedMask(*store, run, round);
            writeMaskFile(mask, path, maskFormatFromPath(path));
            return {QString(),
                    QStringLiteral("%1 tensors, sparsity %2").arg(mask.tensors.size()).arg(mask.sparsity(), 0, 'f', 4)};
        } catch (const std::exception &e) {
            return {QString::fromUtf8(e.what()), QString()};
        }
    }));
}

void MaskExportJob::workerFinished()
{
    const Result r = m_watcher.result();
    m_error = r.error;
    m_summary = r.summary;
    Q_EMIT finished(m_error.isEmpty());
}

} // namespace tl::ui
