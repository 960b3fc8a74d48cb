// analyze: layer sparsity, head survival, mask overlap, transfer and ticket tables of the
// runs in an experiment database, as text, CSV or JSON.

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "analysis/analysis.h"
#include "analysis/mask_algebra.h"
#include "analysis/early_bird.h"
#include "analysis/weight_histogram.h"
#include "cli_common.h"
#include "analysis/tickets.h"
#include "store/experiment_store.h"
#include "util/csv.h"
#include "util/error.h"

namespace tl::cli {
namespace {

struct AnalyzeArgs
{
    std::string db, format = "text", metric = kMainMetric, criterion = "within_std", kind = "imp";
    int64_t run = 0;
    std::vector<int64_t> runs;
    int round = 0;
    int heads = 0;
    double threshold = 0.5;
};

std::string num(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", v);
    return buf;
}

/// Rows for text (aligned columns) and CSV (with a header row).
struct Table
{
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;

    void print(const std::string &format) const
    {
        if (format == "csv") {
            for (const auto *row : rowPointers())
                std::printf("%s", csvRow(*row).c_str());
            return;
        }
        std::vector<size_t> width(header.size(), 0);
        for (const auto *row : rowPointers())
            for (size_t i = 0; i < row->size() && i < width.size(); ++i)
                width[i] = std::max(width[i], (*row)[i].size());
        for (const auto *row : rowPointers()) {
            std::string line;
            for (size_t i = 0; i < row->size(); ++i)
                line += (i ? "  " : "") + (*row)[i] + std::string(width[i] - (*row)[i].size(), ' ');
            line.erase(line.find_last_not_of(' ') + 1);
            std::printf("%s\n", line.c_str());
        }
    }

private:
    std::vector<const std::vector<std::string> *> rowPointers() const
    {
        std::vector<const std::vector<std::string> *> all = {&header};
        for (const auto &r : rows)
            all.push_back(&r);
        return all;
    }
};

void addFormat(CLI::App *cmd, std::string &format)
{
    cmd->add_option("--format", format, "text, csv or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "csv", "json"}));
}

std::string layerName(int layer)
{
    return layer < 0 ? std::string("-") : std::to_string(layer);
}

void layerSparsityCommand(const AnalyzeArgs &a, bool oneRound)
{
    auto store = ExperimentStore::open(a.db);
    const PruneOrder order = storedPruneOrder(*store, a.run);
    std::vector<int> rounds;
    if (oneRound) {
        if (a.round < 0 || a.round > order.rounds())
            throw Error("--round " + std::to_string(a.round) + ": run " + std::to_string(a.run) +
                        " has mask rounds 0.." + std::to_string(order.rounds()));
        rounds.push_back(a.round);
    } else {
        // The rounds the run trained; a transfer run's lower mask rounds are placeholders.
        for (const RoundRecord &r : store->rounds(a.run))
            if (r.round <= order.rounds())
                rounds.push_back(r.round);
        if (rounds.empty())
            for (int r = 0; r <= order.rounds(); ++r)
                rounds.push_back(r);
    }
    nlohmann::json jsonRounds = nlohmann::json::array();
    Table table;
    table.header = {"round", "layer", "type", "total", "pruned", "sparsity"};
    for (int round : rounds) {
        const MaskSet mask = order.maskAt(round);
        const auto entries = layerSparsity(mask);
        if (a.format == "json") {
            nlohmann::json tensors = nlohmann::json::array();
            for (const LayerSparsity &s : entries)
                tensors.push_back({{"layer", s.layer},
                                   {"type", matrixTypeName(s.type)},
                                   {"total", s.total},
                                   {"pruned", s.pruned},
                                   {"sparsity", s.sparsity()}});
            jsonRounds.push_back({{"round", round}, {"sparsity", mask.sparsity()}, {"matrices", tensors}});
        } else if (a.format == "csv") {
            for (const LayerSparsity &s : entries)
                table.rows.push_back({std::to_string(round), layerName(s.layer), matrixTypeName(s.type),
                                      std::to_string(s.total), std::to_string(s.pruned), num(s.sparsity())});
        } else {
            // A layer x type grid of percentages pruned, then the matrices outside the encoder.
            std::printf("run %lld round %d: sparsity %.4f\n", static_cast<long long>(a.run), round, mask.sparsity());
            Table grid;
            grid.header = {"layer"};
            for (MatrixType t : encoderMatrixTypes())
                grid.header.push_back(matrixTypeName(t));
            std::map<int, std::vector<std::string>> byLayer;
            Table rest;
            for (const LayerSparsity &s : entries) {
                char pct[16];
                std::snprintf(pct, sizeof pct, "%.1f%%", 100.0 * s.sparsity());
                const auto &types = encoderMatrixTypes();
                const auto col = std::find(types.begin(), types.end(), s.type);
                if (s.layer < 0 || col == types.end()) {
                    rest.rows.push_back({matrixTypeName(s.type), pct});
                    continue;
                }
                auto &row = byLayer[s.layer];
                if (row.empty()) {
                    row.assign(types.size() + 1, "-");
                    row[0] = std::to_string(s.layer);
                }
                row[size_t(col - types.begin()) + 1] = pct;
            }
            for (auto &[layer, row] : byLayer)
                grid.rows.push_back(row);
            grid.print("text");
            for (const auto &r : rest.rows)
                std::printf("%s %s\n", r[0].c_str(), r[1].c_str());
        }
    }
    if (a.format == "json")
        std::printf("%s\n", nlohmann::json{{"run", a.run}, {"rounds", jsonRounds}}.dump(2).c_str());
    else if (a.format == "csv")
        table.print("csv");
}

void headSurvivalCommand(const AnalyzeArgs &a, bool headsGiven)
{
    auto store = ExperimentStore::open(a.db);
    const MaskSet mask = storedMask(*store, a.run, a.round);
    // The stored model config rules; --heads is for runs without one, or must agree with it.
    HeadLayout layout = storedHeadLayout(*store, a.run);
    const int stored = layout.heads;
    const int heads = headsGiven ? a.heads : stored;
    layout.heads = heads;
    if (heads == 0)
        throw Error("run " + std::to_string(a.run) +
                    ": the number of attention heads is not in its stored model config; give --heads");
    if (headsGiven && stored > 0 && a.heads != stored)
        throw Error("--heads " + std::to_string(a.heads) + ": run " + std::to_string(a.run) +
                    "'s stored model config has " + std::to_string(stored) + " attention heads");
    const auto entries = headSurvival(mask, layout);
    if (entries.empty())
        throw Error("run " + std::to_string(a.run) + " round " + std::to_string(a.round) +
                    ": the mask has no encoder layers");
    const int alive = aliveHeads(entries, a.threshold);
    if (a.format == "json") {
        nlohmann::json rows = nlohmann::json::array();
        for (const HeadSurvival &h : entries)
            rows.push_back({{"layer", h.layer},
                            {"head", h.head},
                            {"kept", h.kept},
                            {"total", h.total},
                            {"fraction", h.fraction()},
                            {"alive", h.fraction() > a.threshold},
                            {"removed_from_model", h.removed}});
        std::printf("%s\n", nlohmann::json{{"run", a.run},
                                           {"round", a.round},
                                           {"heads", heads},
                                           {"threshold", a.threshold},
                                           {"alive", alive},
                                           {"total_heads", entries.size()},
                                           {"entries", rows}}
                                .dump(2)
                                .c_str());
        return;
    }
    if (a.format == "csv") {
        Table t;
        t.header = {"layer", "head", "kept", "total", "fraction", "alive"};
        for (const HeadSurvival &h : entries)
            t.rows.push_back({std::to_string(h.layer), std::to_string(h.head), std::to_string(h.kept),
                              std::to_string(h.total), num(h.fraction()), h.fraction() > a.threshold ? "1" : "0"});
        t.print("csv");
        return;
    }
    std::printf("run %lld round %d: surviving fraction per head (* alive: > %.3f)\n", static_cast<long long>(a.run),
                a.round, a.threshold);
    Table grid;
    grid.header = {"layer"};
    for (int h = 0; h < heads; ++h)
        grid.header.push_back("h" + std::to_string(h));
    for (const HeadSurvival &h : entries) {
        if (h.head == 0)
            grid.rows.push_back({std::to_string(h.layer)});
        char cell[24];
        if (h.removed) // not in the (compacted) model at all
            std::snprintf(cell, sizeof cell, "  x  ");
        else
            std::snprintf(cell, sizeof cell, "%.3f%s", h.fraction(), h.fraction() > a.threshold ? "*" : " ");
        grid.rows.back().push_back(cell);
    }
    grid.print("text");
    const auto removed = std::count_if(entries.begin(), entries.end(), [](const HeadSurvival &h) { return h.removed; });
    std::printf("alive heads: %d of %zu%s\n", alive, entries.size(),
                removed ? (" (x: " + std::to_string(removed) + " not in the compacted model)").c_str() : "");
}

void overlapCommand(const AnalyzeArgs &a, bool roundGiven)
{
    if (a.runs.size() < 2)
        throw Error("--runs: give at least two run ids (e.g. --runs 1,2)");
    auto store = ExperimentStore::open(a.db);
    // Masks of different sparsities overlap less by construction: by default every run's round
    // nearest the highest sparsity all of them reached.
    std::optional<CommonSparsity> common;
    if (!roundGiven)
        common = commonSparsityRounds(*store, a.runs);
    const std::vector<int> rounds = common ? common->rounds : std::vector<int>(a.runs.size(), a.round);
    const OverlapMatrix m = overlapMatrix(*store, a.runs, rounds);
    std::optional<OverlapReport> pair;
    if (a.runs.size() == 2)
        pair = maskOverlap(storedMask(*store, a.runs[0], rounds[0]), storedMask(*store, a.runs[1], rounds[1]));
    const size_t n = m.runIds.size();
    if (a.format == "json") {
        nlohmann::json j = {{"round", common ? nlohmann::json(nullptr) : nlohmann::json(a.round)},
                            {"common_sparsity", common ? nlohmann::json(common->target) : nlohmann::json(nullptr)},
                            {"runs", m.runIds},
                            {"rounds", m.rounds},
                            {"sparsities", m.sparsities},
                            {"labels", m.labels},
                            {"iou", m.iou},
                            {"chance", m.chance}};
        if (pair) {
            auto entry = [](const std::string &type, const Overlap &o) {
                return nlohmann::json{{"type", type},
                                      {"iou", o.iou},
                                      {"chance", o.chance},
                                      {"intersection", o.intersection},
                                      {"union", o.unionCount}};
            };
            nlohmann::json types = nlohmann::json::array({entry("all", pair->global)});
            for (const auto &[type, o] : pair->byType)
                types.push_back(entry(matrixTypeName(type), o));
            j["pair"] = types;
        }
        std::printf("%s\n", j.dump(2).c_str());
        return;
    }
    if (a.format == "csv") {
        // Long form: every pair of runs (both orders, with the diagonal), then for two runs
        // the same pair by matrix type.
        Table t;
        t.header = {"run_a", "round_a", "sparsity_a", "run_b", "round_b", "sparsity_b", "type", "iou", "chance"};
        auto ids = [&m](size_t i, size_t j) {
            return std::vector<std::string>{std::to_string(m.runIds[i]), std::to_string(m.rounds[i]),
                                            num(m.sparsities[i]),        std::to_string(m.runIds[j]),
                                            std::to_string(m.rounds[j]), num(m.sparsities[j])};
        };
        for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < n; ++j) {
                t.rows.push_back(ids(i, j));
                t.rows.back().insert(t.rows.back().end(), {"all", num(m.iou[i][j]), num(m.chance[i][j])});
            }
        if (pair)
            for (const auto &[type, o] : pair->byType) {
                t.rows.push_back(ids(0, 1));
                t.rows.back().insert(t.rows.back().end(), {matrixTypeName(type), num(o.iou), num(o.chance)});
            }
        t.print("csv");
        return;
    }
    if (common)
        std::printf("mask IoU at a common sparsity of %.1f%% (each run's round nearest the highest sparsity all "
                    "reached; chance level of random masks of the same densities in brackets)\n",
                    100.0 * common->target);
    else
        std::printf("mask IoU at round %d (chance level of random masks of the same densities in brackets)\n", a.round);
    Table t;
    t.header = {"run"};
    for (size_t j = 0; j < n; ++j)
        t.header.push_back("#" + std::to_string(m.runIds[j]));
    for (size_t i = 0; i < n; ++i) {
        t.rows.push_back({m.labels[i]});
        for (size_t j = 0; j < n; ++j) {
            char cell[48];
            std::snprintf(cell, sizeof cell, "%.3f (%.3f)", m.iou[i][j], m.chance[i][j]);
            t.rows.back().push_back(cell);
        }
    }
    t.print("text");
    if (pair) {
        std::printf("\nby matrix type, #%lld vs #%lld:\n", static_cast<long long>(m.runIds[0]),
                    static_cast<long long>(m.runIds[1]));
        Table types;
        types.header = {"type", "iou", "chance", "intersection", "union"};
        types.rows.push_back({"all", num(pair->global.iou), num(pair->global.chance),
                              std::to_string(pair->global.intersection), std::to_string(pair->global.unionCount)});
        for (const auto &[type, o] : pair->byType)
            types.rows.push_back({matrixTypeName(type), num(o.iou), num(o.chance), std::to_string(o.intersection),
                                  std::to_string(o.unionCount)});
        types.print("text");
    }
}

std::string percent(double fraction)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * fraction);
    return buf;
}

std::string roundsList(const std::vector<int> &rounds)
{
    std::string out;
    for (int r : rounds)
        out += (out.empty() ? "" : " ") + std::to_string(r);
    return out;
}

void transferCommand(const AnalyzeArgs &a)
{
    auto store = ExperimentStore::open(a.db);
    requireStoredMetric(*store, a.metric);
    const TransferTable table = transferTable(*store, a.metric);
    auto optional = [](const std::optional<double> &v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    if (a.format == "json") {
        nlohmann::json cells = nlohmann::json::array();
        for (const TransferCell &c : table.cells)
            cells.push_back({{"model", c.model},
                             {"source", c.source},
                             {"target", c.target},
                             {"sparsity", c.sparsity},
                             {"source_rounds", c.sourceRounds},
                             {"runs", c.runs},
                             {"transfer_metric", c.transferMetric},
                             {"full_mean", c.fullSeeds ? nlohmann::json(c.fullMean) : nlohmann::json(nullptr)},
                             {"full_seeds", c.fullSeeds},
                             {"delta", c.fullSeeds ? nlohmann::json(c.delta) : nlohmann::json(nullptr)},
                             {"own_ticket", optional(c.ownTicket)},
                             {"at_least_own_ticket", c.atLeastOwnTicket}});
        std::printf("%s\n", nlohmann::json{{"metric", a.metric},
                                           {"models", table.models},
                                           {"sources", table.sources},
                                           {"targets", table.targets},
                                           {"cells", cells}}
                                .dump(2)
                                .c_str());
        return;
    }
    Table t;
    t.header = {"model",    "source",    "target", "sparsity",   "source_rounds",      "runs",
                "transfer", "full_mean", "delta",  "own_ticket", "at_least_own_ticket"};
    for (const TransferCell &c : table.cells)
        t.rows.push_back({c.model, c.source, c.target, num(c.sparsity), roundsList(c.sourceRounds),
                          std::to_string(c.runs), num(c.transferMetric), c.fullSeeds ? num(c.fullMean) : "",
                          c.fullSeeds ? num(c.delta) : "", c.ownTicket ? num(*c.ownTicket) : "",
                          c.atLeastOwnTicket ? "1" : "0"});
    if (a.format == "csv") {
        t.print("csv");
        return;
    }
    if (table.cells.empty()) {
        std::printf("no transfer runs from stored runs with metric '%s'\n", a.metric.c_str());
        return;
    }
    // The paper's Figure 2: source rows (one per sparsity of the transferred masks), target
    // columns, metric minus the target's full model; "*" where the transfer is at least the
    // target's own IMP ticket.
    std::printf("%s: transfer minus full model on the target (* at least the target's own ticket)\n", a.metric.c_str());
    Table grid;
    grid.header = {"source @ sparsity \\ target"};
    grid.header.insert(grid.header.end(), table.targets.begin(), table.targets.end());
    for (const TransferRow &row : table.rows) {
        grid.rows.push_back({(table.models.size() > 1 ? row.model + ": " : std::string()) + row.source + " @ " +
                             percent(row.sparsity)});
        for (const std::string &target : table.targets) {
            const TransferCell *c = table.cell(row, target);
            char cell[32] = "";
            if (c && c->fullSeeds)
                std::snprintf(cell, sizeof cell, "%+.4f%s", c->delta, c->atLeastOwnTicket ? "*" : "");
            else if (c)
                std::snprintf(cell, sizeof cell, "%.4f%s (no full)", c->transferMetric, c->atLeastOwnTicket ? "*" : "");
            grid.rows.back().push_back(cell);
        }
    }
    grid.print("text");
    std::printf("\n");
    t.print("text");
}

void ticketsCommand(const AnalyzeArgs &a)
{
    auto store = ExperimentStore::open(a.db);
    requireStoredMetric(*store, a.metric);
    const std::vector<TicketSummary> summaries =
        summarizeAllTickets(*store, runKindFromName(a.kind), a.criterion, a.metric);
    auto pointAt = [](const TicketSummary &s) -> const SparsityPoint * {
        for (const SparsityPoint &p : s.points)
            if (s.winningSparsity && p.sparsity == *s.winningSparsity)
                return &p;
        return nullptr;
    };
    if (a.format == "json") {
        nlohmann::json all = nlohmann::json::array();
        for (const TicketSummary &s : summaries) {
            nlohmann::json points = nlohmann::json::array();
            for (const SparsityPoint &p : s.points)
                points.push_back({{"sparsity", p.sparsity}, {"mean", p.mean}, {"std", p.std}, {"seeds", p.seeds}});
            all.push_back({{"model", s.model},
                           {"task", s.task},
                           {"full", {{"mean", s.fullMean}, {"std", s.fullStd}, {"seeds", s.fullSeeds}}},
                           {"points", points},
                           {"winning_sparsity",
                            s.winningSparsity ? nlohmann::json(*s.winningSparsity) : nlohmann::json(nullptr)}});
        }
        std::printf("%s\n",
                    nlohmann::json{{"kind", a.kind}, {"metric", a.metric}, {"criterion", a.criterion}, {"tasks", all}}
                        .dump(2)
                        .c_str());
        return;
    }
    Table t;
    t.header = {"model",        "task",        "full_mean",   "full_std", "full_seeds", "winning_sparsity",
                "winning_mean", "winning_std", "max_sparsity"};
    for (const TicketSummary &s : summaries) {
        const SparsityPoint *w = pointAt(s);
        t.rows.push_back({s.model, s.task, num(s.fullMean), num(s.fullStd), std::to_string(s.fullSeeds),
                          w ? num(w->sparsity) : "", w ? num(w->mean) : "", w ? num(w->std) : "",
                          s.points.empty() ? "" : num(s.points.back().sparsity)});
    }
    if (a.format == "text")
        std::printf("winning tickets of %s runs (%s, metric %s)\n", a.kind.c_str(), a.criterion.c_str(),
                    a.metric.c_str());
    t.print(a.format);
}

} // namespace

void superSurvivorsCommand(const AnalyzeArgs &a, const std::string &masksText)
{
    auto store = ExperimentStore::open(a.db);
    const std::vector<MaskRef> refs = resolveMaskRefs(*store, parseMaskRefs(masksText));
    std::vector<MaskSet> masks;
    std::vector<std::string> labels;
    for (const MaskRef &ref : refs) {
        masks.push_back(storedMask(*store, ref.run, ref.round));
        labels.push_back(runLabel(store->requireRun(ref.run)) + ", round " + std::to_string(ref.round));
    }
    const SuperSurvivors s = superSurvivors(masks, labels);
    const auto row = [](const std::string &scope, const SurvivorCount &c) {
        return std::vector<std::string>{scope,
                                        c.layer >= 0 ? std::to_string(c.layer) : std::string(),
                                        c.name.empty() && scope == "all" ? std::string() : matrixTypeName(c.type),
                                        std::to_string(c.total),
                                        std::to_string(c.keptByAll),
                                        num(c.expected),
                                        num(c.ratio())};
    };
    Table t;
    t.header = {"scope", "layer", "type", "weights", "kept_by_all", "chance", "ratio"};
    t.rows.push_back(row("all", s.overall));
    for (const SurvivorCount &c : s.byType)
        t.rows.push_back(row("type", c));
    for (const SurvivorCount &c : s.byTensor)
        t.rows.push_back(row("tensor", c));
    if (a.format == "json") {
        nlohmann::json j = {{"masks", nlohmann::json::array()}, {"rows", nlohmann::json::array()}};
        for (size_t i = 0; i < refs.size(); ++i)
            j["masks"].push_back({{"run", refs[i].run},
                                  {"round", refs[i].round},
                                  {"label", labels[i]},
                                  {"sparsity", masks[i].sparsity()}});
        const auto entry = [](const std::string &scope, const SurvivorCount &c) {
            nlohmann::json e = {{"scope", scope},
                                {"weights", c.total},
                                {"kept_by_all", c.keptByAll},
                                {"chance", c.expected},
                                {"ratio", c.ratio()}};
            if (scope != "all")
                e["type"] = matrixTypeName(c.type);
            if (scope == "tensor") {
                e["name"] = c.name;
                e["layer"] = c.layer >= 0 ? nlohmann::json(c.layer) : nlohmann::json(nullptr);
            }
            return e;
        };
        j["rows"].push_back(entry("all", s.overall));
        for (const SurvivorCount &c : s.byType)
            j["rows"].push_back(entry("type", c));
        for (const SurvivorCount &c : s.byTensor)
            j["rows"].push_back(entry("tensor", c));
        std::printf("%s\n", j.dump(2).c_str());
        return;
    }
    if (a.format == "text") {
        std::printf("weights kept by all %zu masks (chance: the count independent random masks of the same "
                    "per-matrix densities would share; ratio = kept / chance)\n",
                    masks.size());
        for (size_t i = 0; i < labels.size(); ++i)
            std::printf("  %s: sparsity %.1f%%\n", labels[i].c_str(), 100.0 * masks[i].sparsity());
    }
    t.print(a.format);
}

void weightHistogramCommand(const AnalyzeArgs &a, int bins)
{
    auto store = ExperimentStore::open(a.db);
    const WeightHistograms h = storedWeightHistograms(*store, a.run, a.round, bins);
    std::vector<const WeightHistogram *> rows{&h.overall};
    for (const WeightHistogram &x : h.byType)
        rows.push_back(&x);
    const auto typeName = [](const WeightHistogram &x) {
        return x.type == MatrixType::Other ? std::string("all") : matrixTypeName(x.type);
    };
    if (a.format == "json") {
        nlohmann::json j = {{"run", a.run},
                            {"round", a.round},
                            {"log10_edges", h.edges},
                            {"magnitude_agreement", h.magnitudeAgreement},
                            {"chance_agreement", h.chanceAgreement},
                            {"rows", nlohmann::json::array()}};
        for (const WeightHistogram *x : rows)
            j["rows"].push_back({{"type", typeName(*x)},
                                 {"kept", x->kept},
                                 {"pruned", x->pruned},
                                 {"kept_zeros", x->keptZeros},
                                 {"pruned_zeros", x->prunedZeros},
                                 {"kept_count", x->keptCount},
                                 {"pruned_count", x->prunedCount},
                                 {"kept_mean_abs", x->keptMeanAbs},
                                 {"pruned_mean_abs", x->prunedMeanAbs}});
        std::printf("%s\n", j.dump(2).c_str());
        return;
    }
    if (a.format == "csv") {
        Table t;
        t.header = {"type", "log10_lo", "log10_hi", "kept", "pruned"};
        for (const WeightHistogram *x : rows)
            for (size_t b = 0; b < x->kept.size(); ++b)
                t.rows.push_back({typeName(*x), num(h.edges[b]), num(h.edges[b + 1]), std::to_string(x->kept[b]),
                                  std::to_string(x->pruned[b])});
        t.print("csv");
        return;
    }
    std::printf("|theta0| (the run's pre-trained weights) of the weights run %lld keeps and prunes at round %d\n",
                static_cast<long long>(a.run), a.round);
    std::printf("one-shot global magnitude pruning of theta0 to the same count keeps %.1f%% of this mask's weights "
                "(a random mask of this density: %.1f%%)\n",
                100.0 * h.magnitudeAgreement, 100.0 * h.chanceAgreement);
    Table t;
    t.header = {"type", "kept", "pruned", "mean|w| kept", "mean|w| pruned", "ratio"};
    for (const WeightHistogram *x : rows)
        t.rows.push_back({typeName(*x), std::to_string(x->keptCount), std::to_string(x->prunedCount),
                          num(x->keptMeanAbs), num(x->prunedMeanAbs),
                          x->prunedMeanAbs > 0 ? num(x->keptMeanAbs / x->prunedMeanAbs) : std::string("-")});
    t.print("text");
    std::printf("(--format csv or json for the histograms, %zu bins of log10|w| from %.2f to %.2f)\n",
                h.overall.kept.size(), h.edges.front(), h.edges.back());
}

void earlyBirdCommand(const AnalyzeArgs &a, int64_t against)
{
    auto store = ExperimentStore::open(a.db);
    const EarlyBirdReport r = earlyBirdReport(*store, a.run, against, a.metric);
    const auto opt = [](const std::optional<double> &v) { return v ? num(*v) : std::string("-"); };
    if (a.format == "json") {
        nlohmann::json rounds = nlohmann::json::array();
        for (const EarlyBirdRound &e : r.rounds) {
            nlohmann::json draws = nlohmann::json::array();
            for (const MaskDistancePoint &d : e.draws)
                draws.push_back({{"step", d.step}, {"distance", d.distance}});
            rounds.push_back(
                {{"round", e.round},
                 {"sparsity", e.sparsity},
                 {"steps", e.steps},
                 {"stopped_at", e.stoppedAt ? nlohmann::json(e.stoppedAt) : nlohmann::json(nullptr)},
                 {a.metric, e.metric ? nlohmann::json(*e.metric) : nlohmann::json(nullptr)},
                 {"against_" + a.metric, e.againstMetric ? nlohmann::json(*e.againstMetric) : nlohmann::json(nullptr)},
                 {"distances", draws}});
        }
        nlohmann::json spec = nullptr;
        if (r.spec)
            spec = {{"every", r.spec->every},
                    {"epsilon", r.spec->epsilon},
                    {"window", r.spec->window},
                    {"stop", r.spec->stop}};
        std::printf("%s\n",
                    nlohmann::json{{"run", a.run},
                                   {"against", r.against ? nlohmann::json(r.against->id) : nlohmann::json(nullptr)},
                                   {"early_bird", spec},
                                   {"scheduled_steps", r.scheduledSteps},
                                   {"steps_trained", r.stepsTrained},
                                   {"steps_saved", r.stepsSaved},
                                   {"rounds", rounds}}
                        .dump(2)
                        .c_str());
        return;
    }
    if (a.format == "csv") {
        Table t;
        t.header = {"round", "sparsity", "step", "distance"};
        for (const EarlyBirdRound &e : r.rounds)
            for (const MaskDistancePoint &d : e.draws)
                t.rows.push_back({std::to_string(e.round), num(e.sparsity), std::to_string(d.step), num(d.distance)});
        t.print("csv");
        return;
    }
    std::printf("%s\n", runLabel(r.run).c_str());
    if (!r.spec)
        std::printf("(its spec has no early_bird: no masks were drawn during training)\n");
    else
        std::printf("early bird: a draw every %s, stop when the last %d distances are below %.3f%s\n",
                    r.spec->every > 0 ? (std::to_string(r.spec->every) + " steps").c_str() : "10% of a round",
                    r.spec->window, r.spec->epsilon, r.spec->stop ? "" : " (recording only: stop is false)");
    Table t;
    t.header = {"round", "sparsity", "steps", "stopped at", "draws", "last distance", a.metric};
    if (r.against)
        t.header.insert(t.header.end(), {"full-length " + a.metric, "full-length steps"});
    for (const EarlyBirdRound &e : r.rounds) {
        std::vector<std::string> row = {std::to_string(e.round),
                                        num(e.sparsity),
                                        std::to_string(e.steps),
                                        e.stoppedAt ? std::to_string(e.stoppedAt) : std::string("-"),
                                        std::to_string(e.draws.size()),
                                        e.draws.empty() ? std::string("-") : num(e.draws.back().distance),
                                        opt(e.metric)};
        if (r.against)
            row.insert(row.end(), {opt(e.againstMetric), e.againstMetric ? std::to_string(e.againstSteps) : "-"});
        t.rows.push_back(row);
    }
    t.print("text");
    std::printf("steps trained %lld of %lld scheduled (%lld saved, %.1f%%)\n", static_cast<long long>(r.stepsTrained),
                static_cast<long long>(r.stepsTrained + r.stepsSaved), static_cast<long long>(r.stepsSaved),
                r.stepsTrained + r.stepsSaved ? 100.0 * double(r.stepsSaved) / double(r.stepsTrained + r.stepsSaved)
                                              : 0.0);
    if (r.against)
        std::printf("against %s\n", runLabel(*r.against).c_str());
}

void addAnalyzeCommands(CLI::App &app)
{
    CLI::App *an = app.add_subcommand("analyze", "Analyse stored masks and results: sparsity per layer, attention "
                                                 "heads, mask overlap, transfer and ticket tables");
    an->require_subcommand(1);

    auto ls = std::make_shared<AnalyzeArgs>();
    CLI::App *lsCmd = an->add_subcommand("layer-sparsity", "Fraction pruned of every matrix of a run's masks");
    lsCmd->add_option("--db", ls->db, "Experiment database")->required()->check(CLI::ExistingFile);
    lsCmd->add_option("--run", ls->run, "Run id")->required();
    CLI::Option *lsRound = lsCmd->add_option("--round", ls->round, "Round (default: every round the run trained)");
    addFormat(lsCmd, ls->format);
    lsCmd->callback([ls, lsRound] { layerSparsityCommand(*ls, lsRound->count() > 0); });

    auto hs = std::make_shared<AnalyzeArgs>();
    CLI::App *hsCmd = an->add_subcommand("head-survival", "Surviving fraction of every attention head's weights");
    hsCmd->add_option("--db", hs->db, "Experiment database")->required()->check(CLI::ExistingFile);
    hsCmd->add_option("--run", hs->run, "Run id")->required();
    hsCmd->add_option("--round", hs->round, "Round (0 = dense)")->required();
    hsCmd->add_option("--threshold", hs->threshold, "A head is alive when its surviving fraction exceeds this")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    CLI::Option *headsOpt = hsCmd->add_option("--heads", hs->heads, "Attention heads (default: the run's model config)")
                                ->check(CLI::PositiveNumber);
    addFormat(hsCmd, hs->format);
    hsCmd->callback([hs, headsOpt] { headSurvivalCommand(*hs, headsOpt->count() > 0); });

    auto ov = std::make_shared<AnalyzeArgs>();
    CLI::App *ovCmd = an->add_subcommand("overlap", "Intersection over union of runs' masks, with its chance level");
    ovCmd->add_option("--db", ov->db, "Experiment database")->required()->check(CLI::ExistingFile);
    ovCmd->add_option("--runs", ov->runs, "Run ids, comma-separated (by matrix type too for two)")
        ->required()
        ->delimiter(',');
    CLI::Option *ovRound =
        ovCmd->add_option("--round", ov->round,
                          "Round of every run's mask (default: each run's round nearest the highest sparsity all "
                          "the runs reached)");
    addFormat(ovCmd, ov->format);
    ovCmd->callback([ov, ovRound] { overlapCommand(*ov, ovRound->count() > 0); });

    auto tr = std::make_shared<AnalyzeArgs>();
    CLI::App *trCmd = an->add_subcommand("transfer", "Transfer runs by source and target task against the full "
                                                     "model and the target's own ticket (the paper's Figure 2)");
    trCmd->add_option("--db", tr->db, "Experiment database")->required()->check(CLI::ExistingFile);
    trCmd->add_option("--metric", tr->metric, "Dev metric (main, accuracy, f1, ...)")->capture_default_str();
    addFormat(trCmd, tr->format);
    trCmd->callback([tr] { transferCommand(*tr); });

    auto ss = std::make_shared<AnalyzeArgs>();
    auto ssMasks = std::make_shared<std::string>();
    CLI::App *ssCmd = an->add_subcommand("super-survivors", "The weights every one of a set of masks keeps (say, "
                                                            "each task's ticket), against chance, by matrix");
    ssCmd->add_option("--db", ss->db, "Experiment database")->required()->check(CLI::ExistingFile);
    ssCmd->add_option("--masks", *ssMasks, "RUN:ROUND,... (a bare RUN is its last mask round), at least two")
        ->required();
    addFormat(ssCmd, ss->format);
    ssCmd->callback([ss, ssMasks] { superSurvivorsCommand(*ss, *ssMasks); });

    auto wh = std::make_shared<AnalyzeArgs>();
    auto whBins = std::make_shared<int>(60);
    CLI::App *whCmd = an->add_subcommand("weight-histogram", "|theta0| of the weights a mask keeps against those it "
                                                             "prunes, per matrix type (log-scaled bins)");
    whCmd->add_option("--db", wh->db, "Experiment database")->required()->check(CLI::ExistingFile);
    whCmd->add_option("--run", wh->run, "Run id")->required();
    whCmd->add_option("--round", wh->round, "Round (its mask)")->required();
    whCmd->add_option("--bins", *whBins, "Bins of log10|w|")->capture_default_str()->check(CLI::Range(1, 1000));
    addFormat(whCmd, wh->format);
    whCmd->callback([wh, whBins] { weightHistogramCommand(*wh, *whBins); });

    addSensitivityCommand(*an);
    addHeadImportanceCommand(*an);

    auto eb = std::make_shared<AnalyzeArgs>();
    auto ebAgainst = std::make_shared<int64_t>(0);
    CLI::App *ebCmd = an->add_subcommand("early-bird", "Early-bird tickets: how far each round's next mask moved "
                                                       "between draws, where the rule stopped it, steps saved");
    ebCmd->add_option("--db", eb->db, "Experiment database")->required()->check(CLI::ExistingFile);
    ebCmd->add_option("--run", eb->run, "Run id (an imp run with early_bird in its spec)")->required();
    ebCmd->add_option("--against", *ebAgainst, "A full-length IMP run to compare metrics and steps with");
    ebCmd->add_option("--metric", eb->metric, "Dev metric (main, accuracy, f1, ...)")->capture_default_str();
    addFormat(ebCmd, eb->format);
    ebCmd->callback([eb, ebAgainst] { earlyBirdCommand(*eb, *ebAgainst); });

    auto tk = std::make_shared<AnalyzeArgs>();
    CLI::App *tkCmd = an->add_subcommand("tickets", "The winning ticket of every task in the database");
    tkCmd->add_option("--db", tk->db, "Experiment database")->required()->check(CLI::ExistingFile);
    tkCmd->add_option("--criterion", tk->criterion, "within_std (the paper) or match")
        ->capture_default_str()
        ->check(CLI::IsMember(ticketCriteria()));
    tkCmd->add_option("--kind", tk->kind, "Run kind to summarise (imp, random, ...)")
        ->capture_default_str()
        ->check(CLI::IsMember(runKindNames()));
    tkCmd->add_option("--metric", tk->metric, "Dev metric (main, accuracy, f1, ...)")->capture_default_str();
    addFormat(tkCmd, tk->format);
    tkCmd->callback([tk] { ticketsCommand(*tk); });
}

} // namespace tl::cli
