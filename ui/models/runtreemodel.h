#pragma once

#include <QAbstractItemModel>

#include <memory>
#include <vector>

#include "models/labsnapshot.h"

namespace tl::ui {

/// The experiment browser's tree: models -> tasks -> runs -> rounds, with kind, status, seed,
/// sparsity and dev metric columns. Filled from a LabSnapshot; read-only.
class RunTreeModel : public QAbstractItemModel
{
    Q_OBJECT

public:
    enum Column
    {
        NameColumn,
        KindColumn,
        StatusColumn,
        SeedColumn,
        SparsityColumn,
        MetricColumn,
        UpdatedColumn,
        ColumnCount
    };
    enum NodeType
    {
        ModelNode,
        TaskNode,
        RunNode,
        RoundNode
    };
    enum Role
    {
        NodeTypeRole = Qt::UserRole + 1, ///< NodeType
        RunIdRole,                       ///< qint64, on run and round nodes
        RoundRole,                       ///< int, on round nodes (-1 elsewhere)
        KeyRole,                         ///< QString that identifies the node across reloads
        SortRole,                        ///< numbers sort as numbers
    };

    explicit RunTreeModel(QObject *parent = nullptr);
    ~RunTreeModel() override;

    void setSnapshot(LabSnapshot snapshot);
    const LabSnapshot &snapshot() const { return m_snapshot; }
    /// nullptr when the id is not in the snapshot.
    const RunEntry *runEntry(qint64 runId) const;
    /// Index (column 0) of a node by its KeyRole value; invalid when absent.
    QModelIndex indexForKey(const QString &key) const;

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Node;
    Node *nodeOf(const QModelIndex &index) const;
    void rebuild();

    LabSnapshot m_snapshot;
    std::unique_ptr<Node> m_root;
};

} // namespace tl::ui
