#include "panels/queuepanel.h"

#include <QApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>

#include "jobs/jobqueue.h"

namespace tl::ui {

namespace {

/// Draws the progress column as a progress bar.
class ProgressDelegate : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        QStyleOptionProgressBar bar;
        bar.rect = option.rect.adjusted(2, 3, -2, -3);
        bar.minimum = 0;
        bar.maximum = 1000;
        bar.progress = int(1000 * index.data(JobQueue::FractionRole).toDouble());
        bar.text = index.data().toString();
        bar.textVisible = true;
        bar.state = option.state | QStyle::State_Horizontal;
        QApplication::style()->drawControl(QStyle::CE_ProgressBar, &bar, painter);
    }
};

} // namespace

QueuePanel::QueuePanel(JobQueue *queue, QWidget *parent) : QWidget(parent), m_queue(queue)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    m_view = new QTableView(this);
    m_view->setModel(queue);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setItemDelegateForColumn(JobQueue::ProgressColumn, new ProgressDelegate(m_view));
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setSectionResizeMode(JobQueue::StateColumn, QHeaderView::Stretch);
    m_view->horizontalHeader()->setMinimumSectionSize(60);
    m_view->setColumnWidth(JobQueue::ProgressColumn, 140);
    layout->addWidget(m_view, 1);
    auto *buttons = new QHBoxLayout;
    m_cancel = new QPushButton(QStringLiteral("Cancel"), this);
    m_cancel->setToolTip(
        QStringLiteral("Stop the run after its current step; its finished rounds stay and it can resume"));
    m_resume = new QPushButton(QStringLiteral("Resume"), this);
    m_resume->setToolTip(QStringLiteral("Queue the spec again: it continues from its last finished round"));
    buttons->addWidget(new QLabel(QStringLiteral("Runs at once:"), this));
    m_parallel = new QSpinBox(this);
    m_parallel->setObjectName(QStringLiteral("parallel"));
    m_parallel->setRange(1, 64);
    m_parallel->setToolTip(
        QStringLiteral("How many queued runs train at the same time, each in its own process. A study's "
                       "runs then share the cores: each gets cores / this many threads, unless the "
                       "study sets threads."));
    m_parallel->setValue(QSettings().value(QStringLiteral("queue/parallel"), 1).toInt());
    m_queue->setMaxParallel(m_parallel->value());
    connect(m_parallel, &QSpinBox::valueChanged, this, [this](int n) {
        QSettings().setValue(QStringLiteral("queue/parallel"), n);
        m_queue->setMaxParallel(n);
    });
    buttons->addWidget(m_parallel);
    buttons->addStretch(1);
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_resume);
    layout->addLayout(buttons);
    connect(m_cancel, &QPushButton::clicked, this, [this] { m_queue->cancel(currentRow()); });
    connect(m_resume, &QPushButton::clicked, this, [this] { m_queue->resume(currentRow()); });
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &QueuePanel::updateButtons);
    connect(queue, &JobQueue::dataChanged, this, &QueuePanel::updateButtons);
    connect(queue, &JobQueue::rowsInserted, this, [this](const QModelIndex &, int, int last) {
        m_view->selectRow(last);
        updateButtons();
    });
    updateButtons();
}

int QueuePanel::currentRow() const
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    return rows.isEmpty() ? -1 : rows.first().row();
}

void QueuePanel::updateButtons()
{
    const RunJob *job = m_queue->job(currentRow());
    const bool active = job && (job->state() == RunJob::State::Running || job->state() == RunJob::State::Queued);
    m_cancel->setEnabled(active);
    m_resume->setEnabled(job && (job->state() == RunJob::State::Cancelled || job->state() == RunJob::State::Failed));
}

} // namespace tl::ui
