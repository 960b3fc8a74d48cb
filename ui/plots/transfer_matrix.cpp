// transfer-matrix: source task x target task, transfer metric minus the full model's on the
// target; * where the transfer is at least the target's own IMP ticket (the paper's Figure 2).

#include <algorithm>
#include <cmath>

#include "analysis/analysis.h"
#include "analysis/tickets.h"
#include "plots/figures_p.h"

namespace tl::ui {

Figure buildTransferMatrix(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    requireStoredMetric(store, request.metric.toStdString());
    const QString metric = request.metric == QLatin1String(kMainMetric) ? QStringLiteral("dev metric") : request.metric;
    f.title = QStringLiteral("Transfer: %1 minus the full model's (* = at least the target's own ticket)").arg(metric);
    f.csv = QStringLiteral("model,source,sparsity,source_rounds,target,transfer_metric,full_mean,delta,own_ticket,"
                           "at_least_own_ticket,runs\n");
    const TransferTable t = transferTable(store, request.metric.toStdString());
    if (t.cells.empty()) {
        f.note = QStringLiteral("No transfer runs yet: transfer a mask from the experiment browser.");
        return f;
    }
    // One panel per model; rows are a source task's masks at one sparsity (never averaged over
    // source rounds), columns the target tasks.
    double extent = 0.01;
    QString latexRows;
    for (const std::string &model : t.models) {
        HeatmapPanel p;
        p.title = QStringLiteral("Source (mask) \u2192 target (task)");
        if (t.models.size() > 1)
            p.title = QString::fromStdString(model) + QStringLiteral(": ") + p.title;
        p.xLabel = QStringLiteral("Target task");
        p.yLabel = QStringLiteral("Source task @ sparsity");
        p.colorLabel = QStringLiteral("\u0394 %1").arg(metric);
        p.diverging = true;
        p.valueDecimals = 3;
        for (const std::string &s : t.targets)
            p.xTicks << QString::fromStdString(s);
        for (const TransferRow &row : t.rows) {
            if (row.model != model)
                continue;
            const QString rowLabel =
                QStringLiteral("%1 @ %2%").arg(QString::fromStdString(row.source)).arg(row.sparsity * 100, 0, 'f', 1);
            p.yTicks << rowLabel;
            QString latexRow = fig::latexText(
                (t.models.size() > 1 ? QString::fromStdString(model) + QStringLiteral(": ") : QString()) + rowLabel);
            for (const std::string &dst : t.targets) {
                const TransferCell *c = t.cell(row, dst);
                if (!c) {
                    p.values.push_back(std::nan(""));
                    p.notes.emplace_back();
                    latexRow += QStringLiteral(" & --");
                    continue;
                }
                QString rounds;
                for (int r : c->sourceRounds)
                    rounds += (rounds.isEmpty() ? QString() : QStringLiteral(" ")) + QString::number(r);
                const QStringList csvHead = {QString::fromStdString(model), QString::fromStdString(c->source),
                                             fig::csvNumber(c->sparsity),   rounds,
                                             QString::fromStdString(dst),   fig::csvNumber(c->transferMetric)};
                if (c->fullSeeds == 0) { // no full-model result on the target: no delta to show
                    p.values.push_back(std::nan(""));
                    p.notes.emplace_back();
                    latexRow += QStringLiteral(" & n/a");
                    f.csv += fig::csvRow(csvHead + QStringList{{}, {}, {}, {}, QString::number(c->runs)});
                    continue;
                }
                p.values.push_back(c->delta);
                p.notes.push_back(c->atLeastOwnTicket ? QStringLiteral("*") : QString());
                extent = std::max(extent, std::abs(c->delta));
                latexRow += QStringLiteral(" & $%1%2$%3")
                                .arg(c->delta >= 0 ? QStringLiteral("+") : QString())
                                .arg(c->delta, 0, 'f', 3)
                                .arg(c->atLeastOwnTicket ? QStringLiteral("$^{*}$") : QString());
                f.csv += fig::csvRow(csvHead + QStringList{fig::csvNumber(c->fullMean), fig::csvNumber(c->delta),
                                                           c->ownTicket ? fig::csvNumber(*c->ownTicket) : QString(),
                                                           QString::number(c->atLeastOwnTicket ? 1 : 0),
                                                           QString::number(c->runs)});
            }
            latexRows += latexRow + QStringLiteral(" \\\\\n");
        }
        f.heatmaps.push_back(std::move(p));
    }
    for (HeatmapPanel &p : f.heatmaps) { // one colour scale for all panels
        p.vmin = -extent;
        p.vmax = extent;
    }
    QString header = QStringLiteral("Source @ sparsity $\\downarrow$ / target $\\rightarrow$");
    for (const std::string &s : t.targets)
        header += QStringLiteral(" & ") + fig::latexText(QString::fromStdString(s));
    f.latex =
        QStringLiteral("%% %1 of the transferred ticket minus the full model's on the target; * = at least the "
                       "target's own IMP ticket\n\\begin{tabular}{l%2}\n\\toprule\n%3 \\\\\n\\midrule\n%4"
                       "\\bottomrule\n\\end{tabular}\n")
            .arg(fig::latexText(request.metric), QString(int(t.targets.size()), QLatin1Char('r')), header, latexRows);
    return f;
}

} // namespace tl::ui
