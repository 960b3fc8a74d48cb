#include "jobs/slurmmerge.h"

#include <QDir>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

#include <exception>

#include "store/experiment_store.h"
#include "store/merge.h"
#include "util/error.h"

namespace tl::ui {

QString SlurmMergeResult::summary() const
{
    QString s = QStringLiteral("%1 run(s) added to %2 from %3 store file(s) of %4")
                    .arg(added)
                    .arg(QFileInfo(db).fileName())
                    .arg(files)
                    .arg(folder);
    QStringList notes;
    if (identical)
        notes << QStringLiteral("%1 already in the lab").arg(identical);
    if (unfinished)
        notes << QStringLiteral("%1 unfinished left out").arg(unfinished);
    if (!notes.isEmpty())
        s += QStringLiteral(" (") + notes.join(QStringLiteral(", ")) + QLatin1Char(')');
    if (!errors.isEmpty())
        s += QStringLiteral("\n%1 store file(s) failed:\n").arg(errors.size()) + errors.join(QLatin1Char('\n'));
    return s;
}

QStringList slurmStoreFiles(const QString &folder)
{
    const QDir dir(folder);
    const QDir stores = dir.exists(QStringLiteral("stores")) ? QDir(dir.filePath(QStringLiteral("stores"))) : dir;
    QStringList files;
    for (const QFileInfo &f : stores.entryInfoList({QStringLiteral("*.db")}, QDir::Files, QDir::Name))
        files << f.absoluteFilePath();
    if (files.isEmpty())
        throw Error(folder.toStdString() +
                    ": no store files (stores/*.db): is it the --out folder of `ticketlab-cli study slurm`?");
    return files;
}

SlurmMergeResult mergeSlurmFolder(const QString &folder, const QString &db)
{
    SlurmMergeResult r;
    r.folder = folder;
    r.db = db;
    QStringList files;
    try {
        files = slurmStoreFiles(folder);
        auto into = ExperimentStore::open(db.toStdString());
        for (const QString &file : files) {
            if (QFileInfo(file) == QFileInfo(db))
                continue; // the lab itself may sit in the folder
            ++r.files;
            try {
                const auto from = ExperimentStore::open(file.toStdString());
                const MergeReport m = mergeStore(*into, *from);
                r.added += m.added;
                r.identical += m.identical;
                r.unfinished += m.unfinished;
            } catch (const std::exception &e) {
                r.errors << QString::fromUtf8(e.what());
            }
        }
    } catch (const std::exception &e) {
        r.errors << QString::fromUtf8(e.what());
    }
    return r;
}

QFuture<SlurmMergeResult> mergeSlurmFolderAsync(const QString &folder, const QString &db)
{
    return QtConcurrent::run([folder, db] { return mergeSlurmFolder(folder, db); });
}

} // namespace tl::ui
