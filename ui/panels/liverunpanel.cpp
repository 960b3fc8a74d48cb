#include "panels/liverunpanel.h"

#include <QLabel>
#include <QProgressBar>
#include <QTimer>
#include <QVBoxLayout>

#include <cmath>

#include "plots/qcp.h"

namespace tl::ui {

LiveRunPanel::LiveRunPanel(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    m_header = new QLabel(QStringLiteral("No run in progress. Start one with Run \u2192 New run\u2026"), this);
    QFont f = m_header->font();
    f.setBold(true);
    m_header->setFont(f);
    layout->addWidget(m_header);
    m_detail = new QLabel(this);
    layout->addWidget(m_detail);
    m_bar = new QProgressBar(this);
    m_bar->setRange(0, 1000);
    m_bar->setTextVisible(false);
    m_bar->setMaximumHeight(10);
    layout->addWidget(m_bar);

    m_plot = new QCustomPlot(this);
    layout->addWidget(m_plot, 1);
    m_plot->plotLayout()->clear();
    auto *top = new QCPAxisRect(m_plot);
    auto *bottom = new QCPAxisRect(m_plot);
    m_plot->plotLayout()->addElement(0, 0, top);
    m_plot->plotLayout()->addElement(1, 0, bottom);
    auto *margins = new QCPMarginGroup(m_plot);
    top->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    bottom->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    top->axis(QCPAxis::atRight)->setVisible(true);
    top->axis(QCPAxis::atBottom)->setLabel(QStringLiteral("Step (current run, rounds one after another)"));
    top->axis(QCPAxis::atLeft)->setLabel(QStringLiteral("Training loss"));
    top->axis(QCPAxis::atRight)->setLabel(QStringLiteral("Learning rate"));
    bottom->axis(QCPAxis::atBottom)->setLabel(QStringLiteral("Sparsity (%)"));
    bottom->axis(QCPAxis::atLeft)->setLabel(QStringLiteral("Dev metric"));
    m_loss = m_plot->addGraph(top->axis(QCPAxis::atBottom), top->axis(QCPAxis::atLeft));
    m_loss->setPen(QPen(QColor(0x1f, 0x77, 0xb4), 1.5));
    m_lr = m_plot->addGraph(top->axis(QCPAxis::atBottom), top->axis(QCPAxis::atRight));
    m_lr->setPen(QPen(QColor(0xff, 0x7f, 0x0e), 1.2, Qt::DashLine));
    m_metric = m_plot->addGraph(bottom->axis(QCPAxis::atBottom), bottom->axis(QCPAxis::atLeft));
    m_metric->setPen(QPen(QColor(0x2c, 0xa0, 0x2c), 1.8));
    m_metric->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));

    m_replot = new QTimer(this);
    m_replot->setSingleShot(true);
    m_replot->setInterval(100);
    connect(m_replot, &QTimer::timeout, this, [this] {
        // Rescale only what has data: an empty graph would leave QCustomPlot's arbitrary range.
        if (!m_loss->data()->isEmpty())
            m_loss->rescaleAxes();
        if (!m_lr->data()->isEmpty())
            m_lr->rescaleValueAxis();
        if (!m_metric->data()->isEmpty())
            m_metric->rescaleAxes();
        for (QCPAxisRect *r : m_plot->axisRects()) {
            const bool empty = r == m_metric->keyAxis()->axisRect() ? m_metric->data()->isEmpty() : m_loss->data()->isEmpty();
            if (empty) {
                r->axis(QCPAxis::atBottom)->setRange(0, r == m_metric->keyAxis()->axisRect() ? 100 : 1);
                r->axis(QCPAxis::atLeft)->setRange(0, 1);
                continue;
            }
            for (QCPAxis *a : r->axes()) {
                const QCPRange range = a->range();
                const double pad = std::max(range.size() * 0.05, 1e-6);
                a->setRange(range.lower - pad, range.upper + pad);
            }
        }
        m_plot->replot(QCustomPlot::rpQueuedReplot);
    });
}

void LiveRunPanel::scheduleReplot()
{
    if (!m_replot->isActive())
        m_replot->start();
}

void LiveRunPanel::runStarted(qint64 runId, bool resumed)
{
    m_run = runId;
    m_round = -1;
    m_stepOffset = m_lastStep = 0;
    m_loss->data()->clear();
    m_lr->data()->clear();
    m_metric->data()->clear();
    m_header->setText(QStringLiteral("Run %1%2").arg(runId).arg(resumed ? QStringLiteral(" (resumed)") : QString()));
    m_detail->clear();
    scheduleReplot();
}

void LiveRunPanel::onProgress(const RunProgress &p)
{
    if (p.run != m_run)
        runStarted(p.run, false);
    if (p.round != m_round) {
        m_stepOffset += m_lastStep;
        m_lastStep = 0;
        m_round = p.round;
    }
    if (p.step > 0) {
        m_lastStep = double(p.step);
        if (std::isfinite(p.loss))
            m_loss->addData(m_stepOffset + double(p.step), p.loss);
        m_lr->addData(m_stepOffset + double(p.step), p.lr);
    }
    const int rounds = p.rounds + 1;
    const double inRound = p.totalSteps > 0 ? double(p.step) / double(p.totalSteps) : 0.0;
    m_bar->setValue(int(1000 * std::clamp((p.round + inRound) / std::max(rounds, 1), 0.0, 1.0)));
    QString eta;
    if (p.etaSeconds > 0 && std::isfinite(p.etaSeconds))
        eta = QStringLiteral(" | round ETA %1 s").arg(qint64(p.etaSeconds + 0.5));
    m_detail->setText(QStringLiteral("Round %1 of %2 | sparsity %3% | step %4/%5 | loss %6 | lr %7%8")
                          .arg(p.round)
                          .arg(p.rounds)
                          .arg(p.sparsity * 100, 0, 'f', 1)
                          .arg(p.step)
                          .arg(p.totalSteps)
                          .arg(p.loss, 0, 'f', 4)
                          .arg(p.lr, 0, 'g', 3)
                          .arg(eta));
    scheduleReplot();
}

void LiveRunPanel::onRoundDone(qint64 runId, int round, double sparsity, const QVariantMap &metrics)
{
    if (runId != m_run)
        runStarted(runId, false);
    const QVariant main = metrics.value(QStringLiteral("main"));
    if (main.isValid())
        m_metric->addData(sparsity * 100.0, main.toDouble());
    QStringList parts;
    for (auto it = metrics.cbegin(); it != metrics.cend(); ++it)
        parts << QStringLiteral("%1 %2").arg(it.key()).arg(it.value().toDouble(), 0, 'f', 4);
    m_detail->setText(QStringLiteral("Round %1 done at sparsity %2%: %3")
                          .arg(round)
                          .arg(sparsity * 100, 0, 'f', 1)
                          .arg(parts.join(QStringLiteral(", "))));
    scheduleReplot();
}

void LiveRunPanel::onFinished(const QString &message)
{
    m_header->setText(QStringLiteral("Run %1: %2").arg(m_run).arg(message));
    scheduleReplot();
}

} // namespace tl::ui
