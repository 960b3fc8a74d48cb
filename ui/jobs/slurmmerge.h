#pragma once

// Merging a SLURM output folder (`ticketlab-cli study slurm --out DIR`: one store file per
// planned run under DIR/stores/) into the open lab, as `ticketlab-cli merge` does. Torch-free.

#include <QFuture>
#include <QString>
#include <QStringList>

namespace tl::ui {

struct SlurmMergeResult
{
    QString folder, db;
    int files = 0;      ///< store files read
    int added = 0;      ///< runs copied into the lab
    int identical = 0;  ///< runs the lab already had
    int unfinished = 0; ///< runs left out (not done in their store)
    QStringList errors; ///< one per store file that could not be merged (the others still are)

    /// "12 runs added from 24 store files (12 already in the lab)", then the errors.
    QString summary() const;
};

/// The store files of a SLURM output folder: DIR/stores/*.db, or DIR/*.db for a stores folder
/// itself. Throws tl::Error naming the folder when there are none.
QStringList slurmStoreFiles(const QString &folder);

/// Merges every store file of folder into db (created when absent), one transaction per run
/// (store/merge.h). A store that cannot be merged (a run with different results, a newer
/// schema) is an error in the result, not a stop. Blocking: mergeSlurmFolderAsync() runs it
/// on a worker thread.
SlurmMergeResult mergeSlurmFolder(const QString &folder, const QString &db);
QFuture<SlurmMergeResult> mergeSlurmFolderAsync(const QString &folder, const QString &db);

} // namespace tl::ui
