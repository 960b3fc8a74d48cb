// metric-vs-sparsity: per task, the dev metric of every method at each sparsity (mean with a
// ±std band over seeds), the full model's mean ± std, the winning ticket marked.

#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "analysis/tickets.h"
#include "plots/figures_p.h"

namespace tl::ui {

namespace {

struct Cell
{
    std::vector<double> values;
};

QString kindLabel(const std::string &kind)
{
    if (kind == "imp")
        return QStringLiteral("IMP");
    if (kind == "random")
        return QStringLiteral("random pruning");
    if (kind == "reinit")
        return QStringLiteral("IMP mask, random init");
    if (kind == "shuffle")
        return QStringLiteral("IMP mask, shuffled");
    if (kind == "standard")
        return QStringLiteral("standard pruning");
    if (kind == "oneshot")
        return QStringLiteral("one-shot magnitude");
    return QString::fromStdString(kind);
}

/// One colour per method, the same in every panel and figure.
QColor kindColor(const std::string &key)
{
    if (key == "imp")
        return QColor(0x1f, 0x77, 0xb4);
    if (key == "random")
        return QColor(0xff, 0x7f, 0x0e);
    if (key == "reinit")
        return QColor(0xd6, 0x27, 0x28);
    if (key == "shuffle")
        return QColor(0x94, 0x67, 0xbd);
    if (key == "standard")
        return QColor(0x2c, 0xa0, 0x2c);
    if (key == "oneshot")
        return QColor(0x8c, 0x56, 0x4b);
    return QColor(0xe3, 0x77, 0xc2); // transfers
}

} // namespace

Figure buildMetricVsSparsity(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    requireStoredMetric(store, request.metric.toStdString());
    const QString metric = request.metric == QLatin1String("main") ? QStringLiteral("metric") : request.metric;
    f.title = QStringLiteral("Dev %1 versus sparsity").arg(metric);
    f.csv = QStringLiteral("model,task,method,sparsity,mean,std,seeds\n");
    std::set<qint64> wanted(request.runs.begin(), request.runs.end());
    const std::map<int64_t, std::string> models = modelLabels(store);
    // One panel per (model, task): two models' baselines never mix.
    // (model label, model id, task) -> series key -> sparsityKey -> values
    using Group = std::tuple<std::string, int64_t, std::string>;
    std::map<Group, std::map<std::string, std::map<long long, Cell>>> data;
    std::map<std::string, std::string> labels;
    for (const RunRecord &run : store.runs()) {
        if (!wanted.empty() && !wanted.count(run.id))
            continue;
        if (run.kind == "full" || run.kind == "import")
            continue;
        std::string key = run.kind;
        if (run.kind == "transfer") {
            std::string from = "file";
            if (auto t = store.transfer(run.id); t && t->sourceRunId)
                if (auto src = store.run(t->sourceRunId))
                    from = src->task;
            key = "transfer from " + from;
            labels[key] = "mask from " + from;
        } else {
            labels[key] = kindLabel(run.kind).toStdString();
        }
        for (const RoundRecord &r : store.rounds(run.id)) {
            if (auto v = fig::devMetric(r, request.metric))
                data[{models.at(run.modelId), run.modelId, run.task}][key][sparsityKey(r.sparsity)].values.push_back(
                    *v);
        }
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
    auto sparsityOf = [](long long key) { return double(key) / 1e9; };
    std::set<long long> allSparsities;
    QString latexRows;
    for (const auto &[group, bySeries] : data) {
        const auto &[model, modelId, task] = group;
        const TicketSummary tickets =
            summarizeTickets(store, modelId, task, "imp", "within_std", request.metric.toStdString());
        LinePanel p;
        p.title = groupName(group);
        p.xLabel = QStringLiteral("Sparsity (% of prunable weights removed)");
        p.yLabel = QStringLiteral("Dev %1").arg(metric);
        p.xPercent = true;
        if (tickets.fullSeeds > 0) {
            p.refMean = tickets.fullMean;
            p.refStd = tickets.fullStd;
            p.refLabel = QStringLiteral("full model (mean \u00b1 std, n=%1)").arg(tickets.fullSeeds);
        }
        for (const auto &[key, bySparsity] : bySeries) {
            LineSeries s;
            s.name = QString::fromStdString(labels[key]);
            s.dashed = key != "imp";
            for (const auto &[sp, cell] : bySparsity) {
                const auto [mean, sd] = meanStd(cell.values);
                s.x.push_back(sparsityOf(sp));
                s.y.push_back(mean);
                s.lo.push_back(mean - sd);
                s.hi.push_back(mean + sd);
                allSparsities.insert(sp);
                f.csv += QStringLiteral("%1,%2,%3,%4,%5,%6,%7\n")
                             .arg(fig::csvField(QString::fromStdString(model)),
                                  fig::csvField(QString::fromStdString(task)), fig::csvField(s.name),
                                  fig::csvNumber(sparsityOf(sp)), fig::csvNumber(mean), fig::csvNumber(sd))
                             .arg(cell.values.size());
            }
            s.color = kindColor(key);
            p.series.push_back(std::move(s));
        }
        if (tickets.winningSparsity) {
            for (const SparsityPoint &pt : tickets.points)
                if (std::abs(pt.sparsity - *tickets.winningSparsity) < 1e-9)
                    p.marks.push_back({pt.sparsity, pt.mean,
                                       QStringLiteral("winning ticket (%1%)").arg(pt.sparsity * 100, 0, 'f', 1),
                                       QColor(0x20, 0x20, 0x20)});
        }
        f.lines.push_back(std::move(p));
    }
    // Results table (booktabs): rows task x method, columns sparsities.
    QString header = QStringLiteral("Task & Method");
    for (long long sp : allSparsities)
        header += QStringLiteral(" & %1\\%").arg(sparsityOf(sp) * 100, 0, 'f', 1);
    for (const auto &[group, bySeries] : data) {
        for (const auto &[key, bySparsity] : bySeries) {
            QString row = fig::latexText(groupName(group)) + QStringLiteral(" & ") +
                          fig::latexText(QString::fromStdString(labels[key]));
            for (long long sp : allSparsities) {
                auto it = bySparsity.find(sp);
                if (it == bySparsity.end()) {
                    row += QStringLiteral(" & --");
                    continue;
                }
                const auto [mean, sd] = meanStd(it->second.values);
                row += it->second.values.size() > 1
                           ? QStringLiteral(" & $%1 \\pm %2$").arg(mean, 0, 'f', 3).arg(sd, 0, 'f', 3)
                           : QStringLiteral(" & %1").arg(mean, 0, 'f', 3);
            }
            latexRows += row + QStringLiteral(" \\\\\n");
        }
    }
    f.latex = QStringLiteral("\\begin{tabular}{ll%1}\n\\toprule\n%2 \\\\\n\\midrule\n%3\\bottomrule\n\\end{tabular}\n")
                  .arg(QString(int(allSparsities.size()), QLatin1Char('r')), header, latexRows);
    return f;
}

} // namespace tl::ui
