#include "store/merge.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "engine/run_spec.h"
#include "store/experiment_store.h"
#include "util/error.h"

namespace tl {
namespace {

std::string describe(const RunRecord &r, const std::string &path)
{
    return path + ": run " + runLabel(r) + ", spec " + r.specHash;
}

/// The finished run of `into` with r's identity, if any.
std::optional<RunRecord> findSame(const std::vector<RunRecord> &intoRuns, const std::string &specHash, uint64_t seed)
{
    for (const RunRecord &x : intoRuns)
        if (x.status == "done" && x.specHash == specHash && x.seed == seed)
            return x;
    return std::nullopt;
}

bool sameResults(const ExperimentStore &a, int64_t aId, const ExperimentStore &b, int64_t bId)
{
    const auto ra = a.rounds(aId), rb = b.rounds(bId);
    if (ra.size() != rb.size())
        return false;
    for (size_t i = 0; i < ra.size(); ++i) {
        if (ra[i].round != rb[i].round || ra[i].sparsity != rb[i].sparsity ||
            !sameMetrics(ra[i].devMetrics(), rb[i].devMetrics()))
            return false;
    }
    return a.pruneOrder(aId) == b.pruneOrder(bId);
}

} // namespace

MergeReport mergeStore(ExperimentStore &into, const ExperimentStore &from)
{
    MergeReport report;
    std::vector<RunRecord> fromRuns = from.runs();
    std::reverse(fromRuns.begin(), fromRuns.end()); // oldest first: sources before what uses them
    std::vector<RunRecord> intoRuns = into.runs();
    std::map<int64_t, int64_t> idMap; // from's run id -> into's

    for (const RunRecord &r : fromRuns) {
        if (r.status != "done") {
            ++report.unfinished;
            continue;
        }
        // Specs that name a source run by id are rewritten to the lab's id (and so re-hashed).
        std::string specJson = r.specJson, specHash = r.specHash;
        nlohmann::json spec = nlohmann::json::parse(specJson, nullptr, false);
        if (spec.is_object() && spec.contains("source") && spec["source"].is_object() &&
            spec["source"].contains("run")) {
            const int64_t src = spec["source"]["run"].get<int64_t>();
            auto it = idMap.find(src);
            if (it == idMap.end())
                throw Error(describe(r, from.path()) + ": its source run " + std::to_string(src) +
                            " is not a finished run of that store, so it cannot be merged");
            spec["source"]["run"] = it->second;
            const RunSpec parsed = RunSpec::fromJson(spec, describe(r, from.path()));
            specJson = parsed.toJson().dump();
            specHash = parsed.hash();
        }
        if (auto same = findSame(intoRuns, specHash, r.seed)) {
            if (!sameResults(into, same->id, from, r.id))
                throw Error(describe(r, from.path()) + ": " + into.path() + " already holds run " +
                            std::to_string(same->id) + " of the same spec and seed with different results");
            idMap[r.id] = same->id;
            ++report.identical;
            continue;
        }
        into.inTransaction("merge " + describe(r, from.path()), [&] {
            RunRecord copy = r;
            copy.specJson = specJson;
            copy.specHash = specHash;
            copy.modelId = 0;
            copy.datasetId = 0;
            if (r.modelId)
                if (auto m = from.model(r.modelId))
                    copy.modelId = into.upsertModel(*m);
            if (r.datasetId)
                if (auto d = from.dataset(r.datasetId))
                    copy.datasetId = into.upsertDataset(*d);
            const int64_t id = into.createRun(copy);
            const auto rounds = from.rounds(r.id);
            const auto curve = from.curve(r.id);
            const auto distances = from.maskDistances(r.id);
            const auto blob = from.pruneOrder(r.id);
            for (size_t i = 0; i < rounds.size(); ++i) {
                RoundRecord round = rounds[i];
                round.runId = id;
                std::vector<CurvePoint> points;
                std::copy_if(curve.begin(), curve.end(), std::back_inserter(points),
                             [&](const CurvePoint &p) { return p.round == round.round; });
                std::vector<MaskDistancePoint> draws;
                std::copy_if(distances.begin(), distances.end(), std::back_inserter(draws),
                             [&](const MaskDistancePoint &p) { return p.round == round.round; });
                into.commitRound(round, points, i + 1 == rounds.size() && blob ? &*blob : nullptr, draws);
            }
            for (AnalysisRecord a : from.runAnalyses(r.id)) { // e.g. the head importance it pruned by
                a.runId = id;
                a.modelId = a.modelId == r.modelId ? copy.modelId : 0;
                a.datasetId = a.datasetId == r.datasetId ? copy.datasetId : 0;
                into.addAnalysis(a);
            }
            if (rounds.empty() && blob) // a run with a mask and no trained round
                throw Error(describe(r, from.path()) + ": has a prune order but no rounds");
            if (auto t = from.transfer(r.id)) {
                t->runId = id;
                if (t->sourceRunId) {
                    auto it = idMap.find(t->sourceRunId);
                    if (it == idMap.end())
                        throw Error(describe(r, from.path()) + ": its transfer source run " +
                                    std::to_string(t->sourceRunId) + " was not merged");
                    t->sourceRunId = it->second;
                }
                into.recordTransfer(*t);
            }
            idMap[r.id] = id;
            copy.id = id;
            copy.status = "done";
            intoRuns.push_back(copy);
        });
        ++report.added;
    }
    return report;
}

} // namespace tl
