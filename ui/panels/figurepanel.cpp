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
#include <QMouseEvent>
#include <QSettings>
#include <QSlider>
#include <QTimer>
#include <QToolTip>
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
           name == QLatin1String("super-survivors") || name == QLatin1String("sensitivity") ||
           name == QLatin1String("head-importance") || name == QLatin1String("head-stability");
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
        bar->addWidget(new QLabel(QStringLiteral("Show:"), this));
        m_headMode = new QComboBox(this);
        m_headMode->addItem(QStringLiteral("surviving fraction"), QStringLiteral("fraction"));
        m_headMode->addItem(QStringLiteral("relative to layer"), QStringLiteral("relative"));
        m_headMode->addItem(QStringLiteral("importance"), QStringLiteral("importance"));
        m_headMode->addItem(QStringLiteral("alive / removed"), QStringLiteral("structure"));
        m_headMode->setToolTip(QStringLiteral(
            "Surviving fraction of each head's weights; that fraction over the layer's overall density (which heads "
            "lose more than their share under unstructured pruning); stored head importance (structured runs, or "
            "analyze head-importance --db); or the exact alive/removed grid of structured masks"));
        bar->addWidget(m_headMode);
        connect(m_headMode, &QComboBox::currentIndexChanged, this, [this] {
            if (m_thresholdRow) // the threshold applies to surviving fractions only
                m_thresholdRow->setVisible(m_headMode->currentData().toString() == QLatin1String("fraction"));
            schedule();
        });
    }
    if (m_name == QLatin1String("metric-vs-sparsity")) {
        bar->addWidget(new QLabel(QStringLiteral("x axis:"), this));
        m_xAxis = new QComboBox(this);
        m_xAxis->addItem(QStringLiteral("weights removed"), QStringLiteral("weights"));
        m_xAxis->addItem(QStringLiteral("heads removed"), QStringLiteral("heads"));
        m_xAxis->setToolTip(
            QStringLiteral("Sparsity as the fraction of prunable weights removed, or the fraction of "
                           "attention heads removed whole (structured and unstructured runs together)"));
        bar->addWidget(m_xAxis);
        connect(m_xAxis, &QComboBox::currentIndexChanged, this, &FigurePanel::schedule);
    }
    if (m_name == QLatin1String("head-survival") || m_name == QLatin1String("head-stability")) {
        m_thresholdRow = new QWidget(this);
        auto *row = new QHBoxLayout(m_thresholdRow);
        row->setContentsMargins(0, 0, 0, 0);
        bar->addWidget(m_thresholdRow);
        row->addWidget(new QLabel(QStringLiteral("Alive above:"), m_thresholdRow));
        m_threshold = new QDoubleSpinBox(m_thresholdRow);
        m_threshold->setRange(0.0, 0.99);
        m_threshold->setSingleStep(0.05);
        m_threshold->setValue(0.5);
        m_threshold->setToolTip(
            QStringLiteral("A head counts as alive when more than this fraction of its weights survive"));
        row->addWidget(m_threshold);
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
    m_plot->setMouseTracking(true);
    // Heat-map cells say what they hold (and, where a view has it, which runs) under the mouse.
    connect(m_plot, &QCustomPlot::mouseMove, this, [this](QMouseEvent *event) {
        const QString text = heatmapCellText(m_plot, m_figure, event->position());
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(event->globalPosition().toPoint(), text, m_plot);
    });
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
    if (m_headMode)
        r.headMode = m_headMode->currentData().toString();
    if (m_xAxis)
        r.xAxis = m_xAxis->currentData().toString();
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
