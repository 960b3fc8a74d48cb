#include "panels/liverunpanel.h"

#include <QLabel>
#include <QProgressBar>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "engine/progress_protocol.h"
#include "plots/qcp.h"
#include "store/experiment_store.h"

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
    connect(m_replot, &QTimer::timeout, this, &LiveRunPanel::updateAxes);
    updateAxes();
}

namespace {

/// [lower, upper] widened by 5% of its span on each side, and to at least minSpan around its
/// centre: a single point (one round, one step) must not collapse the axis.
QCPRange padded(double lower, double upper, double minSpan)
{
    if (upper - lower < minSpan) {
        const double centre = (lower + upper) / 2;
        lower = centre - minSpan / 2;
        upper = centre + minSpan / 2;
    }
    const double pad = (upper - lower) * 0.05;
    return {lower - pad, upper + pad};
}

/// The value range of a graph's data; false when it has none.
bool valueRange(const QCPGraph *g, QCPRange *range)
{
    bool found = false;
    *range = g->data()->valueRange(found);
    return found;
}

} // namespace

void LiveRunPanel::updateAxes()
{
    QCPAxisRect *curves = m_loss->keyAxis()->axisRect();
    bool found = false;
    const QCPRange steps = m_loss->data()->keyRange(found);
    curves->axis(QCPAxis::atBottom)->setRange(0, found ? std::max(steps.upper, 1.0) : 1.0);
    QCPRange r;
    if (valueRange(m_loss, &r))
        m_loss->valueAxis()->setRange(padded(std::min(r.lower, 0.0), r.upper, 1e-3));
    else
        m_loss->valueAxis()->setRange(0, 1);
    if (valueRange(m_lr, &r))
        m_lr->valueAxis()->setRange(padded(std::min(r.lower, 0.0), r.upper, 1e-12));
    else
        m_lr->valueAxis()->setRange(0, 1);
    // Dev metrics are fractions (accuracy, F1) or correlations (MCC, Pearson): keep [0, 1] in
    // view from the first round on, widened only by values outside it (a negative MCC).
    m_metric->keyAxis()->setRange(padded(0, 100, 0));
    double lower = 0, upper = 1;
    if (valueRange(m_metric, &r)) {
        lower = std::min(lower, r.lower);
        upper = std::max(upper, r.upper);
    }
    m_metric->valueAxis()->setRange(padded(lower, upper, 0));
    m_plot->replot(QCustomPlot::rpQueuedReplot);
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
    if (p.runId != m_run)
        runStarted(p.runId, false);
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
    m_bar->setValue(int(1000 * runFractionDone(p)));
    QString eta;
    if (p.etaSeconds > 0 && std::isfinite(p.etaSeconds))
        eta = QStringLiteral(" | round ETA ") + QString::fromStdString(formatDuration(p.etaSeconds));
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
    const QVariant main = metrics.value(QString::fromUtf8(kMainMetric));
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
