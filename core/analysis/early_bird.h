#pragma once

// Early-bird tickets as stored by a run (torch-free): per round, the distance between the
// successive draws of the next prune's mask, the step the early-bird rule stopped the round at,
// and the training steps that saved against the full schedule; optionally beside a full-length
// IMP run of the same task for the metric it cost.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/run_spec.h"
#include "store/experiment_store.h"

namespace tl {

struct EarlyBirdRound
{
    int round = 0;
    double sparsity = 0;
    int64_t steps = 0;     ///< trained
    int64_t stoppedAt = 0; ///< the step the rule ended the round; 0: it ran its schedule
    std::optional<double> metric;
    std::vector<MaskDistancePoint> draws;
    /// The full-length run's round at the same sparsity, when one was given and has it.
    std::optional<double> againstMetric;
    int64_t againstSteps = 0;
};

struct EarlyBirdReport
{
    RunRecord run;
    std::optional<EarlyBirdSpec> spec; ///< nullopt: the run drew no masks
    std::optional<RunRecord> against;
    std::vector<EarlyBirdRound> rounds;
    int64_t scheduledSteps = 0; ///< steps of a round that ran in full (the most any round trained)
    int64_t stepsTrained = 0;   ///< all rounds
    int64_t stepsSaved = 0;     ///< sum over rounds of scheduledSteps - steps
};

/// The report of run runId (any run: one without early_bird has no draws), against run
/// againstId (0: none) on `metric`. Throws tl::Error for an unknown run.
EarlyBirdReport earlyBirdReport(const ExperimentStore &store, int64_t runId, int64_t againstId = 0,
                                const std::string &metric = kMainMetric);

} // namespace tl
