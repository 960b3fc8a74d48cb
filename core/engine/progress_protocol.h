#pragma once

// The CLI <-> GUI progress protocol, defined once: `ticketlab-cli run --progress json` (and
// `study run-one`) print one JSON object per line on stdout; the desktop app's run queue and
// `study run` read them back. Torch-free.
//
// Lines: {"event": "run_start"|"round_start"|"progress"|"round_done"|"run_done", "run", "seed",
// "round", "rounds", "sparsity", ...}; "progress" adds step, total_steps, loss, lr,
// tokens_per_s, eta_s; "round_done" adds metrics; "run_start" adds resumed and reused. The last
// line is {"event": "done", "runs": [ids], "actions": ["new"|"resumed"|"done", ...],
// "cancelled": bool}.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/runner.h"

namespace tl {

/// The JSON line of an event ("tick" events are never printed: the caller skips them).
nlohmann::json runEventToJson(const RunEvent &event);

/// The closing line of a run command.
nlohmann::json runsDoneToJson(const RunOutcome &outcome);

/// One parsed line: either an event, or the closing "done" line.
struct ProgressLine
{
    bool done = false;  ///< the closing line
    RunEvent event;     ///< when !done
    RunOutcome outcome; ///< when done (runIds, actions and cancelled; seeds are not sent)
};

/// Parses one line; nullopt for a line that is not a protocol object (blank, not JSON, no
/// known "event"), so a stray print never breaks a reader.
std::optional<ProgressLine> parseProgressLine(const std::string &line);

/// Fraction done of a run (rounds 0..rounds, each split by steps), in [0, 1].
double runFractionDone(const RunEvent &event);

/// A duration for people, to the second below an hour ("42s", "3m07s") and to the minute above
/// ("2h05m"); "?" when unknown (negative or not finite). ETAs everywhere use it.
std::string formatDuration(double seconds);

} // namespace tl
