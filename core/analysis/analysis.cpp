#include "analysis/analysis.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <cstdio>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "analysis/tickets.h"
#include "model/bert_config.h"
#include "store/experiment_store.h"
#include "util/error.h"

namespace tl {

namespace {

bool startsWith(const std::string &s, const std::string &prefix)
{
    return s.compare(0, prefix.size(), prefix) == 0;
}

int64_t countKept(const std::vector<uint8_t> &keep)
{
    return std::count_if(keep.begin(), keep.end(), [](uint8_t k) { return k != 0; });
}

bool isAttention(MatrixType t)
{
    return t == MatrixType::Query || t == MatrixType::Key || t == MatrixType::Value || t == MatrixType::AttentionOutput;
}

/// Running sums of one overlap: the actual counts and the expectation for random masks.
struct OverlapSums
{
    int64_t intersection = 0, unionCount = 0;
    double expectedIntersection = 0, expectedUnion = 0;

    void add(const MaskTensor &a, const MaskTensor &b)
    {
        int64_t keptA = 0, keptB = 0;
        for (size_t i = 0; i < a.keep.size(); ++i) {
            const bool x = a.keep[i] != 0, y = b.keep[i] != 0;
            keptA += x;
            keptB += y;
            intersection += x && y;
            unionCount += x || y;
        }
        const double n = double(a.keep.size());
        if (n == 0)
            return;
        const double pa = double(keptA) / n, pb = double(keptB) / n;
        expectedIntersection += n * pa * pb;
        expectedUnion += n * (pa + pb - pa * pb);
    }

    Overlap result() const
    {
        Overlap o;
        o.intersection = intersection;
        o.unionCount = unionCount;
        o.iou = unionCount ? double(intersection) / double(unionCount) : 0.0;
        o.chance = expectedUnion > 0 ? expectedIntersection / expectedUnion : 0.0;
        return o;
    }
};

} // namespace

std::string matrixTypeName(MatrixType type)
{
    switch (type) {
    case MatrixType::Query:
        return "Q";
    case MatrixType::Key:
        return "K";
    case MatrixType::Value:
        return "V";
    case MatrixType::AttentionOutput:
        return "AttnOut";
    case MatrixType::FfnIn:
        return "FFN-in";
    case MatrixType::FfnOut:
        return "FFN-out";
    case MatrixType::Pooler:
        return "Pooler";
    case MatrixType::WordEmbeddings:
        return "WordEmb";
    case MatrixType::PositionEmbeddings:
        return "PosEmb";
    case MatrixType::TokenTypeEmbeddings:
        return "TypeEmb";
    case MatrixType::Other:
        break;
    }
    return "Other";
}

const std::vector<MatrixType> &encoderMatrixTypes()
{
    static const std::vector<MatrixType> types = {MatrixType::Query,           MatrixType::Key,   MatrixType::Value,
                                                  MatrixType::AttentionOutput, MatrixType::FfnIn, MatrixType::FfnOut};
    return types;
}

ParamLocation locateParam(const std::string &fullName)
{
    const std::string name = startsWith(fullName, "bert.") ? fullName.substr(5) : fullName;
    ParamLocation loc;
    static const std::map<std::string, MatrixType> outside = {
        {"pooler.dense.weight", MatrixType::Pooler},
        {"embeddings.word_embeddings.weight", MatrixType::WordEmbeddings},
        {"embeddings.position_embeddings.weight", MatrixType::PositionEmbeddings},
        {"embeddings.token_type_embeddings.weight", MatrixType::TokenTypeEmbeddings},
    };
    if (auto it = outside.find(name); it != outside.end()) {
        loc.type = it->second;
        return loc;
    }
    const std::string prefix = "encoder.layer.";
    if (!startsWith(name, prefix))
        return loc;
    const size_t digits = name.find_first_not_of("0123456789", prefix.size());
    if (digits == prefix.size() || digits == std::string::npos || name[digits] != '.' || digits - prefix.size() > 6)
        return loc;
    loc.layer = std::stoi(name.substr(prefix.size(), digits - prefix.size()));
    // Exact suffixes: "attention.output.dense" and the layer's own "output.dense" (FFN out)
    // differ only by what precedes "output.".
    static const std::map<std::string, MatrixType> inLayer = {
        {"attention.self.query.weight", MatrixType::Query},
        {"attention.self.key.weight", MatrixType::Key},
        {"attention.self.value.weight", MatrixType::Value},
        {"attention.output.dense.weight", MatrixType::AttentionOutput},
        {"intermediate.dense.weight", MatrixType::FfnIn},
        {"output.dense.weight", MatrixType::FfnOut},
    };
    if (auto it = inLayer.find(name.substr(digits + 1)); it != inLayer.end())
        loc.type = it->second;
    return loc;
}

std::vector<LayerSparsity> layerSparsity(const MaskSet &mask)
{
    std::vector<LayerSparsity> out;
    for (const MaskTensor &t : mask.tensors) {
        const ParamLocation loc = locateParam(t.name);
        if (loc.type == MatrixType::Other)
            continue;
        LayerSparsity s;
        s.layer = loc.layer;
        s.type = loc.type;
        s.total = int64_t(t.keep.size());
        s.pruned = s.total - countKept(t.keep);
        out.push_back(s);
    }
    return out;
}

std::vector<std::vector<LayerSparsity>> layerSparsityByRound(const PruneOrder &order)
{
    // One pass over the order: per tensor, how many weights went in each round. A mask per
    // round would decode and materialise the whole order once per round (seconds each at
    // BERT-base size).
    const int rounds = order.rounds();
    std::vector<std::vector<LayerSparsity>> out(size_t(rounds) + 1);
    size_t offset = 0;
    for (size_t i = 0; i < order.names.size(); ++i) {
        int64_t n = 1;
        for (int64_t d : order.shapes[i])
            n *= d;
        const ParamLocation loc = locateParam(order.names[i]);
        if (loc.type != MatrixType::Other) {
            std::vector<int64_t> perRound(size_t(rounds) + 1, 0);
            for (size_t k = offset; k < offset + size_t(n); ++k)
                ++perRound[order.order[k] <= rounds ? order.order[k] : 0];
            int64_t pruned = 0;
            for (int r = 0; r <= rounds; ++r) {
                if (r > 0)
                    pruned += perRound[size_t(r)];
                out[size_t(r)].push_back({loc.layer, loc.type, n, pruned});
            }
        }
        offset += size_t(n);
    }
    return out;
}

bool HeadLayout::isRemoved(int layer, int head) const
{
    const auto it = removed.find(layer);
    return it != removed.end() && std::find(it->second.begin(), it->second.end(), head) != it->second.end();
}

int HeadLayout::headsIn(int layer) const
{
    const auto it = removed.find(layer);
    return heads - (it == removed.end() ? 0 : int(it->second.size()));
}

std::vector<HeadSurvival> headSurvival(const MaskSet &mask, const HeadLayout &layout)
{
    const int heads = layout.heads;
    if (heads < 1)
        throw Error("head survival: " + std::to_string(heads) + " attention heads (need at least 1)");
    int layers = 0;
    int64_t hidden = 0;
    std::string hiddenFrom;
    int64_t ffnHidden = 0;
    // (layer, type) -> tensor
    std::map<std::pair<int, MatrixType>, const MaskTensor *> attention;
    for (const MaskTensor &t : mask.tensors) {
        const ParamLocation loc = locateParam(t.name);
        if (loc.layer < 0)
            continue;
        layers = std::max(layers, loc.layer + 1);
        if (loc.type == MatrixType::FfnIn && t.shape.size() == 2)
            ffnHidden = t.shape[1];
        else if (loc.type == MatrixType::FfnOut && t.shape.size() == 2 && ffnHidden == 0)
            ffnHidden = t.shape[0];
        if (!isAttention(loc.type))
            continue;
        if (t.shape.size() != 2 || int64_t(t.keep.size()) != t.numel())
            throw Error("head survival: " + t.name + " has shape " + shapeToString(t.shape) +
                        ", expected a matrix of [heads x d, hidden]");
        // Q, K and V map hidden to the layer's heads; the attention output maps them back.
        const int64_t h = loc.type == MatrixType::AttentionOutput ? t.shape[0] : t.shape[1];
        if (hidden == 0) {
            hidden = h;
            hiddenFrom = t.name;
        } else if (h != hidden) {
            throw Error("head survival: " + t.name + " has shape " + shapeToString(t.shape) + " but " + hiddenFrom +
                        " has hidden size " + std::to_string(hidden));
        }
        attention[{loc.layer, loc.type}] = &t;
    }
    if (hidden == 0)
        hidden = ffnHidden;
    if (layers == 0 || hidden == 0)
        return {};
    if (hidden % heads != 0)
        throw Error("head survival: " + std::to_string(heads) + " heads do not divide hidden size " +
                    std::to_string(hidden) + (hiddenFrom.empty() ? "" : " (" + hiddenFrom + ")"));
    const int64_t d = hidden / heads;
    for (const auto &[key, t] : attention) {
        const int64_t width = d * layout.headsIn(key.first);
        const int64_t actual = key.second == MatrixType::AttentionOutput ? t->shape[1] : t->shape[0];
        if (actual != width)
            throw Error("head survival: " + t->name + " has shape " + shapeToString(t->shape) + ", but layer " +
                        std::to_string(key.first) + " has " + std::to_string(layout.headsIn(key.first)) + " heads of " +
                        std::to_string(d) + " features" +
                        (layout.removed.empty() && actual < width && actual % d == 0
                             ? " (a compacted model? its config's pruned_heads say which heads it lacks)"
                             : ""));
    }
    std::vector<HeadSurvival> out;
    for (int layer = 0; layer < layers; ++layer) {
        int64_t k = 0; // the head's position among those the layer still has
        for (int h = 0; h < heads; ++h) {
            HeadSurvival s;
            s.layer = layer;
            s.head = h;
            if (layout.isRemoved(layer, h)) {
                s.removed = true;
                out.push_back(s);
                continue;
            }
            for (MatrixType type : {MatrixType::Query, MatrixType::Key, MatrixType::Value}) {
                s.total += d * hidden;
                const auto it = attention.find({layer, type});
                if (it == attention.end()) {
                    s.kept += d * hidden;
                    continue;
                }
                // Rows [k*d, (k+1)*d): contiguous in row-major order.
                const auto begin = it->second->keep.begin() + k * d * hidden;
                s.kept += std::count_if(begin, begin + d * hidden, [](uint8_t x) { return x != 0; });
            }
            s.total += hidden * d;
            const auto it = attention.find({layer, MatrixType::AttentionOutput});
            if (it == attention.end()) {
                s.kept += hidden * d;
            } else {
                const std::vector<uint8_t> &keep = it->second->keep;
                const int64_t cols = it->second->shape[1];
                for (int64_t row = 0; row < hidden; ++row)
                    for (int64_t col = k * d; col < (k + 1) * d; ++col)
                        s.kept += keep[size_t(row * cols + col)] != 0;
            }
            out.push_back(s);
            ++k;
        }
    }
    return out;
}

double headsRemovedFraction(const std::vector<HeadSurvival> &heads)
{
    if (heads.empty())
        return 0.0;
    const auto gone =
        std::count_if(heads.begin(), heads.end(), [](const HeadSurvival &h) { return h.removed || h.kept == 0; });
    return double(gone) / double(heads.size());
}

int aliveHeads(const std::vector<HeadSurvival> &heads, double threshold)
{
    return int(std::count_if(heads.begin(), heads.end(),
                             [threshold](const HeadSurvival &h) { return h.fraction() > threshold; }));
}

OverlapReport maskOverlap(const MaskSet &a, const MaskSet &b)
{
    std::map<std::string, const MaskTensor *> byName;
    for (const MaskTensor &t : b.tensors)
        if (!byName.emplace(t.name, &t).second)
            throw Error("mask overlap: parameter " + t.name + " appears twice in the second mask");
    std::set<std::string> seen;
    OverlapSums global;
    std::map<MatrixType, OverlapSums> byType;
    for (const MaskTensor &ta : a.tensors) {
        if (!seen.insert(ta.name).second)
            throw Error("mask overlap: parameter " + ta.name + " appears twice in the first mask");
        const auto it = byName.find(ta.name);
        if (it == byName.end())
            throw Error("mask overlap: parameter " + ta.name + " is in the first mask but not in the second");
        const MaskTensor &tb = *it->second;
        if (ta.shape != tb.shape || ta.keep.size() != tb.keep.size())
            throw Error("mask overlap: parameter " + ta.name + " has shape " + shapeToString(ta.shape) +
                        " in the first mask but " + shapeToString(tb.shape) + " in the second");
        global.add(ta, tb);
        byType[locateParam(ta.name).type].add(ta, tb);
    }
    for (const MaskTensor &tb : b.tensors)
        if (!seen.count(tb.name))
            throw Error("mask overlap: parameter " + tb.name + " is in the second mask but not in the first");
    OverlapReport report;
    report.global = global.result();
    for (const auto &[type, sums] : byType) // the enum's order is the display order
        report.byType.emplace_back(type, sums.result());
    return report;
}

// ---- store-level ---------------------------------------------------------------------------

PruneOrder storedPruneOrder(const ExperimentStore &store, int64_t runId)
{
    store.requireRun(runId);
    const auto blob = store.pruneOrder(runId);
    if (!blob)
        throw Error(store.path() + ": run " + std::to_string(runId) + " has no stored masks");
    return decodePruneOrder(*blob, store.path() + " run " + std::to_string(runId));
}

MaskSet storedMask(const ExperimentStore &store, int64_t runId, int round)
{
    const PruneOrder order = storedPruneOrder(store, runId);
    if (round < 0 || round > order.rounds())
        throw Error(store.path() + ": run " + std::to_string(runId) + " has mask rounds 0.." +
                    std::to_string(order.rounds()) + ", not round " + std::to_string(round));
    return order.maskAt(round);
}

int storedMaskRounds(const ExperimentStore &store, int64_t runId)
{
    store.requireRun(runId);
    // The header only: names and shapes of every prunable tensor (a few KB even for BERT-large),
    // then the round count. A header that does not fit is read whole.
    const std::string source = store.path() + " run " + std::to_string(runId);
    const auto prefix = store.pruneOrderPrefix(runId, size_t(1) << 20);
    if (!prefix)
        return -1;
    try {
        return pruneOrderRounds(*prefix, source);
    } catch (const Error &) {
        if (prefix->size() < (size_t(1) << 20))
            throw; // that was the whole blob: it is broken
        return pruneOrderRounds(*store.pruneOrder(runId), source);
    }
}

int storedHeadCount(const ExperimentStore &store, int64_t runId)
{
    return storedHeadLayout(store, runId).heads;
}

HeadLayout storedHeadLayout(const ExperimentStore &store, int64_t runId)
{
    const RunRecord run = store.requireRun(runId);
    if (run.modelId == 0)
        return {};
    const auto model = store.model(run.modelId);
    if (!model)
        return {};
    const auto config = nlohmann::json::parse(model->configJson, nullptr, false);
    if (!config.is_object() || !config.contains("num_attention_heads") ||
        !config["num_attention_heads"].is_number_integer())
        return {};
    const int64_t heads = config["num_attention_heads"].get<int64_t>();
    if (heads <= 0 || heads >= (1 << 20))
        return {};
    HeadLayout layout;
    layout.heads = int(heads);
    if (config.contains("pruned_heads") && !config["pruned_heads"].is_null())
        layout.removed =
            BertConfig::fromJson(config, store.path() + ": model " + std::to_string(model->id) + " config").prunedHeads;
    return layout;
}

CommonSparsity commonSparsityRounds(const ExperimentStore &store, const std::vector<int64_t> &runIds)
{
    // Per run: (round, mask sparsity) of its candidate rounds.
    std::vector<std::vector<std::pair<int, double>>> candidates;
    CommonSparsity c;
    c.target = 1.0;
    for (int64_t id : runIds) {
        // A trained round's record holds its mask's sparsity: masks are decoded only for runs
        // that trained no round.
        const int maskRounds = storedMaskRounds(store, id);
        if (maskRounds < 0)
            throw Error(store.path() + ": run " + std::to_string(id) + " has no stored masks");
        std::vector<std::pair<int, double>> rounds;
        for (const RoundRecord &r : store.rounds(id))
            if (r.round >= 0 && r.round <= maskRounds)
                rounds.emplace_back(r.round, r.sparsity);
        if (rounds.empty()) {
            const PruneOrder order = storedPruneOrder(store, id);
            for (int r = 0; r <= order.rounds(); ++r)
                rounds.emplace_back(r, order.maskAt(r).sparsity());
        }
        double highest = 0;
        for (const auto &r : rounds)
            highest = std::max(highest, r.second);
        c.target = std::min(c.target, highest);
        candidates.push_back(std::move(rounds));
    }
    if (runIds.empty())
        c.target = 0;
    for (const auto &rounds : candidates) {
        // Nearest; on a tie the lower sparsity (never beyond what every run reached).
        std::pair<int, double> best = rounds.front();
        for (const auto &r : rounds)
            if (std::abs(r.second - c.target) < std::abs(best.second - c.target) - 1e-12)
                best = r;
        c.rounds.push_back(best.first);
        c.sparsities.push_back(best.second);
    }
    return c;
}

OverlapMatrix overlapMatrix(const ExperimentStore &store, const std::vector<int64_t> &runIds,
                            const std::vector<int> &rounds)
{
    if (runIds.size() != rounds.size())
        throw Error("overlap matrix: " + std::to_string(runIds.size()) + " runs but " + std::to_string(rounds.size()) +
                    " rounds");
    OverlapMatrix m;
    m.runIds = runIds;
    m.rounds = rounds;
    std::vector<MaskSet> masks;
    for (size_t i = 0; i < runIds.size(); ++i) {
        const RunRecord r = store.requireRun(runIds[i]);
        masks.push_back(storedMask(store, runIds[i], rounds[i]));
        m.sparsities.push_back(masks.back().sparsity());
        char pct[32];
        std::snprintf(pct, sizeof pct, "%.1f%%", 100.0 * m.sparsities.back());
        m.labels.push_back(runLabel(r) + ", round " + std::to_string(rounds[i]) + ", " + pct);
    }
    const size_t n = masks.size();
    m.iou.assign(n, std::vector<double>(n, 0.0));
    m.chance.assign(n, std::vector<double>(n, 0.0));
    for (size_t i = 0; i < n; ++i) {
        for (size_t j = i; j < n; ++j) {
            Overlap o;
            try {
                o = maskOverlap(masks[i], masks[j]).global;
            } catch (const Error &e) {
                throw Error("run " + std::to_string(runIds[i]) + " vs run " + std::to_string(runIds[j]) + ": " +
                            e.what());
            }
            m.iou[i][j] = m.iou[j][i] = o.iou;
            m.chance[i][j] = m.chance[j][i] = o.chance;
        }
    }
    return m;
}

const TransferCell *TransferTable::cell(const TransferRow &row, const std::string &target) const
{
    for (const TransferCell &c : cells)
        if (c.modelId == row.modelId && c.source == row.source && c.target == target &&
            sparsityKey(c.sparsity) == sparsityKey(row.sparsity))
            return &c;
    return nullptr;
}

std::vector<const TransferCell *> TransferTable::pair(const std::string &source, const std::string &target) const
{
    std::vector<const TransferCell *> out;
    for (const TransferCell &c : cells)
        if (c.source == source && c.target == target)
            out.push_back(&c);
    return out;
}

TransferTable transferTable(const ExperimentStore &store, const std::string &metric)
{
    struct Sums
    {
        double metric = 0;
        std::set<int> sourceRounds;
        int runs = 0;
        double sparsity = -1; ///< the first transfer's own, as stored
    };
    const auto labels = modelLabels(store);
    // (model label, model id, source, sparsity key, target): table order.
    using Key = std::tuple<std::string, int64_t, std::string, long long, std::string>;
    std::map<Key, Sums> groups;
    const std::vector<RunRecord> runs = store.runs();
    for (const RunRecord &run : runs) {
        if (run.kind != RunKind::Transfer)
            continue;
        const auto t = store.transfer(run.id);
        if (!t || t->sourceRunId == 0)
            continue;
        const auto source = store.run(t->sourceRunId);
        if (!source)
            continue;
        // One round (at the source's round index); should there be more, the source round's wins.
        std::optional<double> value;
        double sparsity = 0;
        for (const RoundRecord &r : store.rounds(run.id)) {
            const auto v = r.devMetric(metric);
            if (!v || (value && r.round != t->sourceRound))
                continue;
            value = v;
            sparsity = r.sparsity;
        }
        if (!value)
            continue;
        Sums &s = groups[{labels.at(run.modelId), run.modelId, source->task, sparsityKey(sparsity), run.task}];
        if (s.runs == 0)
            s.sparsity = sparsity;
        s.metric += *value;
        s.sourceRounds.insert(t->sourceRound);
        ++s.runs;
    }

    TransferTable table;
    std::set<std::string> models, sources, targets;
    std::map<std::pair<int64_t, std::string>, TicketSummary> fullByTarget;
    for (const auto &[key, sums] : groups) {
        const auto &[model, modelId, source, sparsity, target] = key;
        models.insert(model);
        sources.insert(source);
        targets.insert(target);
        TransferCell c;
        c.modelId = modelId;
        c.model = model;
        c.source = source;
        c.target = target;
        c.sparsity = sums.sparsity;
        c.sourceRounds.assign(sums.sourceRounds.begin(), sums.sourceRounds.end());
        c.runs = sums.runs;
        c.transferMetric = sums.metric / sums.runs;
        if (table.rows.empty() || table.rows.back().modelId != modelId || table.rows.back().source != source ||
            sparsityKey(table.rows.back().sparsity) != sparsity)
            table.rows.push_back({modelId, model, source, c.sparsity});
        auto fit = fullByTarget.find({modelId, target});
        if (fit == fullByTarget.end())
            fit = fullByTarget
                      .emplace(std::pair{modelId, target},
                               summarizeTickets(store, modelId, target, RunKind::Imp, "within_std", metric))
                      .first;
        const TicketSummary &full = fit->second;
        c.fullSeeds = full.fullSeeds;
        if (c.fullSeeds > 0) {
            c.fullMean = full.fullMean;
            c.delta = c.transferMetric - c.fullMean;
        }
        std::vector<double> own;
        for (const RunRecord &run : runs) {
            if (run.kind != RunKind::Imp || run.task != target || run.modelId != modelId)
                continue;
            std::optional<double> best;
            double bestDistance = 0.01 + 1e-12; // "within 0.01", inclusive despite rounding
            for (const RoundRecord &r : store.rounds(run.id)) {
                const double distance = std::abs(r.sparsity - c.sparsity);
                const auto v = r.devMetric(metric);
                if (v && distance < bestDistance) {
                    best = v;
                    bestDistance = distance;
                }
            }
            if (best)
                own.push_back(*best);
        }
        if (!own.empty()) {
            c.ownTicket = meanStd(own).first;
            c.atLeastOwnTicket = metricAtLeast(c.transferMetric, *c.ownTicket);
        }
        table.cells.push_back(c);
    }
    table.models.assign(models.begin(), models.end());
    table.sources.assign(sources.begin(), sources.end());
    table.targets.assign(targets.begin(), targets.end());
    return table;
}

} // namespace tl
