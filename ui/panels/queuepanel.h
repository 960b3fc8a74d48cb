#pragma once

#include <QWidget>

class QPushButton;
class QTableView;

namespace tl::ui {

class JobQueue;

/// The run queue: one row per queued, running or finished run spec, with a progress bar,
/// ETA, Cancel and Resume.
class QueuePanel : public QWidget
{
    Q_OBJECT

public:
    QueuePanel(JobQueue *queue, QWidget *parent = nullptr);
    QTableView *view() const { return m_view; }

private:
    int currentRow() const;
    void updateButtons();

    JobQueue *m_queue = nullptr;
    QTableView *m_view = nullptr;
    QPushButton *m_cancel = nullptr, *m_resume = nullptr;
};

} // namespace tl::ui
