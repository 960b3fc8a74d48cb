#pragma once

// A study: the paper's whole protocol (every task x IMP and its baselines x seeds, then the
// transfer matrix) as one JSON file, expanded into run specs with stable, readable keys.
// Torch-free, so the CLI, the GUI and a SLURM job read the same plan.
//
// ```json
// {
//   "name": "minilm-glue", "model": "models/minilm-l6",
//   "tasks": {"RTE": "glue/RTE", "MRPC": "glue/MRPC", "mlm": "corpus"},
//   "seeds": [0, 1, 2],
//   "prune": {...}, "rewind": "pretrained", "head": "keep", "train": {...},
//   "train_per_task": {"mlm": {"max_steps": 2000}},
//   "threads": 1, "device": "cpu",
//   "baselines": ["full", "random", "reinit", "shuffle"], "at": [0.5, 0.6, 0.7],
//   "transfer": {"sparsity": 0.7, "from": ["RTE"], "to": ["MRPC"]},
//   "criterion": "within_std", "metric": {"MRPC": "accuracy"}
// }
// ```
//
// Required: name, model, tasks. prune, rewind, head, train, threads, device and criterion are
// the run-spec fields (validated as in a run spec) shared by every run; train_per_task
// overrides single train fields for a task. baselines: any of full, random, reinit, shuffle,
// standard, oneshot (default full, random, reinit, shuffle: the paper's Table 2 columns).
// transfer (optional): {"sparsity": s} (the IMP round nearest s) or {"round": k}; from / to
// default to every task. at: the baselines (other than full) train only the rounds nearest these
// sparsities, the ones Table 2 compares (run-spec "at"). metric: per task, the metric the report reads (default: the
// task's main GLUE metric). reference (optional, for the report only): published results to set
// beside the study's, {"label": "Chen et al. (2020), Table 2", "tasks": {"RTE": {"sparsity": 0.6,
// "metric": "accuracy", "full": 0.666, "imp": 0.66, "random": 0.56}}}.
//
// Keys: "RTE/imp/s0", "RTE/reinit/s0", "RTE->MRPC/transfer/s0". reinit, shuffle and transfer
// runs depend on the IMP run of the same task and seed, and name it in their spec by its spec
// hash and seed (never by a database id), so a plan means the same in every database.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/run_spec.h"

namespace tl {

class ExperimentStore;

struct StudyTransfer
{
    std::optional<double> sparsity;    ///< the IMP round whose sparsity is nearest this
    std::optional<int> round;          ///< or this round
    std::vector<std::string> from, to; ///< canonical task names
};

/// A published result a task's results are set beside (the paper's Table 2 row): where its
/// ticket is and what each kind scored there.
struct StudyReference
{
    double sparsity = 0; ///< the reference's winning-ticket sparsity
    std::string metric;  ///< the metric its values are in ("": the study's for the task)
    /// IMP, the full model and IMP's baselines -> the reference's value (the full model's at 0%,
    /// the others' at sparsity), in the metric's own scale (accuracy 0.66, not 66.0).
    std::vector<std::pair<RunKind, double>> values;
};

struct StudySpec
{
    std::string name;
    std::string partLabel; ///< "tasks CoLA; seeds 0, 1" for a part() of the study, else ""
    std::string path;      ///< the file it was read from ("" when built in code)
    std::string model;
    std::vector<std::pair<std::string, std::string>>
        tasks; ///< canonical task name -> data folder, in name order (JSON objects sort)
    std::vector<uint64_t> seeds{0};
    std::vector<RunKind> baselines{RunKind::Full, RunKind::Random, RunKind::Reinit, RunKind::Shuffle};
    std::optional<StudyTransfer> transfer;
    std::string criterion = "within_std";
    std::map<std::string, std::string> metric;       ///< canonical task -> metric name
    std::string referenceLabel;                      ///< whose results `reference` holds
    std::map<std::string, StudyReference> reference; ///< canonical task -> the reference's row
    /// Baselines other than full train only the rounds nearest these sparsities (run-spec "at").
    std::vector<double> at;
    /// The shared run-spec fields as JSON (prune, rewind, head, train, threads, device,
    /// criterion) and the per-task train overrides.
    nlohmann::json shared = nlohmann::json::object();
    std::map<std::string, nlohmann::json> trainPerTask;

    static StudySpec fromJson(const nlohmann::json &json, const std::string &sourceName);
    /// Reads a study file; relative model and task folders are resolved against its folder.
    static StudySpec load(const std::string &path);

    /// The study limited to some of its tasks and seeds (an empty list keeps them all), to run or
    /// report it part by part: every run keeps its key and spec hash, so a lab that ran a part
    /// is reused by the whole study. A transfer keeps the directions whose two tasks are both
    /// in the part. Throws tl::Error, naming the study file, for a task or seed it does not have.
    StudySpec part(const std::vector<std::string> &tasks, const std::vector<uint64_t> &seeds) const;

    /// The metric a task's row reads (kMainMetric unless set).
    std::string metricFor(const std::string &task) const;
    /// The names of the kinds a study may list as baselines: those that are IMP's (runKindTable()).
    static std::vector<std::string> baselineKinds();
};

/// One run of a plan.
struct PlannedRun
{
    std::string key; ///< "RTE/imp/s0"
    RunKind kind = RunKind::Imp;
    std::string task;       ///< the task it trains on (the target of a transfer)
    std::string sourceTask; ///< transfer: the task whose ticket it uses; else empty
    uint64_t seed = 0;
    std::vector<std::string> dependsOn; ///< keys
    int level = 0;                      ///< 0: no dependencies; 1: needs level-0 runs
    RunSpec spec;                       ///< with exactly this seed
};

enum class PlanStatus
{
    Todo,
    Partial,
    Done
};
std::string planStatusName(PlanStatus status);

/// Expands a study into its runs, IMP first, in a stable order. threadsOverride > 0 replaces
/// the study's thread count (study run --jobs splits the cores). Throws tl::Error naming the
/// study field at fault.
std::vector<PlannedRun> planStudy(const StudySpec &study, int threadsOverride = 0);

/// Where each planned run stands in a database (one pass over its runs): Done (a finished run
/// of its spec and seed), Partial (an unfinished one) or Todo.
std::vector<PlanStatus> planStatuses(const ExperimentStore &store, const std::vector<PlannedRun> &plan);

/// A file name for a key: "RTE/imp/s0" -> "RTE_imp_s0", "RTE->MRPC/transfer/s0" ->
/// "RTE-to-MRPC_transfer_s0".
std::string keyFileName(const std::string &key);

} // namespace tl
