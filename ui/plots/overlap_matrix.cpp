// overlap-matrix: IoU of the surviving weights between runs' masks, with the chance level.

#include "analysis/analysis.h"
#include "plots/figures_p.h"

namespace tl::ui {

Figure buildOverlapMatrix(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    f.csv = QStringLiteral("run_a,label_a,round_a,sparsity_a,run_b,label_b,round_b,sparsity_b,iou,chance_iou\n");
    const auto runs = fig::masksRuns(store, request, 8);
    if (runs.size() < 2) {
        f.title = QStringLiteral("Mask overlap");
        f.note = QStringLiteral("Overlap needs at least two runs with masks.");
        return f;
    }
    std::vector<int64_t> ids;
    std::vector<int> rounds;
    for (const RunRecord &run : runs) {
        ids.push_back(run.id);
        rounds.push_back(fig::roundFor(store, run, request.round));
        const int last = fig::roundFor(store, run, -1);
        f.maxRound = f.maxRound < 0 ? last : std::min(f.maxRound, last);
    }
    // Masks of different sparsities overlap less by construction: by default every run's round
    // nearest the highest sparsity all of them reached.
    std::optional<CommonSparsity> common;
    if (request.round < 0) {
        common = commonSparsityRounds(store, ids);
        rounds = common->rounds;
    }
    const OverlapMatrix m = overlapMatrix(store, ids, rounds);
    f.title = QStringLiteral("Mask overlap (IoU of surviving weights; chance level in the CSV)");
    HeatmapPanel p;
    p.title = common ? QStringLiteral("At a common sparsity of %1% (each run's nearest round)")
                           .arg(common->target * 100, 0, 'f', 1)
                     : QStringLiteral("Round %1").arg(request.round);
    p.xLabel = QString();
    p.yLabel = QString();
    p.colorLabel = QStringLiteral("IoU");
    QStringList labels;
    for (size_t i = 0; i < runs.size(); ++i)
        labels << QString::fromStdString(m.labels[i]);
    p.xTicks = labels;
    p.yTicks = labels;
    const size_t n = runs.size();
    QString latexRows;
    for (size_t a = 0; a < n; ++a) {
        QString row = fig::latexText(labels[int(a)]);
        for (size_t b = 0; b < n; ++b) {
            p.values.push_back(m.iou[a][b]);
            row += QStringLiteral(" & %1 (%2)").arg(m.iou[a][b], 0, 'f', 2).arg(m.chance[a][b], 0, 'f', 2);
            f.csv += fig::csvRow({QString::number(runs[a].id), fig::runLabel(runs[a]), QString::number(rounds[a]),
                                  fig::csvNumber(m.sparsities[a]), QString::number(runs[b].id), fig::runLabel(runs[b]),
                                  QString::number(rounds[b]), fig::csvNumber(m.sparsities[b]),
                                  fig::csvNumber(m.iou[a][b]), fig::csvNumber(m.chance[a][b])});
        }
        latexRows += row + QStringLiteral(" \\\\\n");
    }
    p.vmin = 0;
    p.vmax = 1;
    f.heatmaps.push_back(std::move(p));
    QString header;
    for (const QString &l : labels)
        header += QStringLiteral(" & ") + fig::latexText(l);
    f.latex = QStringLiteral("%% IoU of surviving weights (chance level for random masks of the same per-tensor "
                             "sparsities in parentheses)\n\\begin{tabular}{l%1}\n\\toprule\n%2 \\\\\n\\midrule\n%3"
                             "\\bottomrule\n\\end{tabular}\n")
                  .arg(QString(int(n), QLatin1Char('r')), header, latexRows);
    return f;
}

} // namespace tl::ui
