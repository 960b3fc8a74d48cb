#include "jobs/maskopjob.h"

#include <QtConcurrent/QtConcurrentRun>

#include <exception>

#include "analysis/mask_algebra.h"
#include "store/experiment_store.h"

namespace tl::ui {

MaskOpJob::MaskOpJob(QString dbPath, QString op, QString refs, QString name, QObject *parent)
    : QObject(parent), m_db(std::move(dbPath)), m_op(std::move(op)), m_refs(std::move(refs)), m_name(std::move(name))
{
    connect(&m_watcher, &QFutureWatcher<Result>::finished, this, &MaskOpJob::workerFinished);
}

MaskOpJob::~MaskOpJob()
{
    m_watcher.waitForFinished();
}

void MaskOpJob::start()
{
    m_watcher.setFuture(QtConcurrent::run([db = m_db.toStdString(), op = m_op.toStdString(),
                                           refs = m_refs.toStdString(), name = m_name.toStdString()]() -> Result {
        try {
            auto store = ExperimentStore::open(db);
            const StoredMaskOp r = storeMaskOp(*store, maskOpFromName(op), parseMaskRefs(refs), name);
            const double kept = r.mask.total() ? double(r.mask.kept()) / double(r.mask.total()) : 0.0;
            return {r.runId, QString(),
                    QStringLiteral("%1 as run %2: %3% of the weights kept (sparsity %4%)%5")
                        .arg(r.created ? QStringLiteral("stored") : QStringLiteral("found"))
                        .arg(r.runId)
                        .arg(100.0 * kept, 0, 'f', 1)
                        .arg(100.0 * r.mask.sparsity(), 0, 'f', 1)
                        .arg(r.mask.kept() == 0 ? QStringLiteral(", it keeps nothing") : QString())};
        } catch (const std::exception &e) {
            return {0, QString::fromUtf8(e.what()), QString()};
        }
    }));
}

void MaskOpJob::workerFinished()
{
    const Result r = m_watcher.result();
    m_runId = r.runId;
    m_error = r.error;
    m_summary = r.summary;
    Q_EMIT finished(m_error.isEmpty());
}

} // namespace tl::ui
