#pragma once

#include <QFutureWatcher>
#include <QWidget>

#include "jobs/slurmmerge.h"
#include "models/studygrid.h"

class QLabel;
class QPushButton;
class QTableWidget;

namespace tl::ui {

class JobQueue;

/// A study file against the open lab: the paper's Table 2 (and the transfer matrix), one cell
/// "mean ± std (n=…)" per task and column, grey while the runs behind it are missing, rebuilt
/// off the UI thread whenever the lab changes (refresh()). "Run missing" queues the study's
/// unfinished runs in the run queue (`study run-one`), each after the runs it depends on.
class StudyPanel : public QWidget
{
    Q_OBJECT

public:
    explicit StudyPanel(JobQueue *queue, QWidget *parent = nullptr);
    ~StudyPanel() override;

    void setDatabase(const QString &db);
    /// Shows this study file (and remembers it for the next start).
    void openStudy(const QString &path);
    QString studyPath() const { return m_study; }
    /// Rebuilds the grid from the study file and the lab (coalesced; off the UI thread).
    void refresh();

    /// Queues every planned run that is not finished in the lab and not already queued, with
    /// --threads from StudyGrid::threadsForNewRuns(). Returns how many were queued.
    int runMissing();

    /// File → New study…, Open study…, and the panel's Edit button.
    void newStudy();
    void chooseStudy();
    void editStudy();
    /// Merges a SLURM output folder's stores into the open lab off the UI thread; merged() reports.
    void mergeSlurmFolder(const QString &folder);

    const StudyGrid &grid() const { return m_grid; }
    QTableWidget *table() const { return m_table; }
    QTableWidget *transferTable() const { return m_transferTable; }
    QPushButton *runMissingButton() const { return m_runMissing; }

Q_SIGNALS:
    /// A grid was shown (also one with an error).
    void updated();
    void merged(const tl::ui::SlurmMergeResult &result);

private:
    void gridLoaded();
    void showGrid();
    void fillTable(QTableWidget *table, const QStringList &columns, const QStringList &rowLabels,
                   const QList<QList<StudyGridCell>> &rows);

    JobQueue *m_queue = nullptr;
    QString m_db, m_study;
    StudyGrid m_grid;
    QFutureWatcher<StudyGrid> m_loader;
    QFutureWatcher<SlurmMergeResult> m_merge;
    bool m_pending = false;
    QLabel *m_title = nullptr, *m_status = nullptr, *m_transferTitle = nullptr;
    QTableWidget *m_table = nullptr, *m_transferTable = nullptr;
    QPushButton *m_edit = nullptr, *m_runMissing = nullptr;
};

} // namespace tl::ui
