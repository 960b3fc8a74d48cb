#include "study/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "analysis/analysis.h"
#include "analysis/tickets.h"
#include "prune/prune_order.h"
#include "store/experiment_store.h"
#include "util/csv.h"
#include "util/error.h"
#include "util/fileio.h"

namespace fs = std::filesystem;

namespace tl {
namespace {

Cell cellOf(const std::vector<double> &values)
{
    Cell c;
    c.n = static_cast<int>(values.size());
    if (c.n) {
        const auto [m, s] = meanStd(values);
        c.mean = m;
        c.std = s;
    }
    return c;
}

Cell pointAt(const TicketSummary &s, double sparsity)
{
    for (const SparsityPoint &p : s.points)
        if (sparsityKey(p.sparsity) == sparsityKey(sparsity))
            return {p.mean, p.std, p.seeds};
    return {};
}

std::string fmt(double v, const char *f = "%.4f")
{
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

/// For each sparsity (sparsityKey) that the runs' rounds reached: matrixTypeName -> the fraction
/// of that matrix type outside the encoder (layer -1: pooler, embeddings) each run's mask has
/// pruned there. A run without stored masks adds nothing.
std::map<long long, std::map<std::string, std::vector<double>>> outsidePrunedOf(const ExperimentStore &store,
                                                                                const std::vector<RunRecord> &runs)
{
    std::map<long long, std::map<std::string, std::vector<double>>> out;
    for (const RunRecord &run : runs) {
        const auto blob = store.pruneOrder(run.id);
        if (!blob)
            continue;
        const PruneOrder order = decodePruneOrder(*blob, store.path() + " run " + std::to_string(run.id));
        const auto byRound = layerSparsityByRound(order);
        for (const RoundRecord &r : store.rounds(run.id)) {
            if (r.round < 0 || r.round > order.rounds())
                continue;
            std::map<std::string, std::pair<int64_t, int64_t>> counts; // type -> (pruned, total)
            for (const LayerSparsity &l : byRound[size_t(r.round)])
                if (l.layer < 0) {
                    auto &[pruned, total] = counts[matrixTypeName(l.type)];
                    pruned += l.pruned;
                    total += l.total;
                }
            for (const auto &[type, c] : counts)
                if (c.second > 0)
                    out[sparsityKey(r.sparsity)][type].push_back(double(c.first) / double(c.second));
        }
    }
    return out;
}

} // namespace

std::string cellText(const Cell &c, bool withN)
{
    if (c.n == 0)
        return "n/a";
    // One seed has no spread to show: "0.5600 (n=1)", not a misleading "± 0.0000".
    return fmt(c.mean) + (c.n > 1 ? " ± " + fmt(c.std) : std::string()) +
           (withN ? " (n=" + std::to_string(c.n) + ")" : "");
}

std::string percentText(double sparsity)
{
    return fmt(100 * sparsity, "%.1f%%");
}

std::string ticketText(const Table2Row &row, const std::optional<double> &sparsity,
                       const std::function<std::string(double)> &format, const std::string &noneNote)
{
    if (sparsity)
        return format(*sparsity);
    if (!row.hasImp)
        return "n/a";
    return noneNote.empty() ? "none" : "none (" + noneNote + ")";
}

std::string baselineTitle(RunKind kind)
{
    std::string title = runKindLabel(kind);
    if (!title.empty())
        title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
    return title;
}

namespace {

std::string csvNumber(double v)
{
    return fmt(v, "%.6f");
}

std::string csvCells(const Cell &c)
{
    if (c.n == 0)
        return "n/a,n/a,0";
    return fmt(c.mean, "%.6f") + "," + fmt(c.std, "%.6f") + "," + std::to_string(c.n);
}

std::string texEscape(const std::string &s)
{
    std::string out;
    for (char c : s) {
        if (c == '_' || c == '%' || c == '&' || c == '#')
            out += '\\';
        out += c;
    }
    return out;
}

std::string texCell(const Cell &c)
{
    if (c.n == 0)
        return "n/a";
    return "$" + fmt(100 * c.mean, "%.1f") + (c.n > 1 ? " \\pm " + fmt(100 * c.std, "%.1f") : std::string()) + "$";
}

/// The thread count that finds the most of the plan's runs in the lab.
int findThreads(const ExperimentStore &store, const StudySpec &study, const std::vector<RunRecord> &runs)
{
    std::set<int> candidates{0};
    for (const RunRecord &r : runs) {
        const auto j = nlohmann::json::parse(r.specJson, nullptr, false);
        if (j.is_object() && j.contains("threads") && j["threads"].is_number_integer())
            candidates.insert(j["threads"].get<int>());
    }
    int best = 0;
    size_t bestFound = 0;
    for (int t : candidates) {
        const auto plan = planStudy(study, t);
        const auto status = planStatuses(store, plan);
        const size_t found = static_cast<size_t>(std::count(status.begin(), status.end(), PlanStatus::Done));
        if (found > bestFound) {
            best = t;
            bestFound = found;
        }
    }
    return best;
}

/// A table with a row per (task, sparsity): IMP, a column per baseline kind, then extra
/// columns; as Markdown (header written) and CSV (header line written) side by side.
struct SparsityTable
{
    std::string md = "| task | sparsity | IMP |", csv = "task,metric,sparsity,imp_mean,imp_std,imp_n";

    /// extra: (Markdown title, CSV column) of each column after the baselines'.
    SparsityTable(const std::vector<RunKind> &kinds, const std::vector<std::pair<std::string, std::string>> &extra)
    {
        for (RunKind k : kinds) {
            md += " " + baselineTitle(k) + " |";
            csv += "," + runKindName(k) + "_mean," + runKindName(k) + "_std," + runKindName(k) + "_n";
        }
        for (const auto &[title, column] : extra) {
            md += " " + title + " |";
            csv += "," + column;
        }
        md += "\n|---|---|---|";
        for (size_t i = 0; i < kinds.size() + extra.size(); ++i)
            md += "---|";
        md += "\n";
        csv += "\n";
    }

    /// extra: (Markdown, CSV) text of each extra column.
    void addRow(const Table2Row &row, double sparsity, const Cell &imp,
                const std::vector<std::pair<RunKind, Cell>> &baselines,
                const std::vector<std::pair<std::string, std::string>> &extra)
    {
        md += "| " + row.task + " | " + percentText(sparsity) + " | " + cellText(imp) + " |";
        csv += csvField(row.task) + "," + csvField(row.metricName) + "," + fmt(sparsity, "%.6f") + "," + csvCells(imp);
        for (const auto &[kind, cell] : baselines) {
            md += " " + cellText(cell) + " |";
            csv += "," + csvCells(cell);
        }
        for (const auto &[mdText, csvText] : extra) {
            md += " " + mdText + " |";
            csv += "," + csvText;
        }
        md += "\n";
        csv += "\n";
    }
};

} // namespace

std::vector<int64_t> StudyReport::runIds(std::optional<RunKind> kind) const
{
    std::vector<int64_t> out;
    for (const auto &[k, id] : runs)
        if (!kind || k == *kind)
            out.push_back(id);
    return out;
}

StudyReport buildStudyReport(const ExperimentStore &store, const StudySpec &study, int threads)
{
    const std::vector<RunRecord> all = store.runs();
    StudyReport report;
    report.name = study.partLabel.empty() ? study.name : study.name + " (" + study.partLabel + ")";
    report.criterion = study.criterion;
    report.referenceLabel = study.referenceLabel;
    report.threads = threads > 0 ? threads : findThreads(store, study, all);
    const std::vector<PlannedRun> plan = planStudy(study, report.threads);

    // planned key -> the lab's finished run of it
    std::map<std::pair<std::string, uint64_t>, const RunRecord *> done;
    for (const RunRecord &r : all)
        if (r.status == "done")
            done.try_emplace({r.specHash, r.seed}, &r);
    std::map<std::string, const RunRecord *> byKey;
    for (const PlannedRun &p : plan) {
        auto it = done.find({p.spec.hash(), p.seed});
        if (it == done.end()) {
            report.missing.push_back(p.key);
            continue;
        }
        byKey[p.key] = it->second;
        report.runs.emplace_back(p.kind, it->second->id);
    }
    auto runsOf = [&](const std::string &task, RunKind kind) {
        std::vector<RunRecord> out;
        for (const PlannedRun &p : plan)
            if (p.task == task && p.kind == kind && p.sourceTask.empty())
                if (auto it = byKey.find(p.key); it != byKey.end())
                    out.push_back(*it->second);
        return out;
    };

    std::map<std::string, TicketSummary> impOf;
    for (const auto &[task, dir] : study.tasks) {
        Table2Row row;
        row.task = task;
        row.metric = study.metricFor(task);
        row.metricName = metricDisplayName(task, row.metric);
        const auto full = runsOf(task, RunKind::Full);
        const auto imps = runsOf(task, RunKind::Imp);
        const TicketSummary imp = summarizeTicketRuns(store, imps, full, study.criterion, row.metric);
        const TicketSummary strict = summarizeTicketRuns(store, imps, full, "match", row.metric);
        impOf[task] = imp;
        row.hasImp = !imp.points.empty();
        row.full = {imp.fullMean, imp.fullStd, imp.fullSeeds};
        row.ticketSparsity = imp.winningSparsity;
        row.strictSparsity = strict.winningSparsity;
        row.comparedAt = imp.winningSparsity  ? *imp.winningSparsity
                         : imp.points.empty() ? 0
                                              : imp.points.back().sparsity;
        row.imp = pointAt(imp, row.comparedAt);
        // Every sparsity any kind reached, by key; a point keeps its own stored sparsity (IMP's first).
        std::map<long long, double> sparsities;
        for (const SparsityPoint &p : imp.points)
            sparsities.try_emplace(sparsityKey(p.sparsity), p.sparsity);
        std::vector<std::pair<RunKind, TicketSummary>> baselineSummaries;
        for (RunKind kind : study.baselines) {
            if (kind == RunKind::Full)
                continue;
            const TicketSummary b = summarizeTicketRuns(store, runsOf(task, kind), full, study.criterion, row.metric);
            row.baselines.emplace_back(kind, pointAt(b, row.comparedAt));
            for (const SparsityPoint &p : b.points)
                sparsities.try_emplace(sparsityKey(p.sparsity), p.sparsity);
            baselineSummaries.emplace_back(kind, b);
        }
        const auto outside = outsidePrunedOf(store, imps);
        auto rowAt = [&](double sparsity) {
            SparsityRow sr;
            sr.sparsity = sparsity;
            sr.imp = pointAt(imp, sparsity);
            for (const auto &[kind, b] : baselineSummaries)
                sr.baselines.emplace_back(kind, pointAt(b, sparsity));
            if (auto it = outside.find(sparsityKey(sparsity)); it != outside.end())
                for (const auto &[type, fractions] : it->second)
                    sr.outsidePruned.emplace_back(type, cellOf(fractions));
            return sr;
        };
        for (double s : study.at)
            row.at.push_back(rowAt(s));
        for (const auto &[key, sparsity] : sparsities)
            row.bySparsity.push_back(rowAt(sparsity));
        if (auto ref = study.reference.find(task); ref != study.reference.end()) {
            ReferenceComparison c;
            c.sparsity = ref->second.sparsity;
            c.metric = ref->second.metric.empty() ? row.metricName : ref->second.metric;
            const TicketSummary impHere = c.metric == row.metric || c.metric == row.metricName
                                              ? imp
                                              : summarizeTicketRuns(store, imps, full, study.criterion, c.metric);
            c.ticketHere = impHere.winningSparsity;
            for (const auto &[kind, value] : ref->second.values) { // the full model first, then table order
                Cell here;
                if (kind == RunKind::Full)
                    here = {impHere.fullMean, impHere.fullStd, impHere.fullSeeds};
                else if (kind == RunKind::Imp)
                    here = pointAt(impHere, c.sparsity);
                else
                    here = pointAt(summarizeTicketRuns(store, runsOf(task, kind), full, study.criterion, c.metric),
                                   c.sparsity);
                c.values.push_back({kind, value, here});
            }
            row.reference = std::move(c);
        }
        report.rows.push_back(std::move(row));
    }

    // Transfers: (source, target) over seeds.
    std::map<std::pair<std::string, std::string>, std::vector<double>> values;
    std::map<std::pair<std::string, std::string>, double> sparsityOf;
    for (const PlannedRun &p : plan) {
        if (p.kind != RunKind::Transfer)
            continue;
        auto it = byKey.find(p.key);
        if (it == byKey.end())
            continue;
        for (const RoundRecord &r : store.rounds(it->second->id))
            if (const auto v = r.devMetric(study.metricFor(p.task))) {
                values[{p.sourceTask, p.task}].push_back(*v);
                sparsityOf[{p.sourceTask, p.task}] = r.sparsity;
            }
    }
    for (const auto &[pair, v] : values) {
        TransferReportCell c;
        c.source = pair.first;
        c.target = pair.second;
        c.sparsity = sparsityOf[pair];
        c.transfer = cellOf(v);
        const TicketSummary &target = impOf[c.target];
        c.targetImp = pointAt(target, c.sparsity);
        c.targetFull = {target.fullMean, target.fullStd, target.fullSeeds};
        c.winning =
            c.targetFull.n > 0 && meetsCriterion(c.transfer.mean, c.targetFull.mean, c.targetFull.std, study.criterion);
        report.transfers.push_back(c);
    }
    return report;
}

void writeStudyReport(const StudyReport &r, const std::string &outDir, const std::vector<std::string> &figures)
{
    fs::create_directories(outDir);
    std::vector<RunKind> kinds;
    if (!r.rows.empty())
        for (const auto &[kind, cell] : r.rows.front().baselines)
            kinds.push_back(kind);

    // table2.csv
    std::string csv = "task,metric,full_mean,full_std,full_n,ticket_sparsity,strict_ticket_sparsity,compared_at,imp_"
                      "mean,imp_std,imp_n";
    for (RunKind k : kinds)
        csv += "," + runKindName(k) + "_mean," + runKindName(k) + "_std," + runKindName(k) + "_n";
    csv += "\n";
    for (const Table2Row &row : r.rows) {
        csv += csvField(row.task) + "," + csvField(row.metricName) + "," + csvCells(row.full) + "," +
               ticketText(row, row.ticketSparsity, csvNumber) + "," + ticketText(row, row.strictSparsity, csvNumber) +
               "," + fmt(row.comparedAt, "%.6f") + "," + csvCells(row.imp);
        for (const auto &[kind, cell] : row.baselines)
            csv += "," + csvCells(cell);
        csv += "\n";
    }
    writeFileAtomic((fs::path(outDir) / "table2.csv").string(), csv);

    // table2.tex (booktabs), numbers in percent as the paper prints them.
    std::string tex = "% " + r.name +
                      ": written by ticketlab-cli study report (needs \\usepackage{booktabs})\n"
                      "\\begin{tabular}{ll" +
                      std::string(3 + kinds.size(), 'r') +
                      "}\n\\toprule\n"
                      "Task & Metric & Full model & Sparsity & IMP";
    for (RunKind k : kinds)
        tex += " & " + texEscape(baselineTitle(k));
    tex += " \\\\\n\\midrule\n";
    for (const Table2Row &row : r.rows) {
        tex += texEscape(row.task) + " & " + texEscape(row.metricName) + " & " + texCell(row.full) + " & " +
               texEscape(ticketText(row, row.ticketSparsity, percentText, percentText(row.comparedAt))) + " & " +
               texCell(row.imp);
        for (const auto &[kind, cell] : row.baselines)
            tex += " & " + texCell(cell);
        tex += " \\\\\n";
    }
    tex += "\\bottomrule\n\\end{tabular}\n";
    writeFileAtomic((fs::path(outDir) / "table2.tex").string(), tex);

    // transfer.csv / .tex
    std::string tcsv = "source,target,sparsity,transfer_mean,transfer_std,transfer_n,target_imp_mean,target_imp_std,"
                       "target_imp_n,delta_vs_target_imp,target_full_mean,winning\n";
    for (const TransferReportCell &c : r.transfers)
        tcsv += csvField(c.source) + "," + csvField(c.target) + "," + fmt(c.sparsity, "%.6f") + "," +
                csvCells(c.transfer) + "," + csvCells(c.targetImp) + "," +
                (c.targetImp.n ? fmt(c.transfer.mean - c.targetImp.mean, "%.6f") : std::string("n/a")) + "," +
                (c.targetFull.n ? fmt(c.targetFull.mean, "%.6f") : std::string("n/a")) + "," +
                (c.winning ? "yes" : "no") + "\n";
    writeFileAtomic((fs::path(outDir) / "transfer.csv").string(), tcsv);
    std::set<std::string> sources, targets;
    for (const TransferReportCell &c : r.transfers) {
        sources.insert(c.source);
        targets.insert(c.target);
    }
    auto find = [&](const std::string &s, const std::string &t) -> const TransferReportCell * {
        for (const TransferReportCell &c : r.transfers)
            if (c.source == s && c.target == t)
                return &c;
        return nullptr;
    };
    std::string ttex = "% transfer minus the target's own IMP subnetwork at the same sparsity, in points; "
                       "* marks a winning transfer (criterion " +
                       texEscape(r.criterion) +
                       ")\n"
                       "\\begin{tabular}{l" +
                       std::string(targets.size() + 1, 'r') +
                       "}\n\\toprule\nSource $\\downarrow$ Target $\\rightarrow$";
    for (const std::string &t : targets)
        ttex += " & " + texEscape(t);
    ttex += " & Serves \\\\\n\\midrule\n";
    std::string tmd = "| source \\ target |";
    for (const std::string &t : targets)
        tmd += " " + t + " |";
    tmd += " serves |\n|---|";
    for (size_t i = 0; i <= targets.size(); ++i)
        tmd += "---|";
    tmd += "\n";
    bool anyRaw = false; // a cell whose target has no IMP result to subtract: its own value, marked
    for (const std::string &s : sources) {
        int serves = 0;
        ttex += texEscape(s);
        tmd += "| " + s + " |";
        for (const std::string &t : targets) {
            const TransferReportCell *c = find(s, t);
            std::string text = "–", texText = text;
            if (c && c->targetImp.n) {
                text = fmt(100 * (c->transfer.mean - c->targetImp.mean), "%+.1f") + (c->winning ? "*" : "");
                texText = texEscape(text);
            } else if (c) {
                text = fmt(100 * c->transfer.mean, "%.1f") + (c->winning ? "*" : "");
                texText = texEscape(text) + "$^\\dagger$";
                text += "†";
                anyRaw = true;
            }
            serves += c && c->winning;
            ttex += " & " + texText;
            tmd += " " + text + " |";
        }
        ttex += " & " + std::to_string(serves) + " \\\\\n";
        tmd += " " + std::to_string(serves) + " |\n";
    }
    const std::string rawNote = "the transfer's own value: the target has no IMP result at this sparsity to subtract";
    ttex += "\\bottomrule\n\\end{tabular}\n";
    if (anyRaw) {
        ttex += "% $^\\dagger$ " + rawNote + "\n";
        tmd += "\n† " + rawNote + ".\n";
    }
    writeFileAtomic((fs::path(outDir) / "transfer.tex").string(), ttex);

    // report.md
    std::string md = "# Study " + r.name +
                     "\n\nWritten by `ticketlab-cli study report`. Winning ticket: the highest sparsity "
                     "whose mean over seeds meets the criterion `" +
                     r.criterion + "` against the full model" +
                     (r.criterion == "within_std" ? " (within one standard deviation of its mean, as the paper)" : "") +
                     "; \"strict\" is the highest sparsity whose mean is at least the full model's. Baselines are read "
                     "at the ticket's sparsity (at IMP's highest sparsity where there is no ticket). Cells: mean ± std "
                     "(n seeds).\n\n## Table 2\n\n| task | metric | full model | ticket | strict | IMP |";
    for (RunKind k : kinds)
        md += " " + baselineTitle(k) + " |";
    md += "\n|---|---|---|---|---|---|";
    for (size_t i = 0; i < kinds.size(); ++i)
        md += "---|";
    md += "\n";
    for (const Table2Row &row : r.rows) {
        md += "| " + row.task + " | " + row.metricName + " | " + cellText(row.full) + " | " +
              ticketText(row, row.ticketSparsity, percentText, "at " + percentText(row.comparedAt)) + " | " +
              ticketText(row, row.strictSparsity) + " | " + cellText(row.imp) + " |";
        for (const auto &[kind, cell] : row.baselines)
            md += " " + cellText(cell) + " |";
        md += "\n";
    }
    if (!r.rows.empty() && !r.rows.front().at.empty()) {
        SparsityTable at(kinds, {});
        for (const Table2Row &row : r.rows)
            for (const SparsityRow &a : row.at)
                at.addRow(row, a.sparsity, a.imp, a.baselines, {});
        md += "\n## At the study's baseline sparsities (`at`)\n\nThe baselines were trained at these sparsities "
              "only; IMP and each baseline there, wherever the ticket is.\n\n" +
              at.md;
        writeFileAtomic((fs::path(outDir) / "at.csv").string(), at.csv);
    }
    // By sparsity: every sparsity of each task's runs, with the matrices outside the encoder that
    // IMP's masks pruned (one column per matrix type any row has).
    std::vector<std::string> outsideTypes;
    bool anySparsity = false;
    for (const Table2Row &row : r.rows)
        for (const SparsityRow &sr : row.bySparsity) {
            anySparsity = true;
            for (const auto &[type, cell] : sr.outsidePruned)
                if (std::find(outsideTypes.begin(), outsideTypes.end(), type) == outsideTypes.end())
                    outsideTypes.push_back(type);
        }
    std::vector<std::pair<std::string, std::string>> outsideColumns; // (Markdown title, CSV name)
    for (const std::string &t : outsideTypes) {
        std::string name = t;
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
        outsideColumns.emplace_back(t + " pruned by IMP", "imp_" + name + "_pruned");
    }
    SparsityTable bySparsity(kinds, outsideColumns);
    for (const Table2Row &row : r.rows)
        for (const SparsityRow &sr : row.bySparsity) {
            std::vector<std::pair<std::string, std::string>> extra; // (Markdown, CSV)
            for (const std::string &t : outsideTypes) {
                auto it = std::find_if(sr.outsidePruned.begin(), sr.outsidePruned.end(),
                                       [&](const auto &x) { return x.first == t; });
                if (it != sr.outsidePruned.end() && it->second.n > 0)
                    extra.emplace_back(fmt(100 * it->second.mean, "%.1f%%"), fmt(it->second.mean, "%.6f"));
                else
                    extra.emplace_back("n/a", "n/a");
            }
            bySparsity.addRow(row, sr.sparsity, sr.imp, sr.baselines, extra);
        }
    writeFileAtomic((fs::path(outDir) / "by-sparsity.csv").string(), bySparsity.csv);
    if (anySparsity)
        md += "\n## By sparsity\n\nEvery sparsity the study's runs reached: IMP and each baseline there (n/a where "
              "it has no round)" +
              std::string(outsideTypes.empty() ? ""
                                               : ", and the share of each matrix outside the encoder that IMP's "
                                                 "masks have pruned there (mean over seeds)") +
              ".\n\n" + bySparsity.md;

    // Beside the reference: one pair of columns (reference, here) per kind any row has.
    std::vector<RunKind> refKinds;
    for (const Table2Row &row : r.rows)
        if (row.reference)
            for (const ReferenceComparison::Value &v : row.reference->values)
                if (std::find(refKinds.begin(), refKinds.end(), v.kind) == refKinds.end())
                    refKinds.push_back(v.kind);
    std::sort(refKinds.begin(), refKinds.end(), fullModelFirst);
    if (!refKinds.empty()) {
        md += "\n## Beside the reference\n\n" + r.referenceLabel +
              ", and this study read in the same metric: the reference's ticket sparsity and each kind's value there "
              "(the full model's at 0%), then this study's at the same sparsity (n/a where it has no run there).\n\n"
              "| task | metric | ticket: reference | ticket: here |";
        std::string refCsv =
            "task,metric,reference_ticket,ticket_here,kind,sparsity,reference,here_mean,here_std,here_n\n";
        for (RunKind k : refKinds)
            md += " " + baselineTitle(k) + ": reference | " + baselineTitle(k) + ": here |";
        md += "\n|---|---|---|---|";
        for (size_t i = 0; i < refKinds.size(); ++i)
            md += "---|---|";
        md += "\n";
        for (const Table2Row &row : r.rows) {
            if (!row.reference)
                continue;
            const ReferenceComparison &c = *row.reference;
            md += "| " + row.task + " | " + c.metric + " | " + percentText(c.sparsity) + " | " +
                  ticketText(row, c.ticketHere) + " |";
            for (RunKind k : refKinds) {
                auto v = std::find_if(c.values.begin(), c.values.end(), [&](const auto &x) { return x.kind == k; });
                md += v == c.values.end() ? std::string(" | |")
                                          : " " + fmt(v->reference) + " | " + cellText(v->here) + " |";
            }
            md += "\n";
            for (const ReferenceComparison::Value &v : c.values)
                refCsv += csvField(row.task) + "," + csvField(c.metric) + "," + fmt(c.sparsity, "%.6f") + "," +
                          ticketText(row, c.ticketHere, csvNumber) + "," + runKindName(v.kind) + "," +
                          fmt(v.kind == RunKind::Full ? 0.0 : c.sparsity, "%.6f") + "," + fmt(v.reference, "%.6f") +
                          "," + csvCells(v.here) + "\n";
        }
        writeFileAtomic((fs::path(outDir) / "reference.csv").string(), refCsv);
    }
    if (!r.transfers.empty())
        md +=
            "\n## Transfer (Figure 2)\n\nTransfer minus the target's own IMP subnetwork at the same sparsity, in "
            "points; * marks a transfer that is a winning ticket on the target; \"serves\" counts those targets.\n\n" +
            tmd;
    if (!figures.empty()) {
        md += "\n## Figures\n\n";
        for (const std::string &f : figures)
            md += "![" + fs::path(f).stem().string() + "](" + f + ")\n\n";
    }
    if (!r.missing.empty()) {
        md += "\n## Missing\n\n" + std::to_string(r.missing.size()) + " planned run(s) are not finished in the lab:";
        for (const std::string &k : r.missing)
            md += " `" + k + "`";
        md += "\n";
    }
    writeFileAtomic((fs::path(outDir) / "report.md").string(), md);
}

} // namespace tl
