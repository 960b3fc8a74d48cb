#pragma once

// The torch-free facade of the lottery-ticket engine: run a run spec against an experiment
// database. app/ and ui/ include this, never LibTorch.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/run_kinds.h"

namespace tl {

struct RunSpec;

/// What a running experiment reports (RunEventType: run and round start and end, training
/// progress, and ticks that printers ignore).
struct RunEvent
{
    RunEventType type = RunEventType::Progress;
    int64_t runId = 0;
    uint64_t seed = 0;
    int round = 0;
    int rounds = 0;      ///< last round index
    double sparsity = 0; ///< of the round
    int64_t step = 0, totalSteps = 0;
    double loss = 0, lr = 0, tokensPerSecond = 0, etaSeconds = 0;
    std::map<std::string, double> metrics; ///< dev metrics, on round_done
    bool resumed = false;                  ///< run_start of a run found unfinished in the database
    bool reused = false;                   ///< run_start of a run found done: nothing to do, no other event follows
};

/// Return false to stop: the run ends after the current step, its finished rounds kept and
/// its status "cancelled", so that running the same spec again resumes it.
using RunEventFn = std::function<bool(const RunEvent &)>;

struct RunOutcome
{
    std::vector<int64_t> runIds; ///< one per seed reached, in the spec's order
    std::vector<uint64_t> seeds; ///< the seed of each run
    /// What happened to each run: "new" (created), "resumed" (an unfinished run continued) or
    /// "done" (found done: reused, nothing trained, nothing added).
    std::vector<std::string> actions;
    bool cancelled = false;
};

/// Runs every seed of spec against the database at dbPath, idempotently: a seed whose run
/// (same RunSpec::hash() and seed) is done is reused as it is; an unfinished one (running,
/// failed, cancelled) is resumed from its last committed round; only a seed never started gets
/// a new run. Running a spec twice therefore adds nothing the second time; a fresh repetition
/// is spec.repeat (another identity). Each round is stored as it finishes.
///
/// Throws tl::Error for bad input (missing model or data, unreadable task, a source run that
/// does not exist or has the wrong kind); the database keeps every round committed before the
/// error. Inputs are checked before a new database is created, and a database this call created
/// is removed again when the call fails before any run was stored in it.
RunOutcome executeRunSpec(const RunSpec &spec, const std::string &dbPath, const RunEventFn &onEvent = {});

/// The 64-bit seed of one round of a run: every round's randomness derives from the run seed
/// and the round index alone, so a round is reproducible on its own.
uint64_t roundSeed(uint64_t runSeed, int round);

} // namespace tl
