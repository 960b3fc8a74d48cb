#include "panels/studypanel.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "dialogs/studydialog.h"
#include "jobs/jobqueue.h"

namespace tl::ui {

namespace {

const QColor kMissingText(140, 140, 140), kMissingBackground(238, 238, 238);

QTableWidget *gridTable(QWidget *parent, const QString &name)
{
    auto *t = new QTableWidget(parent);
    t->setObjectName(name);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionMode(QAbstractItemView::ContiguousSelection);
    t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    t->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    t->setAlternatingRowColors(false);
    return t;
}

} // namespace

StudyPanel::StudyPanel(JobQueue *queue, QWidget *parent) : QWidget(parent), m_queue(queue)
{
    auto *layout = new QVBoxLayout(this);
    auto *top = new QHBoxLayout;
    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("title"));
    m_title->setTextFormat(Qt::RichText);
    top->addWidget(m_title, 1);
    auto *open = new QPushButton(QStringLiteral("Open study\u2026"), this);
    m_edit = new QPushButton(QStringLiteral("Edit\u2026"), this);
    m_runMissing = new QPushButton(QStringLiteral("Run missing"), this);
    m_runMissing->setObjectName(QStringLiteral("runMissing"));
    m_runMissing->setToolTip(
        QStringLiteral("Queue the study's unfinished runs in the run queue (each after the IMP run it "
                       "needs); the queue's \"Runs at once\" sets how many train together"));
    top->addWidget(open);
    top->addWidget(m_edit);
    top->addWidget(m_runMissing);
    layout->addLayout(top);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("status"));
    m_status->setWordWrap(true);
    layout->addWidget(m_status);
    m_table = gridTable(this, QStringLiteral("table2"));
    layout->addWidget(m_table, 2);
    m_transferTitle =
        new QLabel(QStringLiteral("<b>Transfer</b> (Figure 2): rows are whose ticket, columns the task it is "
                                  "fine-tuned on; * a winning ticket there"),
                   this);
    layout->addWidget(m_transferTitle);
    m_transferTable = gridTable(this, QStringLiteral("transfer"));
    layout->addWidget(m_transferTable, 1);

    connect(open, &QPushButton::clicked, this, &StudyPanel::chooseStudy);
    connect(m_edit, &QPushButton::clicked, this, &StudyPanel::editStudy);
    connect(m_runMissing, &QPushButton::clicked, this, &StudyPanel::runMissing);
    connect(&m_loader, &QFutureWatcher<StudyGrid>::finished, this, &StudyPanel::gridLoaded);
    connect(&m_merge, &QFutureWatcher<SlurmMergeResult>::finished, this, [this] {
        Q_EMIT merged(m_merge.result());
        refresh();
    });
    // The study is part of the workspace, like the lab: it comes back at the next start.
    const QString last = QSettings().value(QStringLiteral("study/last")).toString();
    if (!last.isEmpty() && QFileInfo::exists(last))
        m_study = last;
    showGrid();
}

StudyPanel::~StudyPanel()
{
    m_loader.waitForFinished();
    m_merge.waitForFinished();
}

void StudyPanel::setDatabase(const QString &db)
{
    m_db = db;
    m_grid = {};
    showGrid();
    refresh();
}

void StudyPanel::openStudy(const QString &path)
{
    m_study = QFileInfo(path).absoluteFilePath();
    QSettings().setValue(QStringLiteral("study/last"), m_study);
    m_grid = {};
    showGrid();
    refresh();
}

void StudyPanel::refresh()
{
    if (m_study.isEmpty() || m_db.isEmpty())
        return;
    if (m_loader.isRunning()) {
        m_pending = true;
        return;
    }
    m_loader.setFuture(QtConcurrent::run([study = m_study, db = m_db] { return loadStudyGrid(study, db); }));
}

void StudyPanel::gridLoaded()
{
    StudyGrid g = m_loader.result();
    if (g.studyPath == m_study && g.db == m_db) {
        m_grid = std::move(g);
        showGrid();
        Q_EMIT updated();
    }
    if (m_pending) {
        m_pending = false;
        refresh();
    }
}

void StudyPanel::fillTable(QTableWidget *table, const QStringList &columns, const QStringList &rowLabels,
                           const QList<QList<StudyGridCell>> &rows)
{
    table->clear();
    table->setColumnCount(int(columns.size()));
    table->setRowCount(int(rows.size()));
    table->setHorizontalHeaderLabels(columns);
    table->verticalHeader()->setVisible(!rowLabels.isEmpty());
    if (!rowLabels.isEmpty())
        table->setVerticalHeaderLabels(rowLabels);
    for (int r = 0; r < rows.size(); ++r) {
        for (int c = 0; c < rows[r].size() && c < columns.size(); ++c) {
            const StudyGridCell &cell = rows[r][c];
            auto *item = new QTableWidgetItem(cell.text);
            item->setToolTip(cell.toolTip);
            item->setTextAlignment(c >= 2 || !rowLabels.isEmpty() ? Qt::AlignCenter : Qt::AlignLeft | Qt::AlignVCenter);
            if (!cell.complete()) {
                item->setForeground(kMissingText);
                item->setBackground(kMissingBackground);
            }
            table->setItem(r, c, item);
        }
    }
}

void StudyPanel::showGrid()
{
    m_edit->setEnabled(!m_study.isEmpty());
    const int missing = int(m_grid.plan.size()) - m_grid.doneCount();
    m_runMissing->setEnabled(!m_db.isEmpty() && m_grid.error.isEmpty() && missing > 0);
    m_runMissing->setText(missing > 0 && m_grid.error.isEmpty() ? QStringLiteral("Run missing (%1)").arg(missing)
                                                                : QStringLiteral("Run missing"));
    m_status->setStyleSheet(m_grid.error.isEmpty() ? QString() : QStringLiteral("color: #b2182b"));
    if (m_study.isEmpty()) {
        m_title->setText(QStringLiteral("<b>No study open</b>: File \u2192 New study\u2026 or Open study\u2026"));
        m_status->setText(
            QStringLiteral("A study is the paper's whole protocol in one file: every task \u00d7 IMP and its "
                           "baselines \u00d7 seeds, then the transfer matrix."));
    } else {
        m_title->setText(
            QStringLiteral("<b>Study %1</b> \u2014 %2")
                .arg((m_grid.name.isEmpty() ? QFileInfo(m_study).completeBaseName() : m_grid.name).toHtmlEscaped(),
                     m_study.toHtmlEscaped()));
        if (m_db.isEmpty()) {
            m_status->setText(
                QStringLiteral("Open or create a lab (File \u2192 Open database) to see the study's results."));
        } else if (!m_grid.error.isEmpty()) {
            m_status->setText(m_grid.error);
        } else if (m_grid.plan.isEmpty()) {
            m_status->setText(QStringLiteral("Reading the lab\u2026"));
        } else {
            int active = 0;
            for (const StudyGridRun &r : m_grid.plan)
                active += m_queue->activeStudyJob(m_study, r.key, m_db) != nullptr;
            m_status->setText(
                QStringLiteral("%1 of %2 planned runs finished in %3%4. Ticket criterion: %5. Cells: mean \u00b1 "
                               "std (n seeds); grey cells wait for runs (hover for which).")
                    .arg(m_grid.doneCount())
                    .arg(m_grid.plan.size())
                    .arg(QFileInfo(m_db).fileName())
                    .arg(active ? QStringLiteral(", %1 queued or running").arg(active) : QString())
                    .arg(m_grid.criterion));
        }
    }
    fillTable(m_table, m_grid.columns, {}, m_grid.rows);
    fillTable(m_transferTable, m_grid.targets, m_grid.sources, m_grid.transfer);
    const bool transfer = !m_grid.sources.isEmpty();
    m_transferTitle->setVisible(transfer);
    m_transferTable->setVisible(transfer);
}

int StudyPanel::runMissing()
{
    if (m_db.isEmpty() || m_study.isEmpty() || !m_grid.error.isEmpty())
        return 0;
    const int threads = m_grid.threadsForNewRuns(m_queue->maxParallel());
    int queued = 0;
    for (const StudyGridRun &run : std::as_const(m_grid.plan)) { // dependencies come first
        if (run.status == PlanStatus::Done || m_queue->activeStudyJob(m_study, run.key, m_db))
            continue;
        QList<RunJob *> after;
        for (const QString &dep : run.dependsOn)
            if (RunJob *j = m_queue->activeStudyJob(m_study, dep, m_db))
                after << j;
        m_queue->enqueueStudyRun(m_study, run.key, m_db, threads, after);
        ++queued;
    }
    showGrid();
    return queued;
}

void StudyPanel::newStudy()
{
    StudyDialog dialog(this);
    dialog.setWindowTitle(QStringLiteral("New study"));
    if (dialog.exec() == QDialog::Accepted)
        openStudy(dialog.studyPath());
}

void StudyPanel::chooseStudy()
{
    const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Open study"), QFileInfo(m_study).path(),
                                                      QStringLiteral("Study files (*.json)"));
    if (!path.isEmpty())
        openStudy(path);
}

void StudyPanel::editStudy()
{
    if (m_study.isEmpty())
        return newStudy();
    StudyDialog dialog(this);
    QString error;
    if (!dialog.loadStudy(m_study, &error)) {
        m_status->setText(error);
        return;
    }
    if (dialog.exec() == QDialog::Accepted)
        openStudy(dialog.studyPath());
}

void StudyPanel::mergeSlurmFolder(const QString &folder)
{
    if (m_merge.isRunning())
        return;
    if (m_db.isEmpty()) {
        SlurmMergeResult r;
        r.folder = folder;
        r.errors << QStringLiteral("Open or create the lab to merge into first (File \u2192 Open database)");
        Q_EMIT merged(r);
        return;
    }
    m_status->setText(QStringLiteral("Merging %1 into %2\u2026").arg(folder, QFileInfo(m_db).fileName()));
    m_merge.setFuture(mergeSlurmFolderAsync(folder, m_db));
}

} // namespace tl::ui
