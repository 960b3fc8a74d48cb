#include "panels/figurepanel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QMessageBox>
#include <QSettings>
#include <QSlider>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <exception>

#include "plots/qcp.h"

#include "analysis/analysis.h"
#include "analysis/sensitivity_data.h"
#include "store/experiment_store.h"

namespace tl::ui {

namespace {

bool usesRound(const QString &name)
{
    return name == QLatin1String("sparsity-heatmap") || name == QLatin1String("head-survival") ||
           name == QLatin1String("overlap-matrix") || name == QLatin1String("weight-histogram") ||
           name == QLatin1String("super-survivors") || name == QLatin1String("sensitivity");
}

/// buildFigure(), with an error as a figure whose note says it (maxRound -2).
Figure computeFigure(const QString &name, const FigureRequest &req)
{
    try {
        return buildFigure(name, req);
    } catch (const std::exception &e) {
        Figure f;
        f.name = name;
        f.title = figureDisplayName(name);
        f.note = QString::fromUtf8(e.what());
        f.maxRound = -2; // marks an error
        return f;
    }
}

} // namespace

FigurePanel::FigurePanel(const QString &figureName, QWidget *parent) : QWidget(parent), m_name(figureName)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto *bar = new QHBoxLayout;
    layout->addLayout(bar);
    if (usesRound(m_name)) {
        bar->addWidget(new QLabel(QStringLiteral("Round:"), this));
        m_round = new QSlider(Qt::Horizontal, this);
        m_round->setRange(0, 0);
        m_round->setPageStep(1);
        m_round->setTickPosition(QSlider::TicksBelow);
        m_round->setMinimumWidth(160);
        m_round->setToolTip(QStringLiteral(
            "Round k = the mask after k prunings; at the right end the view follows each run's last round"));
        bar->addWidget(m_round);
        m_roundLabel = new QLabel(QStringLiteral("last"), this);
        m_roundLabel->setMinimumWidth(60);
        bar->addWidget(m_roundLabel);
        connect(m_round, &QSlider::valueChanged, this, [this](int v) {
            m_roundLabel->setText(v >= m_maxRound ? QStringLiteral("%1 (last)").arg(v) : QString::number(v));
            schedule();
        });
    }
    if (m_name == QLatin1String("head-survival")) {
        bar->addWidget(new QLabel(QStringLiteral("Alive above:"), this));
        m_threshold = new QDoubleSpinBox(this);
        m_threshold->setRange(0.0, 0.99);
        m_threshold->setSingleStep(0.05);
        m_threshold->setValue(0.5);
        m_threshold->setToolTip(
            QStringLiteral("A head counts as alive when more than this fraction of its weights survive"));
        bar->addWidget(m_threshold);
        connect(m_threshold, &QDoubleSpinBox::valueChanged, this, &FigurePanel::schedule);
    }
    if (m_name == QLatin1String("sparsity-rounds") || m_name == QLatin1String("weight-histogram")) {
        bar->addWidget(new QLabel(QStringLiteral("Matrix:"), this));
        m_matrix = new QComboBox(this);
        for (MatrixType t : encoderMatrixTypes())
            m_matrix->addItem(QString::fromStdString(matrixTypeName(t)));
        bar->addWidget(m_matrix);
        connect(m_matrix, &QComboBox::currentIndexChanged, this, &FigurePanel::schedule);
    }
    if (m_name == QLatin1String("sensitivity")) {
        bar->addWidget(new QLabel(QStringLiteral("Scan:"), this));
        m_analysis = new QComboBox(this);
        m_analysis->setToolTip(QStringLiteral("Stored sensitivity scans (ticketlab-cli analyze sensitivity --db); the "
                                              "newest follows the selected run's task"));
        m_analysis->addItem(QStringLiteral("newest"), qint64(0));
        bar->addWidget(m_analysis);
        connect(m_analysis, &QComboBox::currentIndexChanged, this, &FigurePanel::schedule);
    }
    m_status = new QLabel(this);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    bar->addWidget(m_status, 1);
    auto *exportButton = new QToolButton(this);
    exportButton->setText(QStringLiteral("Export\u2026"));
    exportButton->setToolTip(
        QStringLiteral("Save as PDF, SVG or PNG, with the plotted numbers as CSV (and LaTeX for tables)"));
    connect(exportButton, &QToolButton::clicked, this, &FigurePanel::exportWithDialog);
    bar->addWidget(exportButton);

    m_plot = new QCustomPlot(this);
    m_plot->setMinimumSize(360, 260);
    m_plot->setNoAntialiasingOnDrag(true);
    layout->addWidget(m_plot, 1);

    m_throttle = new QTimer(this);
    m_throttle->setSingleShot(true);
    m_throttle->setInterval(40);
    connect(m_throttle, &QTimer::timeout, this, &FigurePanel::compute);
    connect(&m_watcher, &QFutureWatcher<Figure>::finished, this, &FigurePanel::computed);
}

FigurePanel::~FigurePanel()
{
    m_watcher.waitForFinished();
}

void FigurePanel::setSource(const QString &db, const QList<qint64> &runs)
{
    const bool changed = db != m_db || runs != m_runs;
    const bool newDb = db != m_db;
    m_db = db;
    m_runs = runs;
    if (newDb)
        refreshAnalyses();
    if (changed && m_round)
        m_round->setValue(m_round->maximum()); // follow the last round of the new selection
    schedule();
}

void FigurePanel::refresh()
{
    refreshAnalyses();
    schedule();
}

void FigurePanel::refreshAnalyses()
{
    if (!m_analysis || m_db.isEmpty() || !QFileInfo::exists(m_db))
        return;
    QList<QPair<qint64, QString>> items;
    try {
        const auto store = ExperimentStore::open(m_db.toStdString());
        for (const AnalysisRecord &a : store->analyses(kSensitivityAnalysis))
            items.append(
                {a.id, QStringLiteral("#%1 %2%3")
                           .arg(a.id)
                           .arg(QString::fromStdString(a.task),
                                a.name.empty() ? QString() : QStringLiteral(" ") + QString::fromStdString(a.name))});
    } catch (const std::exception &) {
        return; // the figure's own computation reports what is wrong with the database
    }
    const qint64 chosen = m_analysis->currentData().toLongLong();
    const QSignalBlocker block(m_analysis);
    while (m_analysis->count() > 1)
        m_analysis->removeItem(1);
    for (const auto &[id, text] : items) {
        m_analysis->addItem(text, id);
        if (id == chosen)
            m_analysis->setCurrentIndex(m_analysis->count() - 1);
    }
}

void FigurePanel::schedule()
{
    if (!isVisible()) {
        m_stale = true; // showEvent() computes
        return;
    }
    if (!m_throttle->isActive())
        m_throttle->start();
}

void FigurePanel::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (m_stale) {
        m_stale = false;
        schedule();
    }
}

FigureRequest FigurePanel::request() const
{
    FigureRequest r;
    r.db = m_db;
    r.runs = m_runs;
    r.round = m_round && m_round->value() < m_maxRound ? m_round->value() : -1;
    if (m_threshold)
        r.headThreshold = m_threshold->value();
    if (m_matrix)
        r.matrixType = m_matrix->currentText();
    if (m_analysis)
        r.analysis = m_analysis->currentData().toLongLong();
    return r;
}

void FigurePanel::compute()
{
    if (m_db.isEmpty())
        return;
    if (m_watcher.isRunning()) {
        m_pending = true; // coalesce: one more computation when this one ends
        return;
    }
    ++m_computeCount;
    m_watcher.setFuture(
        QtConcurrent::run([name = m_name, req = request()]() -> Figure { return computeFigure(name, req); }));
}

void FigurePanel::ensureComputed()
{
    m_watcher.waitForFinished();
    if (!m_stale && m_computeCount > 0 && !m_pending)
        return;
    m_stale = m_pending = false;
    ++m_computeCount;
    showFigure(computeFigure(m_name, request()));
}

void FigurePanel::computed()
{
    showFigure(m_watcher.result());
    if (m_pending) {
        m_pending = false;
        schedule();
    }
}

void FigurePanel::showFigure(Figure f)
{
    const bool failed = f.maxRound == -2;
    if (failed)
        f.maxRound = -1;
    m_lastError = failed ? f.note : QString();
    m_figure = std::move(f);
    if (m_round && m_figure.maxRound >= 0) {
        const bool following = m_round->value() >= m_maxRound;
        m_maxRound = m_figure.maxRound;
        const QSignalBlocker block(m_round);
        m_round->setMaximum(m_maxRound);
        if (following)
            m_round->setValue(m_maxRound);
        m_roundLabel->setText(m_round->value() >= m_maxRound ? QStringLiteral("%1 (last)").arg(m_round->value())
                                                             : QString::number(m_round->value()));
    }
    QElapsedTimer timer;
    timer.start();
    drawFigure(m_plot, m_figure);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    m_lastDrawMs = double(timer.nsecsElapsed()) / 1e6;
    m_status->setText(failed ? QStringLiteral("<span style='color:#b2182b'>%1</span>").arg(m_lastError.toHtmlEscaped())
                             : QString());
    Q_EMIT updated(m_lastError);
}

void FigurePanel::exportWithDialog()
{
    QSettings settings;
    const QString dir = settings.value(QStringLiteral("exportDir"), QDir::homePath()).toString();
    QString selected;
    const QString path =
        QFileDialog::getSaveFileName(this, QStringLiteral("Export %1").arg(figureDisplayName(m_name)),
                                     QDir(dir).filePath(m_name + QStringLiteral(".pdf")),
                                     QStringLiteral("PDF (*.pdf);;SVG (*.svg);;PNG (*.png)"), &selected);
    if (path.isEmpty())
        return;
    settings.setValue(QStringLiteral("exportDir"), QFileInfo(path).path());
    int dpi = 300;
    if (path.endsWith(QLatin1String(".png"), Qt::CaseInsensitive)) {
        bool ok = false;
        dpi = QInputDialog::getInt(this, QStringLiteral("PNG resolution"), QStringLiteral("Dots per inch:"), 300, 24,
                                   2400, 50, &ok);
        if (!ok)
            return;
    }
    QString error;
    if (!exportFigure(m_plot, m_figure, path, dpi, &error))
        QMessageBox::warning(this, QStringLiteral("Export failed"), error);
}

} // namespace tl::ui
