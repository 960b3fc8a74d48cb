#pragma once

#include <QWidget>

#include "models/labsnapshot.h"

class QComboBox;
class QLineEdit;
class QSortFilterProxyModel;
class QTreeView;

namespace tl::ui {

class RunTreeModel;

/// The experiment browser: models -> tasks -> runs -> rounds, with search and kind/status
/// filters. Selecting runs (several with Ctrl/Shift) chooses what the views compare.
class BrowserPanel : public QWidget
{
    Q_OBJECT

public:
    explicit BrowserPanel(QWidget *parent = nullptr);

    /// Replaces the tree's contents, keeping expanded nodes and the selection.
    void setSnapshot(LabSnapshot snapshot);
    RunTreeModel *model() const { return m_model; }
    QTreeView *view() const { return m_view; }
    /// Selected run ids (rounds count as their run), in tree order.
    QList<qint64> selectedRuns() const;
    /// The round of a selected round node, or -1.
    int selectedRound() const;
    void selectRuns(const QList<qint64> &runs);
    /// The selection as mask references, in tree order: "R:K" for a selected round node, "R"
    /// for a run (its last mask round). Empty when fewer than two runs are selected.
    QString selectedMaskRefs() const;

Q_SIGNALS:
    void selectionChanged(const QList<qint64> &runs, int round);
    void exportMaskRequested(qint64 run, int round);
    void transferRequested(qint64 run, int round);
    void resumeRequested(qint64 run);
    /// Combine the masks of the selected runs: op "intersect", "union" or "diff"; refs as
    /// `mask-op --masks` ("R:K" for a selected round, a bare "R" for a run's last mask round).
    void maskOpRequested(const QString &op, const QString &refs, const QString &title);

private:
    void contextMenu(const QPoint &pos);
    void applyFilter();

    RunTreeModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTreeView *m_view = nullptr;
    QLineEdit *m_search = nullptr;
    QComboBox *m_kind = nullptr, *m_status = nullptr;
};

} // namespace tl::ui
