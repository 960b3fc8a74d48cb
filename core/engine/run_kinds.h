#pragma once

// Run kinds and run-event types, defined once (torch-free). Code uses the enums; the names are
// what run specs, the store, the CLI and the progress protocol read and write, converted there.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tl {

enum class RunKind
{
    Imp,
    Full,
    Random,
    Reinit,
    Shuffle,
    Standard,
    Oneshot,
    Transfer,
    Import
};

/// One row of the run-kind table.
struct RunKindInfo
{
    RunKind kind;
    const char *name;  ///< "imp": specs, the store, the command line
    const char *label; ///< "IMP", "random pruning": figures and views
    /// A run spec may ask for it (import: only `import-mask` stores one).
    bool inSpec;
    /// Its spec needs a `source`: a mask (transfer) or the IMP run whose masks it trains (reinit, shuffle).
    bool needsSource;
    /// It prunes round by round on its spec's prune schedule (the others take their masks from
    /// elsewhere or train the dense model).
    bool prunes;
    /// The kind it is a baseline of (studies offer it as a baseline of IMP; figures draw it
    /// against that kind); nullopt for IMP itself, transfers and imports.
    std::optional<RunKind> baselineOf;
};

/// Every kind, in the order of RunKind.
const std::vector<RunKindInfo> &runKindTable();
const RunKindInfo &runKindInfo(RunKind kind);
std::string runKindName(RunKind kind);
std::string runKindLabel(RunKind kind);
/// The kind of a name (exact, lowercase), or nullopt.
std::optional<RunKind> findRunKind(const std::string &name);
/// The kind of a name; throws tl::Error naming the known kinds (`what` prefixes the message).
RunKind runKindFromName(const std::string &name, const std::string &what = "run kind");
/// The names of every kind (specOnly: only those a run spec may ask for), in table order.
std::vector<std::string> runKindNames(bool specOnly = false);
/// The kinds whose baselineOf is `kind`, in table order.
std::vector<RunKind> baselinesOf(RunKind kind);
/// The order reports list kinds in: the full model first (what everything is read against), then
/// table order. A strict weak ordering, for std::sort.
bool fullModelFirst(RunKind a, RunKind b);

/// JSON holds a kind as its name, never its number: {"kind": "imp"}. Reading an unknown name
/// throws tl::Error naming the known kinds.
void to_json(nlohmann::json &j, RunKind kind);
void from_json(const nlohmann::json &j, RunKind &kind);

/// What a running experiment reports (RunEvent::type). Tick: sent after every training step
/// with no new numbers, only so that a cancel takes effect within one step; never printed.
enum class RunEventType
{
    RunStart,
    RoundStart,
    Progress,
    Tick,
    RoundDone,
    RunDone
};

/// "run_start", "round_start", "progress", "tick", "round_done", "run_done".
std::string runEventTypeName(RunEventType type);
std::optional<RunEventType> findRunEventType(const std::string &name);

} // namespace tl
