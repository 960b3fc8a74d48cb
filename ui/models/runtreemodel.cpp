#include "models/runtreemodel.h"

#include <QBrush>
#include <QColor>

#include <map>
#include <set>

namespace tl::ui {

struct RunTreeModel::Node
{
    NodeType type = ModelNode;
    QString name, key;
    Node *parent = nullptr;
    int row = 0;
    std::vector<std::unique_ptr<Node>> children;
    const RunEntry *run = nullptr;      ///< run and round nodes
    const RoundRecord *round = nullptr; ///< round nodes
    int runs = 0;                       ///< model and task nodes: runs below
    QString path;                       ///< model nodes: the model folder

    Node *add(NodeType t, const QString &n, const QString &k)
    {
        auto child = std::make_unique<Node>();
        child->type = t;
        child->name = n;
        child->key = k;
        child->parent = this;
        child->row = int(children.size());
        children.push_back(std::move(child));
        return children.back().get();
    }
};

namespace {

QString percent(double fraction)
{
    return QString::number(fraction * 100.0, 'f', 1) + QLatin1Char('%');
}

} // namespace

RunTreeModel::RunTreeModel(QObject *parent) : QAbstractItemModel(parent), m_root(std::make_unique<Node>()) {}

RunTreeModel::~RunTreeModel() = default;

void RunTreeModel::setSnapshot(LabSnapshot snapshot)
{
    beginResetModel();
    m_snapshot = std::move(snapshot);
    rebuild();
    endResetModel();
}

void RunTreeModel::rebuild()
{
    m_root = std::make_unique<Node>();
    // One node per model record (one folder that held different weights is two models), named
    // by the lab-unique label; the key stays the path when the path is one model.
    std::map<int64_t, Node *> models;
    std::map<std::pair<int64_t, QString>, Node *> tasks;
    std::map<std::string, std::set<int64_t>> idsByPath;
    for (const RunEntry &e : m_snapshot.runs)
        idsByPath[e.modelPath].insert(e.run.modelId);
    // Oldest first within a task reads naturally (run ids ascending).
    for (auto it = m_snapshot.runs.rbegin(); it != m_snapshot.runs.rend(); ++it) {
        const RunEntry &e = *it;
        const QString modelPath =
            e.modelPath.empty() ? QStringLiteral("(no model)") : QString::fromStdString(e.modelPath);
        Node *&model = models[e.run.modelId];
        if (!model) {
            QString key = QStringLiteral("m:") + modelPath;
            if (idsByPath[e.modelPath].size() > 1)
                key += QStringLiteral("#%1").arg(e.run.modelId);
            const QString label = e.modelLabel.empty() ? modelPath : QString::fromStdString(e.modelLabel);
            model = m_root->add(ModelNode, label, key);
            model->path = modelPath;
        }
        const QString task = QString::fromStdString(e.run.task);
        Node *&taskNode = tasks[{e.run.modelId, task}];
        if (!taskNode)
            taskNode = model->add(TaskNode, task, model->key + QStringLiteral("/t:") + task);
        Node *run =
            taskNode->add(RunNode, QStringLiteral("run %1").arg(e.run.id), QStringLiteral("r:%1").arg(e.run.id));
        run->run = &e;
        ++model->runs;
        ++taskNode->runs;
        for (const RoundRecord &r : e.rounds) {
            Node *round = run->add(RoundNode, QStringLiteral("round %1").arg(r.round),
                                   QStringLiteral("r:%1/%2").arg(e.run.id).arg(r.round));
            round->run = &e;
            round->round = &r;
        }
    }
}

const RunEntry *RunTreeModel::runEntry(qint64 runId) const
{
    for (const RunEntry &e : m_snapshot.runs)
        if (e.run.id == runId)
            return &e;
    return nullptr;
}

QModelIndex RunTreeModel::indexForKey(const QString &key) const
{
    std::vector<const Node *> stack = {m_root.get()};
    while (!stack.empty()) {
        const Node *n = stack.back();
        stack.pop_back();
        if (n != m_root.get() && n->key == key)
            return createIndex(n->row, 0, const_cast<Node *>(n));
        for (const auto &c : n->children)
            stack.push_back(c.get());
    }
    return {};
}

RunTreeModel::Node *RunTreeModel::nodeOf(const QModelIndex &index) const
{
    return index.isValid() ? static_cast<Node *>(index.internalPointer()) : m_root.get();
}

QModelIndex RunTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    if (column < 0 || column >= ColumnCount || (parent.isValid() && parent.column() != 0))
        return {};
    const Node *p = nodeOf(parent);
    if (row < 0 || row >= int(p->children.size()))
        return {};
    return createIndex(row, column, p->children[size_t(row)].get());
}

QModelIndex RunTreeModel::parent(const QModelIndex &child) const
{
    if (!child.isValid())
        return {};
    const Node *n = nodeOf(child);
    if (!n->parent || n->parent == m_root.get())
        return {};
    return createIndex(n->parent->row, 0, n->parent);
}

int RunTreeModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid() && parent.column() != 0)
        return 0;
    return int(nodeOf(parent)->children.size());
}

int RunTreeModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

QVariant RunTreeModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid())
        return {};
    const Node *n = nodeOf(index);
    switch (role) {
    case NodeTypeRole:
        return int(n->type);
    case RunIdRole:
        return n->run ? QVariant(qint64(n->run->run.id)) : QVariant();
    case RoundRole:
        return n->round ? n->round->round : -1;
    case KeyRole:
        return n->key;
    default:
        break;
    }
    const RunRecord *run = n->run ? &n->run->run : nullptr;
    const int col = index.column();
    if (role == Qt::ToolTipRole) {
        if (n->type == ModelNode)
            return n->path;
        if (n->type == RunNode && run) {
            QString tip =
                QStringLiteral("%1: %2\nstatus %3, created %4, updated %5\nTicketLab %6, %7, %8 threads")
                    .arg(QString::fromStdString(runLabel(*run)), QString::fromStdString(runKindLabel(run->kind)))
                    .arg(QString::fromStdString(run->status), QString::fromStdString(run->createdAt),
                         QString::fromStdString(run->updatedAt), QString::fromStdString(run->ticketlabVersion),
                         QString::fromStdString(run->device))
                    .arg(run->threads);
            if (!run->error.empty())
                tip += QStringLiteral("\nerror: ") + QString::fromStdString(run->error);
            if (n->run->transfer)
                tip += QStringLiteral("\nmask from run %1 round %2")
                           .arg(n->run->transfer->sourceRunId)
                           .arg(n->run->transfer->sourceRound);
            return tip;
        }
        return {};
    }
    if (role == Qt::ForegroundRole && n->type == RunNode && run) {
        if (run->status == "failed")
            return QBrush(QColor(0xb2, 0x18, 0x2b));
        if (run->status == "running")
            return QBrush(QColor(0x21, 0x66, 0xac));
        return {};
    }
    if (role == Qt::TextAlignmentRole && col >= SeedColumn && col <= MetricColumn)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && role != SortRole)
        return {};
    const bool sort = role == SortRole;
    if (col == NameColumn) {
        if (sort && run)
            return n->round ? qint64(n->round->round) : qint64(run->id);
        if (n->type == ModelNode || n->type == TaskNode)
            return QStringLiteral("%1 (%2 runs)").arg(n->name).arg(n->runs);
        return n->name;
    }
    if (!run)
        return {};
    const RoundRecord *last = n->round ? n->round : (n->run->rounds.empty() ? nullptr : &n->run->rounds.back());
    switch (col) {
    case KindColumn:
        if (n->type != RunNode)
            return {};
        if (n->run->transfer && n->run->transfer->sourceRunId)
            return QStringLiteral("transfer \u2190 %1").arg(n->run->transfer->sourceRunId);
        return QString::fromStdString(runKindName(run->kind));
    case StatusColumn:
        if (n->type != RunNode)
            return {};
        return run->status == "running" || n->run->rounds.empty() ? QString::fromStdString(run->status)
                                                                  : QStringLiteral("%1 (%2 rounds)")
                                                                        .arg(QString::fromStdString(run->status))
                                                                        .arg(n->run->rounds.size());
    case SeedColumn:
        return n->type == RunNode ? QVariant(qulonglong(run->seed)) : QVariant();
    case SparsityColumn:
        if (!last)
            return {};
        return sort ? QVariant(last->sparsity) : QVariant(percent(last->sparsity));
    case MetricColumn: {
        if (!last)
            return {};
        const auto m = last->devMetric(kMainMetric);
        if (!m)
            return {};
        return sort ? QVariant(*m) : QVariant(QString::number(*m, 'f', 4));
    }
    case UpdatedColumn:
        return n->type == RunNode
                   ? QString::fromStdString(run->updatedAt).left(19).replace(QLatin1Char('T'), QLatin1Char(' '))
                   : QString();
    default:
        return {};
    }
}

QVariant RunTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn:
        return QStringLiteral("Experiment");
    case KindColumn:
        return QStringLiteral("Kind");
    case StatusColumn:
        return QStringLiteral("Status");
    case SeedColumn:
        return QStringLiteral("Seed");
    case SparsityColumn:
        return QStringLiteral("Sparsity");
    case MetricColumn:
        return QStringLiteral("Dev metric");
    case UpdatedColumn:
        return QStringLiteral("Updated");
    default:
        return {};
    }
}

} // namespace tl::ui
