#include "mainwindow.h"

#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QInputDialog>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QSaveFile>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QtConcurrent/QtConcurrentRun>

#include <exception>

#include "dialogs/newrundialog.h"
#include "engine/run_spec.h"
#include "dialogs/transferdialog.h"
#include "jobs/jobqueue.h"
#include "jobs/maskexportjob.h"
#include "jobs/maskopjob.h"
#include "models/runtreemodel.h"
#include "panels/browserpanel.h"
#include "panels/figurepanel.h"
#include "panels/liverunpanel.h"
#include "panels/queuepanel.h"
#include "panels/studypanel.h"
#include "plots/figure.h"
#include "store/experiment_store.h"

namespace tl::ui {

namespace {

/// transferSpec() of round `round` of `source` as the JSON the new-run dialog reads; empty (and
/// the reason in *error) when the source's spec or the target is unusable.
QJsonObject transferSpecJson(const RunRecord &source, int round, const QString &task, const QString &dataDir,
                             QString *error)
{
    try {
        const RunSpec spec =
            RunSpec::fromJson(nlohmann::json::parse(source.specJson), "run " + std::to_string(source.id) + " spec");
        const RunSpec transfer =
            transferSpec(spec, source.id, round, task.trimmed().toStdString(), dataDir.trimmed().toStdString());
        return QJsonDocument::fromJson(QByteArray::fromStdString(transfer.toJson().dump())).object();
    } catch (const std::exception &e) {
        *error = QString::fromUtf8(e.what());
        return {};
    }
}

} // namespace

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent)
{
    resize(1360, 860);
    m_queue = new JobQueue(this);

    m_tabs = new QTabWidget(this);
    m_tabs->setDocumentMode(true);
    m_live = new LiveRunPanel(m_tabs);
    m_tabs->addTab(m_live, QStringLiteral("Live run"));
    for (const QString &name : figureNames()) {
        auto *panel = new FigurePanel(name, m_tabs);
        m_figures << panel;
        m_tabs->addTab(panel, figureDisplayName(name));
    }
    m_study = new StudyPanel(m_queue, m_tabs);
    m_tabs->addTab(m_study, QStringLiteral("Study"));
    setCentralWidget(m_tabs);

    m_browser = new BrowserPanel(this);
    auto *browserDock = new QDockWidget(QStringLiteral("Experiments"), this);
    browserDock->setObjectName(QStringLiteral("experiments"));
    browserDock->setWidget(m_browser);
    addDockWidget(Qt::LeftDockWidgetArea, browserDock);
    m_queuePanel = new QueuePanel(m_queue, this);
    auto *queueDock = new QDockWidget(QStringLiteral("Run queue"), this);
    queueDock->setObjectName(QStringLiteral("queue"));
    queueDock->setWidget(m_queuePanel);
    addDockWidget(Qt::BottomDockWidgetArea, queueDock);
    resizeDocks({browserDock}, {600}, Qt::Horizontal);
    resizeDocks({queueDock}, {150}, Qt::Vertical);

    m_statusLabel = new QLabel(this);
    statusBar()->addPermanentWidget(m_statusLabel, 1);
    m_exportProgress = new QProgressBar(this); // busy while masks are written (jobs/maskexportjob.h)
    m_exportProgress->setObjectName(QStringLiteral("maskExportProgress"));
    m_exportProgress->setRange(0, 0);
    m_exportProgress->setMaximumWidth(200);
    m_exportProgress->setTextVisible(true);
    m_exportProgress->hide();
    statusBar()->addPermanentWidget(m_exportProgress);

    connect(m_browser, &BrowserPanel::selectionChanged, this, &MainWindow::selectionChanged);
    connect(m_browser, &BrowserPanel::exportMaskRequested, this, &MainWindow::exportMask);
    connect(m_browser, &BrowserPanel::transferRequested, this, &MainWindow::transferMask);
    connect(m_browser, &BrowserPanel::resumeRequested, this, &MainWindow::resumeRun);
    connect(m_browser, &BrowserPanel::maskOpRequested, this, &MainWindow::askCombineMasks);
    // Several jobs may run at once: the live view follows one until it ends, then the next that reports.
    auto follows = [this](RunJob *job) {
        if (!m_liveJob || m_liveJob->state() != RunJob::State::Running)
            m_liveJob = job;
        return m_liveJob == job;
    };
    connect(m_queue, &JobQueue::jobStarted, this, [this, follows](RunJob *job) {
        if (follows(job) && m_tabs->currentWidget() != m_study)
            m_tabs->setCurrentWidget(m_live);
    });
    connect(m_queue, &JobQueue::jobProgress, this, [this, follows](RunJob *job, const RunProgress &p) {
        if (follows(job))
            m_live->onProgress(p);
    });
    connect(m_queue, &JobQueue::jobRoundDone, this,
            [this, follows](RunJob *job, qint64 run, int round, double sparsity, const QVariantMap &m) {
                if (follows(job))
                    m_live->onRoundDone(run, round, sparsity, m);
                scheduleReload();
            });
    connect(m_queue, &JobQueue::jobFinished, this, [this](RunJob *job, RunJob::State state) {
        if (job == m_liveJob)
            m_live->onFinished(state == RunJob::State::Failed ? QStringLiteral("failed: ") + job->errorText()
                                                              : stateName(state));
        statusBar()->showMessage(QStringLiteral("%1: %2").arg(QFileInfo(job->specPath()).fileName(), stateName(state)),
                                 8000);
        scheduleReload();
    });

    m_watcher = new QFileSystemWatcher(this);
    connect(m_watcher, &QFileSystemWatcher::fileChanged, this, &MainWindow::scheduleReload);
    m_reloadTimer = new QTimer(this);
    m_reloadTimer->setSingleShot(true);
    m_reloadTimer->setInterval(300);
    connect(m_reloadTimer, &QTimer::timeout, this, &MainWindow::reload);
    // Watching files misses some writers (other machines' copies, replaced files): poll cheaply too.
    m_pollTimer = new QTimer(this);
    m_pollTimer->setInterval(2000);
    connect(m_pollTimer, &QTimer::timeout, this, [this] {
        if (m_db.isEmpty())
            return;
        const QFileInfo db(m_db), wal(m_db + QStringLiteral("-wal"));
        const QString stamp = QStringLiteral("%1/%2/%3/%4")
                                  .arg(db.size())
                                  .arg(db.lastModified().toMSecsSinceEpoch())
                                  .arg(wal.exists() ? wal.size() : -1)
                                  .arg(wal.exists() ? wal.lastModified().toMSecsSinceEpoch() : 0);
        if (stamp != m_lastStamp)
            scheduleReload();
    });
    m_pollTimer->start();
    connect(&m_loader, &QFutureWatcher<LabSnapshot>::finished, this, &MainWindow::snapshotLoaded);

    buildMenus();
    updateTitle();
    QSettings settings;
    restoreState(settings.value(QStringLiteral("windowState")).toByteArray());
}

MainWindow::~MainWindow()
{
    QSettings().setValue(QStringLiteral("windowState"), saveState());
    m_loader.waitForFinished();
}

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(QStringLiteral("&File"));
    file->addAction(QStringLiteral("&Open database\u2026"), QKeySequence::Open, this, [this] {
        const QString path =
            QFileDialog::getOpenFileName(this, QStringLiteral("Open experiment database"), QFileInfo(m_db).path(),
                                         QStringLiteral("Experiment databases (*.db *.sqlite);;All files (*)"));
        if (!path.isEmpty())
            openDatabase(path);
    });
    file->addAction(QStringLiteral("&New database\u2026"), QKeySequence::New, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("New experiment database"), QString(),
                                                          QStringLiteral("Experiment databases (*.db)"));
        if (!path.isEmpty())
            openDatabase(path, true);
    });
    file->addSeparator();
    file->addAction(QStringLiteral("New s&tudy\u2026"), m_study, &StudyPanel::newStudy);
    file->addAction(QStringLiteral("Open st&udy\u2026"), m_study, &StudyPanel::chooseStudy);
    file->addAction(QStringLiteral("Open S&LURM output folder\u2026"), this, [this] {
        const QString dir =
            QFileDialog::getExistingDirectory(this, QStringLiteral("Merge a SLURM output folder (study slurm --out)"));
        if (!dir.isEmpty())
            m_study->mergeSlurmFolder(dir);
    });
    connect(m_study, &StudyPanel::merged, this, [this](const SlurmMergeResult &r) {
        statusBar()->showMessage(r.summary().section(QLatin1Char('\n'), 0, 0), 10000);
        if (!r.errors.isEmpty()) { // not modal: the merge is done, nothing waits for an answer
            auto *box = new QMessageBox(QMessageBox::Warning, QStringLiteral("Merge SLURM output"), r.summary(),
                                        QMessageBox::Ok, this);
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        }
        reload();
    });
    file->addSeparator();
    file->addAction(QStringLiteral("&Export current view\u2026"), QKeySequence(QStringLiteral("Ctrl+E")), this, [this] {
        if (auto *panel = qobject_cast<FigurePanel *>(m_tabs->currentWidget()))
            panel->exportWithDialog();
        else
            statusBar()->showMessage(QStringLiteral("Choose a figure tab to export"), 4000);
    });
    file->addAction(QStringLiteral("Export &all figures\u2026"), this, &MainWindow::exportAllFigures);
    file->addSeparator();
    file->addAction(QStringLiteral("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu *run = menuBar()->addMenu(QStringLiteral("&Run"));
    QAction *newRun = run->addAction(QStringLiteral("&New run\u2026"), QKeySequence(QStringLiteral("Ctrl+R")), this,
                                     &MainWindow::newRun);
    run->addAction(QStringLiteral("Run &spec file\u2026"), this, &MainWindow::runSpecFile);
    run->addAction(QStringLiteral("&Reload database"), QKeySequence::Refresh, this, &MainWindow::reload);

    QMenu *view = menuBar()->addMenu(QStringLiteral("&View"));
    for (QDockWidget *dock : findChildren<QDockWidget *>())
        view->addAction(dock->toggleViewAction());

    QMenu *help = menuBar()->addMenu(QStringLiteral("&Help"));
    help->addAction(QStringLiteral("&About TicketLab"), this, [this] {
        QMessageBox::about(
            this, QStringLiteral("About TicketLab"),
            QStringLiteral("<b>TicketLab %1</b><p>Lottery tickets in pre-trained BERT: iterative magnitude "
                           "pruning with rewinding, the baselines and transfer of Chen et al., NeurIPS 2020."
                           "</p><p>Runs execute in <tt>ticketlab-cli</tt> processes; every result lives in "
                           "the experiment database.</p>")
                .arg(QStringLiteral(TICKETLAB_VERSION)));
    });

    auto *toolbar = addToolBar(QStringLiteral("Main"));
    toolbar->setObjectName(QStringLiteral("main-toolbar"));
    toolbar->addAction(newRun);
}

void MainWindow::updateTitle()
{
    setWindowTitle(m_db.isEmpty() ? QStringLiteral("TicketLab")
                                  : QStringLiteral("%1 \u2014 TicketLab").arg(QFileInfo(m_db).fileName()));
}

bool MainWindow::openDatabase(const QString &path, bool create)
{
    const QString abs = QFileInfo(path).absoluteFilePath();
    if (!create && !QFileInfo::exists(abs)) {
        QMessageBox::warning(this, QStringLiteral("Open database"), abs + QStringLiteral(": no such file"));
        return false;
    }
    try {
        ExperimentStore::open(abs.toStdString()); // checks the version; creates when asked
    } catch (const std::exception &e) {
        QMessageBox::warning(this, QStringLiteral("Open database"), QString::fromUtf8(e.what()));
        return false;
    }
    if (!m_watcher->files().isEmpty())
        m_watcher->removePaths(m_watcher->files());
    m_db = abs;
    m_watcher->addPath(m_db);
    if (QFileInfo::exists(m_db + QStringLiteral("-wal")))
        m_watcher->addPath(m_db + QStringLiteral("-wal"));
    QSettings().setValue(QStringLiteral("lastDb"), m_db);
    m_selection.clear();
    for (FigurePanel *p : m_figures)
        p->setSource(m_db, {});
    m_study->setDatabase(m_db);
    updateTitle();
    if (m_queue->isIdle() && m_tabs->currentWidget() == m_live)
        m_tabs->setCurrentIndex(1); // nothing running: start on the results
    reload();
    return true;
}

void MainWindow::openLastDatabase()
{
    const QString last = QSettings().value(QStringLiteral("lastDb")).toString();
    if (!last.isEmpty() && QFileInfo::exists(last))
        openDatabase(last);
    else
        m_statusLabel->setText(
            QStringLiteral("No database open: File \u2192 Open database, or run scripts/demo.sh for a demo lab."));
}

void MainWindow::scheduleReload()
{
    if (!m_reloadTimer->isActive())
        m_reloadTimer->start();
}

void MainWindow::reload()
{
    if (m_db.isEmpty())
        return;
    if (m_loader.isRunning()) {
        m_reloadPending = true;
        return;
    }
    const QFileInfo db(m_db), wal(m_db + QStringLiteral("-wal"));
    m_lastStamp = QStringLiteral("%1/%2/%3/%4")
                      .arg(db.size())
                      .arg(db.lastModified().toMSecsSinceEpoch())
                      .arg(wal.exists() ? wal.size() : -1)
                      .arg(wal.exists() ? wal.lastModified().toMSecsSinceEpoch() : 0);
    if (wal.exists() && !m_watcher->files().contains(wal.absoluteFilePath()))
        m_watcher->addPath(wal.absoluteFilePath());
    m_loader.setFuture(QtConcurrent::run([path = m_db.toStdString()] { return loadLabSnapshot(path); }));
}

void MainWindow::snapshotLoaded()
{
    LabSnapshot s = m_loader.result();
    if (QString::fromStdString(s.db) == m_db) {
        if (!s.error.empty()) {
            m_statusLabel->setText(QString::fromStdString(s.error));
        } else {
            int running = 0;
            for (const RunEntry &e : s.runs)
                running += e.run.status == "running";
            m_statusLabel->setText(
                QStringLiteral("%1 | %2 runs, %3 running").arg(m_db).arg(s.runs.size()).arg(running));
            m_browser->setSnapshot(std::move(s));
            if (m_selectAfterLoad > 0 && m_browser->model()->runEntry(m_selectAfterLoad)) {
                m_browser->selectRuns({m_selectAfterLoad});
                m_selectAfterLoad = 0;
            }
            for (FigurePanel *p : m_figures)
                p->refresh();
            m_study->refresh();
        }
    }
    if (m_reloadPending) {
        m_reloadPending = false;
        reload();
    }
}

void MainWindow::selectionChanged(const QList<qint64> &runs, int)
{
    if (runs == m_selection)
        return;
    m_selection = runs;
    for (FigurePanel *p : m_figures)
        p->setSource(m_db, runs);
}

QString MainWindow::specFolder() const
{
    return m_db.isEmpty() ? QDir::tempPath() : m_db + QStringLiteral(".specs");
}

void MainWindow::queueSpec(const QString &specPath)
{
    if (m_db.isEmpty()) {
        QMessageBox::information(this, QStringLiteral("Queue run"),
                                 QStringLiteral("Open or create an experiment database first."));
        return;
    }
    m_queue->enqueue(specPath, m_db);
}

void MainWindow::newRun()
{
    NewRunDialog dialog(this);
    dialog.setSpecFolder(specFolder());
    // Start from the selected run's spec: the common case is "the same, but ...".
    if (!m_selection.isEmpty())
        if (const RunEntry *e = m_browser->model()->runEntry(m_selection.first()))
            dialog.setSpec(QJsonDocument::fromJson(QByteArray::fromStdString(e->run.specJson)).object());
    if (dialog.exec() == QDialog::Accepted)
        queueSpec(dialog.savedSpecPath());
}

void MainWindow::runSpecFile()
{
    const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Run spec file"), QString(),
                                                      QStringLiteral("Run specs (*.json)"));
    if (!path.isEmpty())
        queueSpec(path);
}

void MainWindow::exportMask(qint64 run, int round)
{
    QString selected;
    const QString path = QFileDialog::getSaveFileName(
        this, QStringLiteral("Export mask of run %1, round %2").arg(run).arg(round),
        QStringLiteral("run%1-round%2.safetensors").arg(run).arg(round),
        QStringLiteral("safetensors (*.safetensors);;PyTorch (*.pt);;NumPy (*.npz)"), &selected);
    if (!path.isEmpty())
        exportMaskTo(run, round, path);
}

MaskExportJob *MainWindow::exportMaskTo(qint64 run, int round, const QString &path)
{
    // Two writers of one file would share its temporary file.
    for (const MaskExportJob *running : std::as_const(m_maskExports)) {
        if (QFileInfo(running->path()).absoluteFilePath() == QFileInfo(path).absoluteFilePath()) {
            statusBar()->showMessage(QStringLiteral("%1 is being written already").arg(path), 6000);
            return nullptr;
        }
    }
    auto *job = new MaskExportJob(m_db, run, round, path, this);
    m_maskExports << job;
    connect(job, &MaskExportJob::finished, this, [this, job](bool ok) {
        m_maskExports.removeOne(job);
        updateExportProgress();
        if (ok) {
            statusBar()->showMessage(QStringLiteral("Wrote %1 (%2)").arg(job->path(), job->summary()), 6000);
        } else {
            // Not exec(): the window goes on while the message is up.
            auto *box = new QMessageBox(QMessageBox::Warning, QStringLiteral("Export mask"), job->errorText(),
                                        QMessageBox::Ok, this);
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        }
        job->deleteLater();
    });
    job->start();
    updateExportProgress();
    return job;
}

void MainWindow::askCombineMasks(const QString &op, const QString &refs, const QString &title)
{
    bool ok = false;
    const QString name = QInputDialog::getText(this, title, QStringLiteral("Name of the new mask (kept with it):"),
                                               QLineEdit::Normal, QStringLiteral("%1 of %2").arg(op, refs), &ok);
    if (ok && !name.trimmed().isEmpty())
        combineMasks(op, refs, name.trimmed());
}

MaskOpJob *MainWindow::combineMasks(const QString &op, const QString &refs, const QString &name)
{
    auto *job = new MaskOpJob(m_db, op, refs, name, this);
    connect(job, &MaskOpJob::finished, this, [this, job, name](bool ok) {
        if (ok) {
            statusBar()->showMessage(QStringLiteral("%1: %2").arg(name, job->summary()), 10000);
            m_selectAfterLoad = job->runId(); // once the reload has it
            reload();
        } else {
            auto *box = new QMessageBox(QMessageBox::Warning, QStringLiteral("Combine masks"), job->errorText(),
                                        QMessageBox::Ok, this);
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        }
        job->deleteLater();
    });
    job->start();
    return job;
}

void MainWindow::updateExportProgress()
{
    QStringList exports;
    for (const MaskExportJob *job : std::as_const(m_maskExports))
        exports << QStringLiteral("run %1, round %2 \u2192 %3").arg(job->run()).arg(job->round()).arg(job->path());
    m_exportProgress->setVisible(!exports.isEmpty());
    m_exportProgress->setFormat(exports.size() == 1 ? QStringLiteral("Exporting mask")
                                                    : QStringLiteral("Exporting %1 masks").arg(exports.size()));
    m_exportProgress->setToolTip(QStringLiteral("Exporting the mask of ") + exports.join(QStringLiteral("; ")));
}

void MainWindow::transferMask(qint64 run, int round)
{
    const RunEntry *e = m_browser->model()->runEntry(run);
    if (!e)
        return;
    TransferDialog dialog(run, round, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    QString error;
    const QJsonObject spec = transferSpecJson(e->run, round, dialog.task(), dialog.dataDir(), &error);
    if (spec.isEmpty()) {
        QMessageBox::warning(this, QStringLiteral("Transfer"), error);
        return;
    }
    NewRunDialog check(this);
    check.setSpec(spec);
    check.setSpecFolder(specFolder());
    const QStringList problems = check.validate();
    if (!problems.isEmpty()) {
        QMessageBox::warning(this, QStringLiteral("Transfer"), problems.join(QLatin1Char('\n')));
        return;
    }
    check.accept();
    queueSpec(check.savedSpecPath());
}

void MainWindow::resumeRun(qint64 run)
{
    const RunEntry *e = m_browser->model()->runEntry(run);
    if (!e)
        return;
    QJsonObject spec = QJsonDocument::fromJson(QByteArray::fromStdString(e->run.specJson)).object();
    spec[QStringLiteral("seeds")] = QJsonArray{qint64(e->run.seed)}; // this run only
    QDir().mkpath(specFolder());
    const QString path = QDir(specFolder()).filePath(QStringLiteral("resume-run-%1.json").arg(run));
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(spec).toJson()) < 0 || !f.commit()) {
        QMessageBox::warning(this, QStringLiteral("Resume"), path + QStringLiteral(": ") + f.errorString());
        return;
    }
    queueSpec(path);
}

void MainWindow::exportAllFigures()
{
    const QString dir = QFileDialog::getExistingDirectory(this, QStringLiteral("Export all figures to"));
    if (dir.isEmpty())
        return;
    QStringList failures;
    int written = 0;
    QApplication::setOverrideCursor(Qt::WaitCursor); // hidden views compute their figures now
    for (FigurePanel *p : m_figures)
        p->ensureComputed();
    QApplication::restoreOverrideCursor();
    for (FigurePanel *p : m_figures) {
        for (const QString &suffix : {QStringLiteral("pdf"), QStringLiteral("svg"), QStringLiteral("png")}) {
            QString error;
            if (exportFigure(p->plot(), p->figure(), QDir(dir).filePath(p->figureName() + QLatin1Char('.') + suffix),
                             300, &error))
                ++written;
            else
                failures << error;
        }
    }
    if (!failures.isEmpty())
        QMessageBox::warning(this, QStringLiteral("Export"), failures.join(QLatin1Char('\n')));
    statusBar()->showMessage(QStringLiteral("Wrote %1 files to %2").arg(written).arg(dir), 6000);
}

} // namespace tl::ui
