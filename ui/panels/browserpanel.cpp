#include "panels/browserpanel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QMap>
#include <QMenu>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QTreeView>
#include <QVBoxLayout>

#include "models/runtreemodel.h"
#include "store/experiment_store.h"

namespace tl::ui {

namespace {

/// Search text plus kind and status filters; a round shows when its run does, a model or
/// task when any run below it does (recursive filtering).
class RunFilterProxy : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    QString text, kind, status;
    void changed() { invalidateFilter(); }

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override
    {
        const QModelIndex idx = sourceModel()->index(row, 0, parent);
        const int type = idx.data(RunTreeModel::NodeTypeRole).toInt();
        if (type == RunTreeModel::RoundNode)
            return runMatches(parent);
        if (type == RunTreeModel::RunNode)
            return runMatches(idx);
        return text.isEmpty() && kind.isEmpty() && status.isEmpty() && sourceModel()->rowCount(idx) == 0;
    }

private:
    bool runMatches(const QModelIndex &runIndex) const
    {
        const auto *model = static_cast<const RunTreeModel *>(sourceModel());
        const RunEntry *e = model->runEntry(runIndex.data(RunTreeModel::RunIdRole).toLongLong());
        if (!e)
            return false;
        if (!kind.isEmpty() && QString::fromStdString(runKindName(e->run.kind)) != kind)
            return false;
        if (!status.isEmpty() && QString::fromStdString(e->run.status) != status)
            return false;
        if (text.isEmpty())
            return true;
        const QString hay = QString::fromStdString("run " + runLabel(e->run) + " " + runKindLabel(e->run.kind) + " " +
                                                   e->run.status + " " + e->modelPath + " " + e->datasetPath);
        for (const QString &word : text.split(QLatin1Char(' '), Qt::SkipEmptyParts))
            if (!hay.contains(word, Qt::CaseInsensitive))
                return false;
        return true;
    }
};

} // namespace

BrowserPanel::BrowserPanel(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto *filters = new QHBoxLayout;
    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(QStringLiteral("Search runs (task, kind, status, id, path)"));
    m_search->setClearButtonEnabled(true);
    filters->addWidget(m_search, 1);
    m_kind = new QComboBox(this);
    m_kind->addItem(QStringLiteral("all kinds"), QString());
    for (const RunKindInfo &k : runKindTable())
        m_kind->addItem(QString::fromUtf8(k.name), QString::fromUtf8(k.name));
    filters->addWidget(m_kind);
    m_status = new QComboBox(this);
    m_status->addItem(QStringLiteral("any status"), QString());
    for (const std::string &s : ExperimentStore::runStatuses())
        m_status->addItem(QString::fromStdString(s), QString::fromStdString(s));
    filters->addWidget(m_status);
    layout->addLayout(filters);

    m_model = new RunTreeModel(this);
    auto *proxy = new RunFilterProxy(this);
    proxy->setRecursiveFilteringEnabled(true);
    proxy->setSourceModel(m_model);
    proxy->setSortRole(RunTreeModel::SortRole);
    m_proxy = proxy;
    m_view = new QTreeView(this);
    m_view->setModel(m_proxy);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(RunTreeModel::NameColumn, Qt::AscendingOrder);
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->header()->setStretchLastSection(false);
    m_view->header()->setSectionResizeMode(RunTreeModel::NameColumn, QHeaderView::Stretch);
    for (int c = 1; c < RunTreeModel::ColumnCount; ++c)
        m_view->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    m_view->header()->setMinimumSectionSize(48);
    m_view->setColumnHidden(RunTreeModel::UpdatedColumn, true);
    m_view->setMinimumWidth(420);
    layout->addWidget(m_view, 1);

    connect(m_view, &QTreeView::customContextMenuRequested, this, &BrowserPanel::contextMenu);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { Q_EMIT selectionChanged(selectedRuns(), selectedRound()); });
    connect(m_search, &QLineEdit::textChanged, this, &BrowserPanel::applyFilter);
    connect(m_kind, &QComboBox::currentIndexChanged, this, &BrowserPanel::applyFilter);
    connect(m_status, &QComboBox::currentIndexChanged, this, &BrowserPanel::applyFilter);
}

void BrowserPanel::applyFilter()
{
    auto *proxy = static_cast<RunFilterProxy *>(m_proxy);
    proxy->text = m_search->text().trimmed();
    proxy->kind = m_kind->currentData().toString();
    proxy->status = m_status->currentData().toString();
    proxy->changed();
    if (!proxy->text.isEmpty() || !proxy->kind.isEmpty() || !proxy->status.isEmpty())
        m_view->expandToDepth(1);
}

void BrowserPanel::setSnapshot(LabSnapshot snapshot)
{
    // Keep what the user expanded and selected across the reload.
    QSet<QString> expanded, selected;
    const auto visit = [&](const auto &self, const QModelIndex &parent) -> void {
        for (int r = 0; r < m_proxy->rowCount(parent); ++r) {
            const QModelIndex i = m_proxy->index(r, 0, parent);
            if (m_view->isExpanded(i))
                expanded.insert(i.data(RunTreeModel::KeyRole).toString());
            self(self, i);
        }
    };
    visit(visit, {});
    const bool firstLoad = m_model->rowCount() == 0;
    for (const QModelIndex &i : m_view->selectionModel()->selectedRows())
        selected.insert(i.data(RunTreeModel::KeyRole).toString());
    const QSignalBlocker block(m_view->selectionModel());
    m_model->setSnapshot(std::move(snapshot));
    if (firstLoad) {
        m_view->expandToDepth(1); // models and tasks open, runs closed
    } else {
        for (const QString &key : expanded)
            m_view->expand(m_proxy->mapFromSource(m_model->indexForKey(key)));
    }
    for (const QString &key : selected) {
        const QModelIndex i = m_proxy->mapFromSource(m_model->indexForKey(key));
        if (i.isValid())
            m_view->selectionModel()->select(i, QItemSelectionModel::Select | QItemSelectionModel::Rows);
    }
}

QList<qint64> BrowserPanel::selectedRuns() const
{
    QList<qint64> runs;
    for (const QModelIndex &i : m_view->selectionModel()->selectedRows()) {
        const QVariant id = i.data(RunTreeModel::RunIdRole);
        if (id.isValid() && !runs.contains(id.toLongLong()))
            runs << id.toLongLong();
    }
    return runs;
}

int BrowserPanel::selectedRound() const
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    for (const QModelIndex &i : rows)
        if (i.data(RunTreeModel::NodeTypeRole).toInt() == RunTreeModel::RoundNode)
            return i.data(RunTreeModel::RoundRole).toInt();
    return -1;
}

void BrowserPanel::selectRuns(const QList<qint64> &runs)
{
    m_view->selectionModel()->clearSelection();
    for (qint64 id : runs) {
        const QModelIndex i = m_proxy->mapFromSource(m_model->indexForKey(QStringLiteral("r:%1").arg(id)));
        if (i.isValid()) {
            m_view->scrollTo(i);
            m_view->selectionModel()->select(i, QItemSelectionModel::Select | QItemSelectionModel::Rows);
        }
    }
}

QString BrowserPanel::selectedMaskRefs() const
{
    QList<qint64> runs;
    QMap<qint64, int> rounds; // a selected round node of the run, else absent
    for (const QModelIndex &i : m_view->selectionModel()->selectedRows()) {
        const QVariant id = i.data(RunTreeModel::RunIdRole);
        if (!id.isValid())
            continue;
        if (!runs.contains(id.toLongLong()))
            runs << id.toLongLong();
        if (i.data(RunTreeModel::NodeTypeRole).toInt() == RunTreeModel::RoundNode)
            rounds[id.toLongLong()] = i.data(RunTreeModel::RoundRole).toInt();
    }
    if (runs.size() < 2)
        return {};
    QStringList refs;
    for (qint64 run : runs)
        refs << (rounds.contains(run) ? QStringLiteral("%1:%2").arg(run).arg(rounds[run]) : QString::number(run));
    return refs.join(QLatin1Char(','));
}

void BrowserPanel::contextMenu(const QPoint &pos)
{
    const QModelIndex index = m_view->indexAt(pos);
    if (!index.isValid())
        return;
    const QVariant id = index.data(RunTreeModel::RunIdRole);
    if (!id.isValid())
        return;
    const qint64 run = id.toLongLong();
    const RunEntry *e = m_model->runEntry(run);
    int round = index.data(RunTreeModel::RoundRole).toInt();
    if (round < 0 && e && !e->rounds.empty())
        round = e->rounds.back().round;
    QMenu menu(this);
    const QString at = round >= 0 ? QStringLiteral(" (round %1)").arg(round) : QString();
    QAction *exportMask = menu.addAction(QStringLiteral("Export mask%1\u2026").arg(at));
    QAction *transfer = menu.addAction(QStringLiteral("Transfer mask%1 to a task\u2026").arg(at));
    exportMask->setEnabled(round >= 0);
    transfer->setEnabled(round >= 0);
    // Mask algebra over the selected runs (two or more, the clicked one among them).
    const QString refs = selectedMaskRefs();
    QAction *intersect = nullptr, *unite = nullptr, *subtract = nullptr;
    if (!refs.isEmpty() && selectedRuns().contains(run)) {
        const int n = int(refs.count(QLatin1Char(','))) + 1;
        QMenu *combine = menu.addMenu(QStringLiteral("Combine the masks of %1 selected runs").arg(n));
        intersect = combine->addAction(QStringLiteral("Intersect (weights all keep)"));
        unite = combine->addAction(QStringLiteral("Union (weights any keeps)"));
        subtract = combine->addAction(QStringLiteral("Difference (kept by the first only)"));
    }
    QAction *resume = nullptr;
    if (e && e->run.status != "done") {
        menu.addSeparator();
        resume = menu.addAction(QStringLiteral("Resume run %1").arg(run));
    }
    QAction *chosen = menu.exec(m_view->viewport()->mapToGlobal(pos));
    if (chosen == exportMask)
        Q_EMIT exportMaskRequested(run, round);
    else if (chosen == transfer)
        Q_EMIT transferRequested(run, round);
    else if (resume && chosen == resume)
        Q_EMIT resumeRequested(run);
    else if (chosen && (chosen == intersect || chosen == unite || chosen == subtract))
        Q_EMIT maskOpRequested(chosen == intersect ? QStringLiteral("intersect")
                               : chosen == unite   ? QStringLiteral("union")
                                                   : QStringLiteral("diff"),
                               refs, chosen->text());
}

} // namespace tl::ui
