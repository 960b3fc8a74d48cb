// head-survival: layers x heads, surviving fraction of each attention head's weights.

#include <algorithm>
#include <cmath>
#include <map>

#include "analysis/analysis.h"
#include "analysis/structure.h"
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
    // Two lines: side-by-side panels of a figure are narrow.
    p.title = title + QStringLiteral("\n%1/%2 heads alive").arg(alive).arg(int(heads.size()));
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
        if (h.removed) {
            p.notes[i] = QStringLiteral("\u00d7"); // not in the (compacted) model: no value
            continue;
        }
        p.values[i] = h.fraction();
        if (h.fraction() <= threshold)
            p.notes[i] = QStringLiteral("\u2020"); // dead
    }
    return p;
}

namespace {

/// The importance to show for a run's round: stored with the run at that round or the latest
/// round before it (a structured run scores after each round), else the newest stored for the
/// run's model and task (analyze head-importance --db). Sets `source` to say which.
std::optional<UnitImportance> importanceFor(const ExperimentStore &store, const RunRecord &run, int round,
                                            QString *source)
{
    std::optional<AnalysisRecord> latest; // by round: the last at or before `round`
    for (const AnalysisRecord &a : store.runAnalyses(run.id, kHeadImportanceAnalysis))
        if (a.round <= round)
            latest = a;
    if (latest) {
        *source = QStringLiteral("scored after round %1").arg(latest->round);
        return UnitImportance::fromJson(nlohmann::json::parse(latest->resultJson, nullptr, false),
                                        store.path() + ": analysis " + std::to_string(latest->id));
    }
    for (const AnalysisRecord &a : store.analyses(kHeadImportanceAnalysis))
        if (a.runId == 0 && a.modelId == run.modelId && a.task == run.task) {
            *source = QStringLiteral("analysis %1 of the model").arg(a.id);
            return UnitImportance::fromJson(nlohmann::json::parse(a.resultJson, nullptr, false),
                                            store.path() + ": analysis " + std::to_string(a.id));
        }
    return std::nullopt;
}

/// A layers x heads panel of values (NaN: none) in the head-survival layout.
HeatmapPanel gridPanel(int layers, int heads, const QString &title, const QString &colorLabel)
{
    HeatmapPanel p;
    p.title = title;
    p.xLabel = QStringLiteral("Head");
    p.yLabel = QStringLiteral("Layer");
    p.colorLabel = colorLabel;
    for (int h = 0; h < heads; ++h)
        p.xTicks << QString::number(h);
    for (int l = 0; l < layers; ++l)
        p.yTicks << QString::number(l);
    p.values.assign(size_t(layers * heads), std::nan(""));
    p.notes.assign(p.values.size(), QString());
    return p;
}

} // namespace

Figure buildHeadSurvival(const ExperimentStore &store, const FigureRequest &request)
{
    const QString mode = request.headMode;
    if (!headModes().contains(mode))
        throw Error("unknown head-survival mode '" + mode.toStdString() + "' (" +
                    headModes().join(QStringLiteral(", ")).toStdString() + ")");
    Figure f;
    if (mode == QLatin1String("fraction"))
        f.title = QStringLiteral("Attention-head survival (alive above %1; \u2020 = dead)").arg(request.headThreshold);
    else if (mode == QLatin1String("relative"))
        f.title = QStringLiteral("Head survival relative to its layer (1 = the head kept the layer's share)");
    else if (mode == QLatin1String("importance"))
        f.title = QStringLiteral("Head importance (Michel et al.: E|dL/d\u03be|, per layer L2-normalised)");
    else
        f.title = QStringLiteral("Head structure (\u2020 = removed whole: no weight of the head left)");
    f.csv = QStringLiteral("run,label,round,layer,head,total,kept,fraction,value\n");
    const auto runs = fig::masksRuns(store, request, 1);
    if (runs.empty()) {
        f.note = QStringLiteral("No run with masks yet: start an IMP run.");
        return f;
    }
    QStringList missing;
    for (const RunRecord &run : runs) {
        const int round = fig::roundFor(store, run, request.round);
        f.maxRound =
            f.maxRound < 0 ? fig::roundFor(store, run, -1) : std::min(f.maxRound, fig::roundFor(store, run, -1));
        const HeadLayout layout = storedHeadLayout(store, run.id);
        const int heads = layout.heads;
        if (heads <= 0)
            throw Error(store.path() + ": run " + std::to_string(run.id) +
                        " has no stored model config, so its number of heads is unknown");
        const MaskSet mask = storedMask(store, run.id, round);
        const auto survival = headSurvival(mask, layout);
        // A compacted model's heads: × where the model itself has none.
        const auto markRemoved = [&](HeatmapPanel &p) {
            for (size_t i = 0; i < survival.size(); ++i)
                if (survival[i].removed)
                    p.notes[i] = QStringLiteral("\u00d7");
        };
        const QString title = fig::maskTitle(run, round, mask);
        int layers = 0;
        for (const HeadSurvival &h : survival)
            layers = std::max(layers, h.layer + 1);
        std::vector<double> values(survival.size(), std::nan(""));
        if (mode == QLatin1String("fraction")) {
            f.heatmaps.push_back(headSurvivalPanel(survival, title, request.headThreshold));
            for (size_t i = 0; i < survival.size(); ++i)
                if (!survival[i].removed)
                    values[i] = survival[i].fraction();
        } else if (mode == QLatin1String("relative")) {
            std::map<int, std::pair<int64_t, int64_t>> density; // layer -> (kept, total)
            for (const LayerSparsity &e : layerSparsity(mask))
                if (e.layer >= 0) {
                    density[e.layer].first += e.total - e.pruned;
                    density[e.layer].second += e.total;
                }
            HeatmapPanel p = gridPanel(layers, heads, title, QStringLiteral("Fraction / layer density"));
            double top = 2;
            for (size_t i = 0; i < survival.size(); ++i) {
                const auto &[kept, total] = density[survival[i].layer];
                if (kept > 0 && total > 0 && !survival[i].removed) {
                    values[i] = survival[i].fraction() / (double(kept) / double(total));
                    p.values[i] = values[i];
                    top = std::max(top, values[i]);
                }
            }
            p.vmax = std::ceil(top);
            markRemoved(p);
            f.heatmaps.push_back(std::move(p));
        } else if (mode == QLatin1String("importance")) {
            QString source;
            const auto imp = importanceFor(store, run, round, &source);
            if (!imp || int(imp->heads.size()) != layers) {
                missing << fig::runLabel(run);
                continue;
            }
            HeatmapPanel p = gridPanel(layers, heads, title + QStringLiteral(" (") + source + QLatin1Char(')'),
                                       QStringLiteral("Importance"));
            p.valueDecimals = 3;
            // Scores are per head the model has: a compacted layer's k-th score is its k-th
            // remaining head.
            int lastLayer = -1;
            size_t k = 0;
            for (size_t i = 0; i < survival.size(); ++i) {
                if (survival[i].layer != lastLayer) {
                    lastLayer = survival[i].layer;
                    k = 0;
                }
                if (survival[i].removed)
                    continue;
                const auto &row = imp->heads[size_t(survival[i].layer)];
                if (k < row.size()) {
                    values[i] = row[k];
                    p.values[i] = values[i];
                }
                ++k;
            }
            markRemoved(p);
            f.heatmaps.push_back(std::move(p));
        } else {
            // Alive: any weight of the head left (what maskStructure counts), in a model that
            // still has it.
            const auto alive = [&](const HeadSurvival &h) { return !h.removed && h.kept > 0; };
            const auto aliveCount = std::count_if(survival.begin(), survival.end(), alive);
            HeatmapPanel p = gridPanel(
                layers, heads, title + QStringLiteral(": %1/%2 heads alive").arg(aliveCount).arg(survival.size()),
                QStringLiteral("Alive (1) or removed (0)"));
            p.valueDecimals = 0;
            for (size_t i = 0; i < survival.size(); ++i) {
                values[i] = alive(survival[i]) ? 1 : 0;
                p.values[i] = values[i];
                if (!alive(survival[i]))
                    p.notes[i] = QStringLiteral("\u2020");
            }
            markRemoved(p);
            f.heatmaps.push_back(std::move(p));
        }
        for (size_t i = 0; i < survival.size(); ++i) {
            const HeadSurvival &h = survival[i];
            f.csv += fig::csvRow({QString::number(run.id), fig::runLabel(run), QString::number(round),
                                  QString::number(h.layer), QString::number(h.head), QString::number(h.total),
                                  QString::number(h.kept), fig::csvNumber(h.fraction()), fig::csvNumber(values[i])});
        }
    }
    if (f.heatmaps.empty())
        f.note =
            QStringLiteral("No head importance stored for %1: structured runs (prune.method heads) store it "
                           "after each round; for any model, ticketlab-cli analyze head-importance ... --db LAB.db.")
                .arg(missing.join(QStringLiteral(", ")));
    return f;
}

} // namespace tl::ui
