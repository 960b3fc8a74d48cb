// metric-vs-sparsity: per task, the dev metric of every method at each sparsity (mean with a
// ±std band over seeds), the full model's mean ± std, the winning ticket marked.

#include <iterator>
#include <map>
#include <set>
#include <tuple>

#include <cmath>

#include "analysis/tickets.h"
#include "plots/figures_p.h"
#include "prune/prune_order.h"
#include "train/metrics.h"
#include "util/error.h"

namespace tl::ui {

namespace {

/// One colour per method, the same in every panel and figure.
QColor kindColor(RunKind kind)
{
    switch (kind) {
    case RunKind::Imp:
        return QColor(0x1f, 0x77, 0xb4);
    case RunKind::Random:
        return QColor(0xff, 0x7f, 0x0e);
    case RunKind::Reinit:
        return QColor(0xd6, 0x27, 0x28);
    case RunKind::Shuffle:
        return QColor(0x94, 0x67, 0xbd);
    case RunKind::Standard:
        return QColor(0x2c, 0xa0, 0x2c);
    case RunKind::Oneshot:
        return QColor(0x8c, 0x56, 0x4b);
    default:
        return QColor(0xe3, 0x77, 0xc2); // transfers
    }
}

/// The runs of one method in one panel, and what analysis makes of them.
struct Series
{
    RunKind kind = RunKind::Imp;
    std::string label;
    std::vector<RunRecord> runs;
    std::vector<SparsityPoint> points;
};

} // namespace

Figure buildMetricVsSparsity(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    const std::string metricKey = request.metric.toStdString();
    requireStoredMetric(store, metricKey);
    const QString metric = metricKey == kMainMetric ? QStringLiteral("metric") : request.metric;
    if (!xAxes().contains(request.xAxis))
        throw Error("unknown x axis '" + request.xAxis.toStdString() + "' (" +
                    xAxes().join(QStringLiteral(", ")).toStdString() + ")");
    const bool headsAxis = request.xAxis == QLatin1String("heads");
    f.title = QStringLiteral("Dev %1 versus %2")
                  .arg(metric, headsAxis ? QStringLiteral("heads removed") : QStringLiteral("sparsity"));
    f.csv = QStringLiteral("model,task,method,sparsity,mean,std,seeds,heads_removed\n");
    // The fraction of heads removed whole at a series' sparsity (x of the heads axis): from the
    // mask of the first of its runs that has a round there. Masks are decoded once per run.
    std::map<int64_t, PruneOrder> orders;
    const auto headsRemovedAt = [&](const std::vector<RunRecord> &runs, double sparsity) {
        for (const RunRecord &run : runs)
            for (const RoundRecord &rec : store.rounds(run.id)) {
                if (sparsityKey(rec.sparsity) != sparsityKey(sparsity))
                    continue;
                const HeadLayout layout = storedHeadLayout(store, run.id);
                if (layout.heads <= 0)
                    continue;
                auto it = orders.find(run.id);
                if (it == orders.end())
                    it = orders.emplace(run.id, storedPruneOrder(store, run.id)).first;
                if (rec.round > it->second.rounds())
                    continue;
                // Of the model's original heads: a compacted model's missing ones count as removed.
                return headsRemovedFraction(headSurvival(it->second.maskAt(rec.round), layout));
            }
        return std::nan("");
    };
    std::set<qint64> wanted(request.runs.begin(), request.runs.end());
    const std::map<int64_t, std::string> models = modelLabels(store);
    // One panel per (model, task): two models' baselines never mix. Series by key: the kind's
    // name, or "transfer from TASK".
    using Group = std::tuple<std::string, int64_t, std::string>; // (model label, model id, task)
    std::map<Group, std::map<std::string, Series>> data;
    // The full model each panel is read against: the requested full runs of its (model, task),
    // else every full run of it in the lab (the runs a chosen set was meant to be compared with
    // may live beside other studies' runs: a study's report passes its own).
    std::map<std::pair<int64_t, std::string>, std::vector<RunRecord>> requestedFull, labFull;
    for (const RunRecord &run : store.runs()) {
        if (run.kind == RunKind::Full) {
            labFull[{run.modelId, run.task}].push_back(run);
            if (wanted.count(run.id))
                requestedFull[{run.modelId, run.task}].push_back(run);
        }
        if (!wanted.empty() && !wanted.count(run.id))
            continue;
        if (run.kind == RunKind::Full || run.kind == RunKind::Import)
            continue;
        std::string key = runKindName(run.kind), label = runKindLabel(run.kind);
        if (run.kind == RunKind::Transfer) {
            std::string from = "file";
            if (auto t = store.transfer(run.id); t && t->sourceRunId)
                if (auto src = store.run(t->sourceRunId))
                    from = src->task;
            key = "transfer from " + from;
            label = "mask from " + from;
        }
        Series &s = data[{models.at(run.modelId), run.modelId, run.task}][key];
        s.kind = run.kind;
        s.label = label;
        s.runs.push_back(run);
    }
    // Grouping by sparsity and mean +- std over seeds: analysis's, as the tickets' own.
    for (auto g = data.begin(); g != data.end();) {
        for (auto it = g->second.begin(); it != g->second.end();) {
            it->second.points = sparsityPoints(store, it->second.runs, metricKey);
            it = it->second.points.empty() ? g->second.erase(it) : std::next(it);
        }
        g = g->second.empty() ? data.erase(g) : std::next(g);
    }
    if (data.empty()) {
        f.note = QStringLiteral("No finished rounds yet.");
        return f;
    }
    std::set<std::string> modelsShown;
    for (const auto &[group, bySeries] : data)
        modelsShown.insert(std::get<0>(group));
    auto groupName = [&](const Group &g) {
        const QString task = QString::fromStdString(std::get<2>(g));
        return modelsShown.size() > 1 ? task + QStringLiteral(" \u2014 ") + QString::fromStdString(std::get<0>(g))
                                      : task;
    };
    std::set<long long> allSparsities;
    for (const auto &[group, bySeries] : data) {
        const auto &[model, modelId, task] = group;
        // The ticket of the panel's own IMP runs (not of every IMP run of the task in the lab).
        const auto imp = bySeries.find(runKindName(RunKind::Imp));
        const auto requested = requestedFull.find({modelId, task});
        const TicketSummary tickets =
            summarizeTicketRuns(store, imp == bySeries.end() ? std::vector<RunRecord>{} : imp->second.runs,
                                requested != requestedFull.end() ? requested->second : labFull[{modelId, task}],
                                request.criterion.toStdString(), metricKey);
        LinePanel p;
        p.title = groupName(group);
        p.xLabel = headsAxis ? QStringLiteral("Attention heads removed whole (%)")
                             : QStringLiteral("Sparsity (% of prunable weights removed)");
        p.yLabel = QStringLiteral("Dev %1").arg(QString::fromStdString(metricDisplayName(task, metricKey)));
        p.xPercent = true;
        if (tickets.fullSeeds > 0) {
            p.refMean = tickets.fullMean;
            p.refStd = tickets.fullStd;
            p.refLabel = QStringLiteral("full model (mean \u00b1 std, n=%1)").arg(tickets.fullSeeds);
        }
        for (const auto &[key, series] : bySeries) {
            LineSeries s;
            s.name = QString::fromStdString(series.label);
            s.dashed = series.kind != RunKind::Imp;
            for (const SparsityPoint &pt : series.points) {
                const double heads = headsAxis ? headsRemovedAt(series.runs, pt.sparsity) : std::nan("");
                s.x.push_back(headsAxis ? heads : pt.sparsity);
                s.y.push_back(pt.mean);
                s.lo.push_back(pt.mean - pt.std);
                s.hi.push_back(pt.mean + pt.std);
                allSparsities.insert(sparsityKey(pt.sparsity));
                f.csv += fig::csvRow({QString::fromStdString(model), QString::fromStdString(task), s.name,
                                      fig::csvNumber(pt.sparsity), fig::csvNumber(pt.mean), fig::csvNumber(pt.std),
                                      QString::number(pt.seeds), fig::csvNumber(heads)});
            }
            s.color = kindColor(series.kind);
            p.series.push_back(std::move(s));
        }
        if (tickets.winningSparsity && !headsAxis) {
            for (const SparsityPoint &pt : tickets.points)
                if (sparsityKey(pt.sparsity) == sparsityKey(*tickets.winningSparsity))
                    p.marks.push_back({pt.sparsity, pt.mean,
                                       QStringLiteral("winning ticket (%1%)").arg(pt.sparsity * 100, 0, 'f', 1),
                                       QColor(0x20, 0x20, 0x20)});
        }
        f.lines.push_back(std::move(p));
    }
    // Results table (booktabs): rows task x method, columns sparsities.
    QString header = QStringLiteral("Task & Method");
    for (long long sp : allSparsities)
        header += QStringLiteral(" & %1\\%").arg(sparsityOfKey(sp) * 100, 0, 'f', 1);
    QString latexRows;
    for (const auto &[group, bySeries] : data) {
        for (const auto &[key, series] : bySeries) {
            QString row = fig::latexText(groupName(group)) + QStringLiteral(" & ") +
                          fig::latexText(QString::fromStdString(series.label));
            std::map<long long, const SparsityPoint *> at;
            for (const SparsityPoint &pt : series.points)
                at[sparsityKey(pt.sparsity)] = &pt;
            for (long long sp : allSparsities) {
                const auto it = at.find(sp);
                if (it == at.end())
                    row += QStringLiteral(" & --");
                else if (it->second->seeds > 1)
                    row += QStringLiteral(" & $%1 \\pm %2$")
                               .arg(it->second->mean, 0, 'f', 3)
                               .arg(it->second->std, 0, 'f', 3);
                else
                    row += QStringLiteral(" & %1").arg(it->second->mean, 0, 'f', 3);
            }
            latexRows += row + QStringLiteral(" \\\\\n");
        }
    }
    f.latex = QStringLiteral("\\begin{tabular}{ll%1}\n\\toprule\n%2 \\\\\n\\midrule\n%3\\bottomrule\n\\end{tabular}\n")
                  .arg(QString(int(allSparsities.size()), QLatin1Char('r')), header, latexRows);
    return f;
}

} // namespace tl::ui
