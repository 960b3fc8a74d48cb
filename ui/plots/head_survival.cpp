// head-survival: layers x heads, surviving fraction of each attention head's weights.

#include "analysis/analysis.h"
#include "plots/figures_p.h"
#include "util/error.h"

namespace tl::ui {

HeatmapPanel headSurvivalPanel(const std::vector<HeadSurvival> &heads, const QString &title, double threshold)
{
    HeatmapPanel p;
    int layers = 0, perLayer = 0;
    for (const HeadSurvival &h : heads) {
        layers = std::max(layers, h.layer + 1);
        perLayer = std::max(perLayer, h.head + 1);
    }
    const int alive = aliveHeads(heads, threshold);
    p.title = title + QStringLiteral(": %1/%2 heads alive").arg(alive).arg(int(heads.size()));
    p.xLabel = QStringLiteral("Head");
    p.yLabel = QStringLiteral("Layer");
    p.colorLabel = QStringLiteral("Surviving fraction");
    for (int h = 0; h < perLayer; ++h)
        p.xTicks << QString::number(h);
    for (int l = 0; l < layers; ++l)
        p.yTicks << QString::number(l);
    p.values.assign(size_t(layers * perLayer), std::nan(""));
    p.notes.assign(p.values.size(), QString());
    for (const HeadSurvival &h : heads) {
        const size_t i = size_t(h.layer * perLayer + h.head);
        p.values[i] = h.fraction();
        if (h.fraction() <= threshold)
            p.notes[i] = QStringLiteral("\u2020"); // dead
    }
    return p;
}

Figure buildHeadSurvival(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    f.title = QStringLiteral("Attention-head survival (alive above %1; \u2020 = dead)").arg(request.headThreshold);
    f.csv = QStringLiteral("run,label,round,layer,head,total,kept,fraction,alive\n");
    const auto runs = fig::masksRuns(store, request, 1);
    if (runs.empty()) {
        f.note = QStringLiteral("No run with masks yet: start an IMP run.");
        return f;
    }
    for (const RunRecord &run : runs) {
        const int round = fig::roundFor(store, run, request.round);
        f.maxRound =
            f.maxRound < 0 ? fig::roundFor(store, run, -1) : std::min(f.maxRound, fig::roundFor(store, run, -1));
        const int heads = storedHeadCount(store, run.id);
        if (heads <= 0)
            throw Error(store.path() + ": run " + std::to_string(run.id) +
                        " has no stored model config, so its number of heads is unknown");
        const auto survival = headSurvival(storedMask(store, run.id, round), heads);
        for (const HeadSurvival &h : survival)
            f.csv += fig::csvRow({QString::number(run.id), fig::runLabel(run), QString::number(round),
                                  QString::number(h.layer), QString::number(h.head), QString::number(h.total),
                                  QString::number(h.kept), fig::csvNumber(h.fraction()),
                                  QString::number(h.fraction() > request.headThreshold ? 1 : 0)});
        f.heatmaps.push_back(headSurvivalPanel(survival, fig::runLabel(run) + QStringLiteral(", round %1").arg(round),
                                               request.headThreshold));
    }
    return f;
}

} // namespace tl::ui
