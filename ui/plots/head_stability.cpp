// head-stability: for a set of runs (say, each task's ticket), how many of them keep each
// attention head (Prasanna et al. 2020's stability question), layers x heads, with the runs
// that keep a head in its tooltip. A head counts as kept when any of its weights survive for a
// structured mask (some head removed whole), else when more than the alive threshold do.
// head-importance: head-survival in its importance mode.

#include <map>
#include <set>

#include "analysis/analysis.h"
#include "plots/figures_p.h"
#include "util/error.h"

namespace tl::ui {

Figure buildHeadImportance(const ExperimentStore &store, const FigureRequest &request)
{
    FigureRequest r = request;
    r.headMode = QStringLiteral("importance");
    return buildHeadSurvival(store, r);
}

Figure buildHeadStability(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    f.title = QStringLiteral("Heads kept across runs (alive: above %1 of its weights, or not removed whole)")
                  .arg(request.headThreshold);
    f.csv = QStringLiteral("layer,head,kept_by,runs,kept_by_runs\n");
    std::vector<RunRecord> runs;
    if (!request.runs.isEmpty()) {
        runs = fig::masksRuns(store, request, 0);
    } else {
        // Each task's newest finished IMP run, of the newest such run's model.
        std::set<std::string> tasks;
        int64_t model = -1;
        for (const RunRecord &r : store.runs()) {
            if (r.kind != RunKind::Imp || r.status != "done" || storedMaskRounds(store, r.id) < 1)
                continue;
            if (model < 0)
                model = r.modelId;
            if (r.modelId == model && tasks.insert(r.task).second)
                runs.push_back(r);
        }
    }
    if (runs.size() < 2) {
        f.note = QStringLiteral("Select two or more runs with masks (one per task): the view counts how many keep "
                                "each head.");
        return f;
    }
    int layers = 0, heads = 0;
    std::vector<std::vector<QStringList>> keptBy; // [layer][head] -> run labels
    for (const RunRecord &run : runs) {
        const int round = fig::roundFor(store, run, request.round);
        const int last = fig::roundFor(store, run, -1);
        f.maxRound = f.maxRound < 0 ? last : std::min(f.maxRound, last);
        const HeadLayout layout = storedHeadLayout(store, run.id);
        if (layout.heads <= 0)
            throw Error(store.path() + ": run " + std::to_string(run.id) +
                        " has no stored model config, so its number of heads is unknown");
        const auto survival = headSurvival(storedMask(store, run.id, round), layout);
        // A structured mask removes whole heads (no weight left): then alive means any weight
        // left; otherwise the surviving fraction above the threshold.
        const bool structured = std::any_of(survival.begin(), survival.end(),
                                            [](const HeadSurvival &s) { return !s.removed && s.kept == 0; });
        for (const HeadSurvival &s : survival) {
            layers = std::max(layers, s.layer + 1);
            heads = std::max(heads, s.head + 1);
        }
        keptBy.resize(size_t(layers), std::vector<QStringList>(size_t(heads)));
        const QString label = fig::runLabel(run) + QStringLiteral(" r%1").arg(round);
        for (const HeadSurvival &s : survival) {
            const bool alive = !s.removed && (structured ? s.kept > 0 : s.fraction() > request.headThreshold);
            if (alive)
                keptBy[size_t(s.layer)][size_t(s.head)] << label;
        }
    }
    HeatmapPanel p;
    // The runs by name in the CSV and the cells' tooltips; a title of several labels overflows.
    p.title = QStringLiteral("Runs keeping each head (of %1)").arg(runs.size());
    p.xLabel = QStringLiteral("Head");
    p.yLabel = QStringLiteral("Layer");
    p.colorLabel = QStringLiteral("Runs keeping the head");
    p.valueDecimals = 0;
    p.vmin = 0;
    p.vmax = double(runs.size());
    for (int h = 0; h < heads; ++h)
        p.xTicks << QString::number(h);
    for (int l = 0; l < layers; ++l)
        p.yTicks << QString::number(l);
    for (int l = 0; l < layers; ++l)
        for (int h = 0; h < heads; ++h) {
            const QStringList &by = keptBy[size_t(l)][size_t(h)];
            p.values.push_back(double(by.size()));
            p.tooltips.push_back(by.isEmpty() ? QStringLiteral("kept by none")
                                              : QStringLiteral("kept by ") + by.join(QStringLiteral(", ")));
            f.csv += fig::csvRow({QString::number(l), QString::number(h), QString::number(by.size()),
                                  QString::number(runs.size()), by.join(QStringLiteral("; "))});
        }
    f.heatmaps.push_back(std::move(p));
    return f;
}

} // namespace tl::ui
