#pragma once

// The CLI <-> GUI progress protocol, defined once: `ticketlab-cli run --progress json` (and
// `study run-one`) print one JSON object per line on stdout; the desktop app's run queue and
// `study run` read them back. Torch-free.
//
// Lines: {"event": "run_start"|"round_start"|"progress"|"round_done"|"run_done", "run", "seed",
// "round", "rounds", "sparsity", ...}; "progress" adds step, total_steps, loss, lr,
// tokens_per_s, eta_s; "round_done" adds metrics; "run_start" adds resumed. The last line is
// {"event": "done", "runs": [ids], "cancelled": bool}.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/runner.h"

namespace tl {

/// The JSON line of an event ("tick" events are never printed: the caller skips them).
nlohmann::json runEventToJson(const RunEvent &event);

/// The closing line of a run command.
nlohmann::json runsDoneToJson(const std::vector<int64_t> &runIds, bool cancelled);

/// One parsed line: either an event, or the closing "done" line.
struct ProgressLine
{
    bool done = false;           ///< the closing line
    RunEvent event;              ///< when !done
    std::vector<int64_t> runIds; ///< when done
    bool cancelled = false;      ///< when done
};

/// Parses one line; nullopt for a line that is not a protocol object (blank, not JSON, no
/// known "event"), so a stray print never breaks a reader.
std::optional<ProgressLine> parseProgressLine(const std::string &line);

/// Fraction done of a run (rounds 0..rounds, each split by steps), in [0, 1].
double runFractionDone(const RunEvent &event);

} // namespace tl
