// transfer-matrix: source task x target task, transfer metric minus the full model's on the
// target; * where the transfer is at least the target's own IMP ticket (the paper's Figure 2).

#include <algorithm>
#include <cmath>

#include "analysis/analysis.h"
#include "plots/figures_p.h"

namespace tl::ui {

Figure buildTransferMatrix(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    const QString metric = request.metric == QLatin1String("main") ? QStringLiteral("dev metric") : request.metric;
    f.title = QStringLiteral("Transfer: %1 minus the full model's (* = at least the target's own ticket)").arg(metric);
    f.csv = QStringLiteral("source,target,sparsity,transfer_metric,full_mean,delta,own_ticket,at_least_own_ticket,runs\n");
    const TransferTable t = transferTable(store, request.metric.toStdString());
    if (t.cells.empty()) {
        f.note = QStringLiteral("No transfer runs yet: transfer a mask from the experiment browser.");
        return f;
    }
    HeatmapPanel p;
    p.title = QStringLiteral("Source (mask) \u2192 target (task)");
    p.xLabel = QStringLiteral("Target task");
    p.yLabel = QStringLiteral("Source task");
    p.colorLabel = QStringLiteral("\u0394 %1").arg(metric);
    p.diverging = true;
    p.valueDecimals = 3;
    for (const std::string &s : t.targets)
        p.xTicks << QString::fromStdString(s);
    for (const std::string &s : t.sources)
        p.yTicks << QString::fromStdString(s);
    double extent = 0.01;
    QString latexRows;
    for (const std::string &src : t.sources) {
        QString row = fig::latexText(QString::fromStdString(src));
        for (const std::string &dst : t.targets) {
            const TransferCell *c = t.cell(src, dst);
            if (!c) {
                p.values.push_back(std::nan(""));
                p.notes.emplace_back();
                row += QStringLiteral(" & --");
                continue;
            }
            if (c->fullSeeds == 0) { // no full-model result on the target: no delta to show
                p.values.push_back(std::nan(""));
                p.notes.emplace_back();
                row += QStringLiteral(" & n/a");
                f.csv += QStringLiteral("%1,%2,%3,%4,,,,,%5\n")
                             .arg(fig::csvField(QString::fromStdString(src)), fig::csvField(QString::fromStdString(dst)),
                                  fig::csvNumber(c->sparsity), fig::csvNumber(c->transferMetric))
                             .arg(c->runs);
                continue;
            }
            p.values.push_back(c->delta);
            p.notes.push_back(c->atLeastOwnTicket ? QStringLiteral("*") : QString());
            extent = std::max(extent, std::abs(c->delta));
            row += QStringLiteral(" & $%1%2$%3")
                       .arg(c->delta >= 0 ? QStringLiteral("+") : QString())
                       .arg(c->delta, 0, 'f', 3)
                       .arg(c->atLeastOwnTicket ? QStringLiteral("$^{*}$") : QString());
            f.csv += QStringLiteral("%1,%2,%3,%4,%5,%6,%7,%8,%9\n")
                         .arg(fig::csvField(QString::fromStdString(src)), fig::csvField(QString::fromStdString(dst)),
                              fig::csvNumber(c->sparsity), fig::csvNumber(c->transferMetric),
                              fig::csvNumber(c->fullMean), fig::csvNumber(c->delta),
                              c->ownTicket ? fig::csvNumber(*c->ownTicket) : QString())
                         .arg(c->atLeastOwnTicket ? 1 : 0)
                         .arg(c->runs);
        }
        latexRows += row + QStringLiteral(" \\\\\n");
    }
    p.vmin = -extent;
    p.vmax = extent;
    f.heatmaps.push_back(std::move(p));
    QString header = QStringLiteral("Source $\\downarrow$ / target $\\rightarrow$");
    for (const std::string &s : t.targets)
        header += QStringLiteral(" & ") + fig::latexText(QString::fromStdString(s));
    f.latex = QStringLiteral("%% %1 of the transferred ticket minus the full model's on the target; * = at least the "
                             "target's own IMP ticket\n\\begin{tabular}{l%2}\n\\toprule\n%3 \\\\\n\\midrule\n%4"
                             "\\bottomrule\n\\end{tabular}\n")
                  .arg(fig::latexText(request.metric), QString(int(t.targets.size()), QLatin1Char('r')), header,
                       latexRows);
    return f;
}

} // namespace tl::ui
