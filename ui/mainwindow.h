#pragma once

#include <QFutureWatcher>
#include <QList>
#include <QMainWindow>
#include <QPointer>

#include "models/labsnapshot.h"

class QFileSystemWatcher;
class QLabel;
class QProgressBar;
class QTabWidget;
class QTimer;

namespace tl::ui {

class BrowserPanel;
class FigurePanel;
class JobQueue;
class MaskExportJob;
class MaskOpJob;
class LiveRunPanel;
class QueuePanel;
class RunJob;
class StudyPanel;

/// The TicketLab main window: the experiment browser (left), the run queue (bottom), and the
/// live run and figure views (centre). The experiment database is the source of truth: the
/// window watches it and reloads (off the UI thread) whenever any process writes to it, so
/// runs started from a terminal or copied from another machine show up too.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Opens (or, with create, creates) an experiment database. False with a message box on
    /// failure (e.g. a database of a newer TicketLab), leaving the current one open.
    bool openDatabase(const QString &path, bool create = false);
    void openLastDatabase();
    QString databasePath() const { return m_db; }

    JobQueue *queue() const { return m_queue; }
    BrowserPanel *browser() const { return m_browser; }
    QTabWidget *tabs() const { return m_tabs; }
    QList<FigurePanel *> figurePanels() const { return m_figures; }
    StudyPanel *studyPanel() const { return m_study; }
    /// Queues a run spec file against the open database.
    void queueSpec(const QString &specPath);
    /// Reloads the browser and every view from the store now.
    void reload();
    /// Writes the mask of a run's round to path off the UI thread, with a busy indicator in
    /// the status bar until it is written; a failure shows a (non-modal) message. The job
    /// belongs to the window and deletes itself after its finished() signal. Null (nothing
    /// started) while another export writes the same file.
    MaskExportJob *exportMaskTo(qint64 run, int round, const QString &path);
    /// Stores op ("intersect", "union", "diff") over the masks refs ("R:K,R", as `mask-op`)
    /// as an imported mask run named name, off the UI thread; when stored, the browser reloads
    /// and selects it. The job deletes itself after its finished() signal.
    MaskOpJob *combineMasks(const QString &op, const QString &refs, const QString &name);

private:
    void buildMenus();
    void scheduleReload();
    void snapshotLoaded();
    void newRun();
    void runSpecFile();
    void exportMask(qint64 run, int round);
    void updateExportProgress();
    void transferMask(qint64 run, int round);
    void askCombineMasks(const QString &op, const QString &refs, const QString &title);
    void resumeRun(qint64 run);
    void exportAllFigures();
    void selectionChanged(const QList<qint64> &runs, int round);
    QString specFolder() const;
    void updateTitle();

    QString m_db;
    BrowserPanel *m_browser = nullptr;
    QueuePanel *m_queuePanel = nullptr;
    JobQueue *m_queue = nullptr;
    QTabWidget *m_tabs = nullptr;
    LiveRunPanel *m_live = nullptr;
    QList<FigurePanel *> m_figures;
    StudyPanel *m_study = nullptr;
    QPointer<RunJob> m_liveJob; ///< the job the live view follows (several may run at once)
    QFileSystemWatcher *m_watcher = nullptr;
    QTimer *m_reloadTimer = nullptr, *m_pollTimer = nullptr;
    QFutureWatcher<LabSnapshot> m_loader;
    bool m_reloadPending = false;
    QString m_lastStamp; ///< db + wal size and mtime at the last reload
    QLabel *m_statusLabel = nullptr;
    QProgressBar *m_exportProgress = nullptr;
    QList<MaskExportJob *> m_maskExports; ///< running
    QList<qint64> m_selection;
    qint64 m_selectAfterLoad = 0; ///< a run to select when the next reload shows it
};

} // namespace tl::ui
