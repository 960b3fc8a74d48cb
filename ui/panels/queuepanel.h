#pragma once

#include <QWidget>

class QPushButton;
class QSpinBox;
class QTableView;

namespace tl::ui {

class JobQueue;

/// The run queue: one row per queued, running or finished run spec, with a progress bar,
/// ETA, Cancel and Resume, and how many runs train at once.
class QueuePanel : public QWidget
{
    Q_OBJECT

public:
    QueuePanel(JobQueue *queue, QWidget *parent = nullptr);
    QTableView *view() const { return m_view; }
    /// "Runs at once": the queue's maxParallel(), kept in the settings.
    QSpinBox *parallelBox() const { return m_parallel; }

private:
    int currentRow() const;
    void updateButtons();

    JobQueue *m_queue = nullptr;
    QTableView *m_view = nullptr;
    QPushButton *m_cancel = nullptr, *m_resume = nullptr;
    QSpinBox *m_parallel = nullptr;
};

} // namespace tl::ui
