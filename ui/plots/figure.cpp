#include "plots/figure.h"

#include <QFileInfo>
#include <QSaveFile>
#include <QSvgGenerator>

#include <cmath>
#include <memory>

#include "plots/qcp.h"

#include "analysis/tickets.h"
#include "plots/figures_p.h"
#include "store/experiment_store.h"
#include "util/error.h"

namespace tl::ui {

const QStringList &figureNames()
{
    static const QStringList names = {
        QStringLiteral("metric-vs-sparsity"), QStringLiteral("sparsity-heatmap"), QStringLiteral("sparsity-rounds"),
        QStringLiteral("head-survival"),      QStringLiteral("overlap-matrix"),   QStringLiteral("transfer-matrix"),
        QStringLiteral("training-curves"),    QStringLiteral("weight-histogram"), QStringLiteral("super-survivors"),
        QStringLiteral("early-bird"),         QStringLiteral("sensitivity"),      QStringLiteral("head-importance"),
        QStringLiteral("head-stability"),
    };
    return names;
}

const QStringList &headModes()
{
    static const QStringList modes = {QStringLiteral("fraction"), QStringLiteral("relative"),
                                      QStringLiteral("importance"), QStringLiteral("structure")};
    return modes;
}

const QStringList &ticketCriterionNames()
{
    static const QStringList names = [] {
        QStringList out;
        for (const std::string &c : tl::ticketCriteria())
            out << QString::fromStdString(c);
        return out;
    }();
    return names;
}

const QStringList &xAxes()
{
    static const QStringList axes = {QStringLiteral("weights"), QStringLiteral("heads")};
    return axes;
}

QString figureDisplayName(const QString &name)
{
    if (name == QLatin1String("metric-vs-sparsity"))
        return QStringLiteral("Metric vs sparsity");
    if (name == QLatin1String("sparsity-heatmap"))
        return QStringLiteral("Layer sparsity");
    if (name == QLatin1String("sparsity-rounds"))
        return QStringLiteral("Sparsity by round");
    if (name == QLatin1String("head-survival"))
        return QStringLiteral("Head survival");
    if (name == QLatin1String("overlap-matrix"))
        return QStringLiteral("Mask overlap");
    if (name == QLatin1String("transfer-matrix"))
        return QStringLiteral("Transfer");
    if (name == QLatin1String("training-curves"))
        return QStringLiteral("Training curves");
    if (name == QLatin1String("weight-histogram"))
        return QStringLiteral("Weight distribution");
    if (name == QLatin1String("super-survivors"))
        return QStringLiteral("Super-survivors");
    if (name == QLatin1String("early-bird"))
        return QStringLiteral("Early bird");
    if (name == QLatin1String("sensitivity"))
        return QStringLiteral("Layer sensitivity");
    if (name == QLatin1String("head-importance"))
        return QStringLiteral("Head importance");
    if (name == QLatin1String("head-stability"))
        return QStringLiteral("Heads across tasks");
    return name;
}

namespace {
Figure buildFigureFrom(const ExperimentStore &store, const QString &name, const FigureRequest &request);
} // namespace

Figure buildFigure(const QString &name, const FigureRequest &request)
{
    if (!QFileInfo::exists(request.db))
        throw Error(request.db.toStdString() + ": no such experiment database");
    const auto store = ExperimentStore::open(request.db.toStdString());
    Figure f;
    store->readSnapshot([&] { f = buildFigureFrom(*store, name, request); });
    f.name = name;
    return f;
}

namespace {

/// The figure's builder, on one snapshot of the store.
Figure buildFigureFrom(const ExperimentStore &store, const QString &name, const FigureRequest &request)
{
    Figure f;
    if (name == QLatin1String("sparsity-heatmap"))
        f = buildSparsityHeatmap(store, request);
    else if (name == QLatin1String("sparsity-rounds"))
        f = buildSparsityRounds(store, request);
    else if (name == QLatin1String("head-survival"))
        f = buildHeadSurvival(store, request);
    else if (name == QLatin1String("metric-vs-sparsity"))
        f = buildMetricVsSparsity(store, request);
    else if (name == QLatin1String("overlap-matrix"))
        f = buildOverlapMatrix(store, request);
    else if (name == QLatin1String("transfer-matrix"))
        f = buildTransferMatrix(store, request);
    else if (name == QLatin1String("training-curves"))
        f = buildTrainingCurves(store, request);
    else if (name == QLatin1String("weight-histogram"))
        f = buildWeightHistogram(store, request);
    else if (name == QLatin1String("super-survivors"))
        f = buildSuperSurvivors(store, request);
    else if (name == QLatin1String("early-bird"))
        f = buildEarlyBird(store, request);
    else if (name == QLatin1String("sensitivity"))
        f = buildSensitivity(store, request);
    else if (name == QLatin1String("head-importance"))
        f = buildHeadImportance(store, request);
    else if (name == QLatin1String("head-stability"))
        f = buildHeadStability(store, request);
    else
        throw Error("unknown figure '" + name.toStdString() + "' (" +
                    figureNames().join(QStringLiteral(", ")).toStdString() + ")");
    return f;
}

} // namespace

// ---- drawing --------------------------------------------------------------------------------

namespace {

QCPColorGradient sequentialGradient()
{
    // Viridis, sampled at nine stops (QCustomPlot 2.1 has no viridis preset).
    QCPColorGradient g;
    g.clearColorStops();
    const char *stops[] = {"#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c",
                           "#28ae80", "#5ec962", "#addc30", "#fde725"};
    for (int i = 0; i < 9; ++i)
        g.setColorStopAt(i / 8.0, QColor(QLatin1String(stops[i])));
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    return g;
}

QCPColorGradient divergingGradient()
{
    QCPColorGradient g;
    g.clearColorStops();
    g.setColorStopAt(0.0, QColor(QLatin1String("#2166ac")));
    g.setColorStopAt(0.25, QColor(QLatin1String("#92c5de")));
    g.setColorStopAt(0.5, QColor(QLatin1String("#f7f7f7")));
    g.setColorStopAt(0.75, QColor(QLatin1String("#f4a582")));
    g.setColorStopAt(1.0, QColor(QLatin1String("#b2182b")));
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    return g;
}

QFont plotFont(int pointSize, bool bold = false)
{
    QFont f(QStringLiteral("DejaVu Sans"));
    f.setPointSize(pointSize);
    f.setBold(bold);
    return f;
}

void styleAxis(QCPAxis *axis, const QString &label)
{
    axis->setLabel(label);
    axis->setLabelFont(plotFont(10));
    axis->setTickLabelFont(plotFont(9));
}

QSharedPointer<QCPAxisTickerText> textTicker(const QStringList &labels, bool reversed)
{
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    const int n = int(labels.size());
    for (int i = 0; i < n; ++i)
        ticker->addTick(reversed ? n - 1 - i : i, labels[i]);
    return ticker;
}

/// Text colour that reads on a cell of the gradient at fraction t.
QColor textColorFor(QCPColorGradient g, double t)
{
    const QColor c = QColor::fromRgb(g.color(t, QCPRange(0, 1)));
    const double luminance = 0.299 * c.redF() + 0.587 * c.greenF() + 0.114 * c.blueF();
    return luminance > 0.55 ? Qt::black : Qt::white;
}

void drawHeatmap(QCustomPlot *plot, QCPLayoutGrid *grid, int column, const HeatmapPanel &p, QCPMarginGroup *margins,
                 bool withScale, int index)
{
    auto *title = new QCPTextElement(plot, p.title, plotFont(10, true));
    grid->addElement(0, column, title);
    auto *rect = new QCPAxisRect(plot);
    rect->setProperty("tlHeatmap", index); // heatmapCellText() finds the panel by it
    grid->addElement(1, column, rect);
    rect->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
    const int rows = p.rows(), cols = p.cols();
    styleAxis(rect->axis(QCPAxis::atBottom), p.xLabel);
    styleAxis(rect->axis(QCPAxis::atLeft), p.yLabel);
    rect->axis(QCPAxis::atBottom)->setTicker(textTicker(p.xTicks, false));
    rect->axis(QCPAxis::atLeft)->setTicker(textTicker(p.yTicks, true));
    for (QCPAxis *a : {rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft)}) {
        a->grid()->setVisible(false);
        a->setSubTicks(false);
    }
    int longest = 0;
    for (const QString &t : p.xTicks)
        longest = std::max(longest, int(t.size()));
    if (cols > 16 || (cols > 1 && longest * cols > 60))
        rect->axis(QCPAxis::atBottom)->setTickLabelRotation(cols > 16 ? 90 : 35);
    rect->axis(QCPAxis::atBottom)->setRange(-0.5, cols - 0.5);
    rect->axis(QCPAxis::atLeft)->setRange(-0.5, rows - 0.5);

    auto *map = new QCPColorMap(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    map->setInterpolate(false);
    map->setTightBoundary(false);
    // QCPColorMapData places cell centres evenly over its range; a single row or column gets two
    // data cells a half-unit apart holding the same value, so that it still spans one unit.
    const int dataCols = std::max(cols, 2), dataRows = std::max(rows, 2);
    map->data()->setSize(dataCols, dataRows);
    map->data()->setRange(cols > 1 ? QCPRange(0, cols - 1) : QCPRange(-0.25, 0.25),
                          rows > 1 ? QCPRange(0, rows - 1) : QCPRange(-0.25, 0.25));
    auto setCell = [&](int c, int y, double v, bool blank) {
        for (int dc = 0; dc < (cols > 1 ? 1 : 2); ++dc)
            for (int dy = 0; dy < (rows > 1 ? 1 : 2); ++dy) {
                map->data()->setCell(c + dc, y + dy, v);
                if (blank)
                    map->data()->setAlpha(c + dc, y + dy, 0);
            }
    };
    const QCPColorGradient gradient = p.diverging ? divergingGradient() : sequentialGradient();
    const double span = p.vmax > p.vmin ? p.vmax - p.vmin : 1.0;
    const bool cellsBigEnough = rows * cols <= 160;
    for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
            const size_t i = size_t(r) * size_t(cols) + size_t(c);
            const double v = i < p.values.size() ? p.values[i] : std::nan("");
            const int y = rows - 1 - r;
            if (std::isnan(v)) {
                setCell(c, y, p.vmin, true);
                continue;
            }
            setCell(c, y, v, false);
            if (p.showValues && cellsBigEnough) {
                auto *text = new QCPItemText(plot);
                text->setClipAxisRect(rect);
                text->position->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
                text->position->setCoords(c, y);
                QString s = QString::number(v, 'f', p.valueDecimals);
                if (i < p.notes.size())
                    s += p.notes[i];
                text->setText(s);
                text->setFont(plotFont(cols > 6 ? 7 : 8));
                text->setColor(textColorFor(gradient, (v - p.vmin) / span));
            }
        }
    }
    map->setGradient(gradient);
    map->setDataRange(QCPRange(p.vmin, p.vmax > p.vmin ? p.vmax : p.vmin + 1));
    if (withScale) {
        auto *scale = new QCPColorScale(plot);
        grid->addElement(1, column + 1, scale);
        scale->setType(QCPAxis::atRight);
        scale->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
        scale->axis()->setLabel(p.colorLabel);
        scale->axis()->setLabelFont(plotFont(9));
        scale->axis()->setTickLabelFont(plotFont(8));
        scale->setBarWidth(12);
        map->setColorScale(scale); // the scale's gradient and range now rule the map
        scale->setGradient(gradient);
        scale->setDataRange(QCPRange(p.vmin, p.vmax > p.vmin ? p.vmax : p.vmin + 1));
        grid->setColumnStretchFactor(column + 1, 0.01);
    }
}

/// [lo, hi] with `margin` of its span on each side. A (nearly) single value gets a span of its
/// own (a tenth of its magnitude, at least minSpan, 1 around 0) so that the ticks stay distinct.
QCPRange paddedRange(double lo, double hi, double margin, double minSpan)
{
    const double magnitude = std::max(std::abs(lo), std::abs(hi));
    if (hi - lo <= 1e-9 * std::max(1.0, magnitude)) {
        const double half = 0.5 * std::max({0.1 * magnitude, minSpan, magnitude > 0 ? 0.0 : 1.0});
        const double mid = 0.5 * (lo + hi);
        lo = mid - half;
        hi = mid + half;
    }
    const double pad = (hi - lo) * margin;
    return QCPRange(lo - pad, hi + pad);
}

const QColor kPalette[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xd6, 0x27, 0x28), QColor(0x2c, 0xa0, 0x2c),
                           QColor(0xff, 0x7f, 0x0e), QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                           QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f)};

void drawLines(QCustomPlot *plot, QCPLayoutGrid *grid, int row, const LinePanel &p)
{
    auto *rect = new QCPAxisRect(plot);
    grid->addElement(row * 2, 0, new QCPTextElement(plot, p.title, plotFont(10, true)));
    grid->addElement(row * 2 + 1, 0, rect);
    QCPAxis *x = rect->axis(QCPAxis::atBottom), *y = rect->axis(QCPAxis::atLeft);
    styleAxis(x, p.xLabel);
    styleAxis(y, p.yLabel);
    // The legend sits outside the axes (it never hides data), at the top of a side column whose
    // empty second row takes the rest of the height.
    auto *side = new QCPLayoutGrid;
    grid->addElement(row * 2 + 1, 1, side);
    grid->setColumnStretchFactor(1, 0.001);
    // The legend's border is drawn on the right edge of its outer rect: a margin keeps it (and
    // the entries' text, should the painter's font metrics run wider) inside the plot.
    side->setMargins(QMargins(0, 0, 8, 0));
    auto *legend = new QCPLegend;
    side->addElement(0, 0, legend);
    side->addElement(1, 0, new QCPLayoutElement(plot)); // a spacer without a maximum size
    side->setRowStretchFactor(0, 0.001);
    legend->setLayer(QStringLiteral("legend"));
    legend->setFont(plotFont(8));
    legend->setBrush(QColor(255, 255, 255, 210));
    legend->setBorderPen(QPen(QColor(180, 180, 180)));

    double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
    auto extend = [&](double xv, double yv) {
        if (std::isfinite(xv)) {
            xmin = std::min(xmin, xv);
            xmax = std::max(xmax, xv);
        }
        if (std::isfinite(yv)) {
            ymin = std::min(ymin, yv);
            ymax = std::max(ymax, yv);
        }
    };
    const double xs = p.xPercent ? 100.0 : 1.0;
    int colorIndex = 0;
    for (const LineSeries &s : p.series) {
        const QColor color = s.color.isValid() ? s.color : kPalette[colorIndex++ % 8];
        QVector<double> xv, yv, lo, hi;
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            xv << s.x[i] * xs;
            yv << s.y[i];
            extend(s.x[i] * xs, s.y[i]);
            if (i < s.lo.size() && i < s.hi.size()) {
                lo << s.lo[i];
                hi << s.hi[i];
                extend(s.x[i] * xs, s.lo[i]);
                extend(s.x[i] * xs, s.hi[i]);
            }
        }
        if (!lo.isEmpty() && lo.size() == xv.size()) {
            QCPGraph *gl = plot->addGraph(x, y), *gh = plot->addGraph(x, y);
            gl->setData(xv, lo, true);
            gh->setData(xv, hi, true);
            gl->setPen(Qt::NoPen);
            gh->setPen(Qt::NoPen);
            QColor fill = color;
            fill.setAlpha(45);
            gh->setBrush(fill);
            gh->setChannelFillGraph(gl);
            gl->setLayer(QStringLiteral("grid"));
            gh->setLayer(QStringLiteral("grid"));
        }
        QCPGraph *g = plot->addGraph(x, y);
        g->setData(xv, yv, true);
        QPen pen(color, 1.8);
        if (s.dashed)
            pen.setStyle(Qt::DashLine);
        g->setPen(pen);
        g->setName(s.name);
        if (s.markers)
            g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color, color, 5));
        g->addToLegend(legend);
    }
    if (p.refMean) {
        extend(std::nan(""), *p.refMean - p.refStd);
        extend(std::nan(""), *p.refMean + p.refStd);
    }
    if (xmin > xmax) {
        xmin = 0;
        xmax = 1;
    }
    if (ymin > ymax) {
        ymin = 0;
        ymax = 1;
    }
    x->setRange(paddedRange(xmin, xmax, 0.04, p.xPercent ? 10.0 : 0.0));
    y->setRange(paddedRange(ymin, ymax, 0.08, 0.0));
    if (p.refMean) {
        // The band spans the whole x axis: with every point at one sparsity it is still a band.
        const double m = *p.refMean;
        QVector<double> bx = {x->range().lower, x->range().upper};
        QCPGraph *lo = plot->addGraph(x, y), *hi = plot->addGraph(x, y), *mid = plot->addGraph(x, y);
        lo->setData(bx, {m - p.refStd, m - p.refStd});
        hi->setData(bx, {m + p.refStd, m + p.refStd});
        mid->setData(bx, {m, m});
        lo->setPen(Qt::NoPen);
        hi->setPen(Qt::NoPen);
        hi->setBrush(QColor(0, 0, 0, 28));
        hi->setChannelFillGraph(lo);
        lo->setLayer(QStringLiteral("grid")); // the band goes under every series
        hi->setLayer(QStringLiteral("grid"));
        mid->setPen(QPen(QColor(60, 60, 60), 1.2, Qt::DashDotLine));
        mid->setName(p.refLabel);
        mid->addToLegend(legend);
    }
    for (const LinePanel::Mark &mark : p.marks) {
        QCPGraph *g = plot->addGraph(x, y);
        g->setData({mark.x * xs}, {mark.y});
        g->setLineStyle(QCPGraph::lsNone);
        const QColor c = mark.color.isValid() ? mark.color : QColor(Qt::black);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssStar, QPen(c, 2), Qt::NoBrush, 14));
        g->setName(mark.label);
        g->addToLegend(legend);
    }
    if (legend->itemCount() == 0)
        legend->setVisible(false);
    else
        legend->setMaximumSize(legend->minimumOuterSizeHint()); // as small as its entries
}

} // namespace

QString heatmapCellText(QCustomPlot *plot, const Figure &figure, const QPointF &pos)
{
    for (QCPAxisRect *rect : plot->axisRects()) {
        const QVariant tag = rect->property("tlHeatmap");
        if (!tag.isValid() || !rect->rect().contains(pos.toPoint()))
            continue;
        const int index = tag.toInt();
        if (index < 0 || size_t(index) >= figure.heatmaps.size())
            return {};
        const HeatmapPanel &p = figure.heatmaps[size_t(index)];
        const int c = int(std::lround(rect->axis(QCPAxis::atBottom)->pixelToCoord(pos.x())));
        const int y = int(std::lround(rect->axis(QCPAxis::atLeft)->pixelToCoord(pos.y())));
        const int r = p.rows() - 1 - y;
        if (c < 0 || c >= p.cols() || r < 0 || r >= p.rows())
            return {};
        const size_t i = size_t(r) * size_t(p.cols()) + size_t(c);
        QString text = QStringLiteral("%1 %2, %3 %4").arg(p.yLabel, p.yTicks[r], p.xLabel, p.xTicks[c]);
        if (i < p.values.size() && !std::isnan(p.values[i]))
            text += QStringLiteral(": ") + QString::number(p.values[i], 'f', p.valueDecimals);
        if (i < p.tooltips.size() && !p.tooltips[i].isEmpty())
            text += QLatin1Char('\n') + p.tooltips[i];
        return text;
    }
    return {};
}

void drawFigure(QCustomPlot *plot, const Figure &figure)
{
    plot->setAutoAddPlottableToLegend(false); // legends list named series only
    plot->clearItems();
    plot->clearPlottables();
    plot->plotLayout()->clear();
    plot->plotLayout()->setRowSpacing(2);
    plot->setBackground(Qt::white);
    auto *title = new QCPTextElement(plot, figure.title, plotFont(11, true));
    plot->plotLayout()->addElement(0, 0, title);
    auto *grid = new QCPLayoutGrid;
    plot->plotLayout()->addElement(1, 0, grid);
    plot->plotLayout()->setRowStretchFactor(0, 0.001);
    if (figure.heatmaps.empty() && figure.lines.empty()) {
        grid->addElement(0, 0,
                         new QCPTextElement(plot,
                                            figure.note.isEmpty() ? QStringLiteral("Nothing to show") : figure.note,
                                            plotFont(10)));
        return;
    }
    if (!figure.heatmaps.empty()) {
        auto *margins = new QCPMarginGroup(plot);
        // One colour scale at the right when every panel shares its range, else one each.
        bool shared = true;
        for (const HeatmapPanel &p : figure.heatmaps)
            shared = shared && p.vmin == figure.heatmaps[0].vmin && p.vmax == figure.heatmaps[0].vmax &&
                     p.diverging == figure.heatmaps[0].diverging;
        int column = 0;
        for (size_t i = 0; i < figure.heatmaps.size(); ++i) {
            const bool scale = !shared || i + 1 == figure.heatmaps.size();
            drawHeatmap(plot, grid, column, figure.heatmaps[i], margins, scale, int(i));
            column += scale ? 2 : 1;
        }
        grid->setRowStretchFactor(0, 0.001);
    }
    int row = 0;
    for (const LinePanel &p : figure.lines) {
        drawLines(plot, grid, row, p);
        grid->setRowStretchFactor(row * 2, 0.001);
        ++row;
    }
}

bool exportFigure(QCustomPlot *plot, const Figure &figure, const QString &path, int dpi, QString *error)
{
    const QFileInfo info(path);
    const QString suffix = info.suffix().toLower();
    const int w = plot->width() > 50 ? plot->width() : kFigureWidth;
    const int h = plot->height() > 50 ? plot->height() : kFigureHeight;
    bool ok = false;
    if (suffix == QLatin1String("pdf")) {
        ok = plot->savePdf(path, w, h, QCP::epNoCosmetic, QStringLiteral("TicketLab"), figure.title);
    } else if (suffix == QLatin1String("png")) {
        ok = plot->savePng(path, w, h, std::max(dpi, 24) / 96.0, -1, dpi);
    } else if (suffix == QLatin1String("svg")) {
        QSvgGenerator generator;
        generator.setFileName(path);
        generator.setSize(QSize(w, h));
        generator.setViewBox(QRect(0, 0, w, h));
        generator.setTitle(figure.title);
        generator.setDescription(QStringLiteral("TicketLab figure ") + figure.name);
        QCPPainter painter;
        ok = painter.begin(&generator);
        if (ok) {
            plot->toPainter(&painter, w, h);
            ok = painter.end();
        }
    } else {
        if (error)
            *error = path + QStringLiteral(": unknown figure format '") + suffix + QStringLiteral("' (pdf, svg, png)");
        return false;
    }
    if (!ok) {
        if (error)
            *error = path + QStringLiteral(": could not write the figure");
        return false;
    }
    auto writeText = [&](const QString &file, const QString &text) {
        QSaveFile out(file);
        if (!out.open(QIODevice::WriteOnly | QIODevice::Text) || out.write(text.toUtf8()) < 0 || !out.commit()) {
            if (error)
                *error = file + QStringLiteral(": ") + out.errorString();
            return false;
        }
        return true;
    };
    const QString base = info.path() + QLatin1Char('/') + info.completeBaseName();
    if (!figure.csv.isEmpty() && !writeText(base + QStringLiteral(".csv"), figure.csv))
        return false;
    if (!figure.latex.isEmpty() && !writeText(base + QStringLiteral(".tex"), figure.latex))
        return false;
    return true;
}

} // namespace tl::ui
