#pragma once

#include <QVariantMap>
#include <QWidget>

#include "jobs/runjob.h"

class QCustomPlot;
class QCPGraph;
class QLabel;
class QProgressBar;
class QTimer;

namespace tl::ui {

/// The run being trained right now: training loss and learning rate over the steps of the
/// current round, dev metric per finished round, current round and sparsity, ETA. Fed by the
/// job queue's signals; replots at most every 100 ms.
class LiveRunPanel : public QWidget
{
    Q_OBJECT

public:
    explicit LiveRunPanel(QWidget *parent = nullptr);

    void runStarted(qint64 runId, bool resumed);
    void onProgress(const RunProgress &progress);
    void onRoundDone(qint64 runId, int round, double sparsity, const QVariantMap &metrics);
    void onFinished(const QString &message);
    QCustomPlot *plot() const { return m_plot; }

private:
    void scheduleReplot();
    /// Sparsity stays on 0-100 %, the dev metric on at least [0, 1], the loss and learning
    /// rate from 0 to their maximum: the axes never collapse onto one point.
    void updateAxes();

    QCustomPlot *m_plot = nullptr;
    QCPGraph *m_loss = nullptr, *m_lr = nullptr, *m_metric = nullptr;
    QLabel *m_header = nullptr, *m_detail = nullptr;
    QProgressBar *m_bar = nullptr;
    QTimer *m_replot = nullptr;
    qint64 m_run = 0;
    int m_round = -1;
    double m_stepOffset = 0, m_lastStep = 0;
};

} // namespace tl::ui
