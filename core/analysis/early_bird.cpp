#include "analysis/early_bird.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "analysis/tickets.h"
#include "util/error.h"

namespace tl {

namespace {

std::optional<EarlyBirdSpec> storedEarlyBird(const RunRecord &run)
{
    const auto j = nlohmann::json::parse(run.specJson, nullptr, false);
    if (!j.is_object() || !j.contains("early_bird") || j["early_bird"].is_null())
        return std::nullopt;
    try {
        return RunSpec::fromJson(j, "run " + std::to_string(run.id)).earlyBird;
    } catch (const Error &) {
        return std::nullopt; // an old spec this build reads no more still has its draws
    }
}

} // namespace

EarlyBirdReport earlyBirdReport(const ExperimentStore &store, int64_t runId, int64_t againstId,
                                const std::string &metric)
{
    EarlyBirdReport r;
    r.run = store.requireRun(runId);
    r.spec = storedEarlyBird(r.run);
    std::vector<RoundRecord> against;
    if (againstId) {
        r.against = store.requireRun(againstId);
        against = store.rounds(againstId);
    }
    const auto draws = store.maskDistances(runId);
    for (const RoundRecord &rec : store.rounds(runId)) {
        EarlyBirdRound e;
        e.round = rec.round;
        e.sparsity = rec.sparsity;
        e.steps = rec.steps;
        e.stoppedAt = rec.earlyBirdStep;
        e.metric = rec.devMetric(metric);
        std::copy_if(draws.begin(), draws.end(), std::back_inserter(e.draws),
                     [&](const MaskDistancePoint &p) { return p.round == rec.round; });
        for (const RoundRecord &a : against)
            if (sparsityKey(a.sparsity) == sparsityKey(rec.sparsity)) {
                e.againstMetric = a.devMetric(metric);
                e.againstSteps = a.steps;
                r.scheduledSteps = std::max(r.scheduledSteps, a.steps);
            }
        r.scheduledSteps = std::max(r.scheduledSteps, rec.steps);
        r.stepsTrained += rec.steps;
        r.rounds.push_back(std::move(e));
    }
    for (const EarlyBirdRound &e : r.rounds)
        r.stepsSaved += r.scheduledSteps - e.steps;
    return r;
}

} // namespace tl
