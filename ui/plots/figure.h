#pragma once

// A figure: the numbers one view plots, computed from the experiment store (torch-free, on any
// thread), and how to draw them into a QCustomPlot (UI thread) and export them. Each figure
// kind lives in its own file under plots/ and only fills these structs.

#include <QColor>
#include <QList>
#include <QPointF>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

#include "train/metrics.h"

class QCustomPlot;

namespace tl::ui {

/// What a figure is asked to show. Empty runs: the figure picks sensible runs itself.
struct FigureRequest
{
    QString db;
    QList<qint64> runs;
    int round = -1;                           ///< -1: the last round of each run
    double headThreshold = 0.5;               ///< head-survival: alive above this surviving fraction
    QString matrixType = QStringLiteral("Q"); ///< sparsity-rounds
    QString metric = QString::fromUtf8(kMainMetric);
    qint64 analysis = 0; ///< sensitivity: the stored scan (0: the newest, of the selected run's task)
    /// head-survival: "fraction" (surviving fraction of each head's weights), "relative" (that
    /// fraction over the layer's overall density: 1 = the head kept its share), "importance"
    /// (stored head importance) or "structure" (alive/dead: any weight of the head left).
    QString headMode = QStringLiteral("fraction");
    /// metric-vs-sparsity's x axis: "weights" (fraction of prunable weights removed) or
    /// "heads" (fraction of attention heads removed whole).
    QString xAxis = QStringLiteral("weights");
    /// metric-vs-sparsity: when the winning ticket is marked ("within_std" or "match", as a run
    /// spec's criterion).
    QString criterion = QStringLiteral("within_std");
};

/// The head-survival modes and metric-vs-sparsity x axes, as FigureRequest spells them.
const QStringList &headModes();
const QStringList &xAxes();
/// The winning-ticket criteria (analysis's ticketCriteria()), for options and menus.
const QStringList &ticketCriterionNames();

/// A discrete grid of cells (layers x heads, source x target, ...).
struct HeatmapPanel
{
    QString title, xLabel, yLabel, colorLabel;
    QStringList xTicks, yTicks;    ///< one per column / row; row 0 is drawn at the top
    std::vector<double> values;    ///< rows x cols, row-major; NaN = no value (drawn blank)
    std::vector<QString> notes;    ///< optional per cell, appended to the value text ("*")
    std::vector<QString> tooltips; ///< optional per cell, shown when the mouse rests on it
    double vmin = 0, vmax = 1;
    bool diverging = false; ///< blue-white-red around 0 (transfer deltas) instead of sequential
    bool showValues = true; ///< numbers in the cells (only drawn when cells are large enough)
    int valueDecimals = 2;
    int rows() const { return int(yTicks.size()); }
    int cols() const { return int(xTicks.size()); }
};

struct LineSeries
{
    QString name;
    std::vector<double> x, y;
    std::vector<double> lo, hi; ///< optional band (same length as x), e.g. mean ± std over seeds
    QColor color;
    bool dashed = false;
    bool markers = true;
};

struct LinePanel
{
    QString title, xLabel, yLabel;
    std::vector<LineSeries> series;
    /// Horizontal reference: the full model's mean with a ±std band.
    std::optional<double> refMean;
    double refStd = 0;
    QString refLabel;
    /// Highlighted points (the winning tickets): x, y, label.
    struct Mark
    {
        double x, y;
        QString label;
        QColor color;
    };
    std::vector<Mark> marks;
    bool xPercent = false; ///< x is a fraction shown as percent
};

struct Figure
{
    QString name;                       ///< e.g. "head-survival"
    QString title;                      ///< shown above the plot
    std::vector<HeatmapPanel> heatmaps; ///< side by side
    std::vector<LinePanel> lines;       ///< stacked
    QString csv;                        ///< the plotted numbers, header row first
    QString latex;                      ///< booktabs table for tables (overlap, transfer, results); may be empty
    QString note;                       ///< shown when there is nothing to plot ("no transfer runs yet")
    int maxRound = -1;                  ///< figures that show one round: the highest round a request may ask for
};

/// The figure names of `ticketlab export-figure` and the views, in menu order.
const QStringList &figureNames();
QString figureDisplayName(const QString &name);

/// Computes a figure from the store at request.db (opens its own connection; safe on a worker
/// thread). Throws tl::Error for an unknown name, run or round, or an unreadable database.
Figure buildFigure(const QString &name, const FigureRequest &request);

/// Clears the plot and draws the figure (UI thread). Does not replot.
void drawFigure(QCustomPlot *plot, const Figure &figure);

/// What the heat-map cell under pos (plot pixels) of a figure drawn by drawFigure says: its row,
/// column and value, and the panel's tooltip for it. Empty off the heat maps.
QString heatmapCellText(QCustomPlot *plot, const Figure &figure, const QPointF &pos);

/// Writes the plot to path by its suffix: .pdf and .svg as vectors, .png at dpi (the plot's
/// current size is taken as inches at 96 dpi). Writes the CSV beside it (same base name, .csv)
/// and the LaTeX table (.tex) when the figure has one. Returns false with a message.
bool exportFigure(QCustomPlot *plot, const Figure &figure, const QString &path, int dpi, QString *error);

/// Paper-size defaults for headless export, in pixels at 96 dpi.
constexpr int kFigureWidth = 720;
constexpr int kFigureHeight = 480;

} // namespace tl::ui
