#pragma once

// Winning tickets (torch-free): per model and task, the metric over seeds at every sparsity,
// and the highest sparsity that still matches the full model.
//
// Every summary of a lab groups runs by (model, task): two models' baselines never mix. A model
// is the store's model record that a run used (0 for runs without one).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/run_kinds.h"
#include "store/experiment_store.h"

namespace tl {

struct SparsityPoint
{
    double sparsity = 0;
    double mean = 0;
    double std = 0; ///< sample standard deviation over seeds (0 for one seed)
    int seeds = 0;
};

struct TicketSummary
{
    int64_t modelId = 0;
    std::string model; ///< modelLabels()' name of modelId
    std::string task;
    RunKind kind = RunKind::Imp;
    std::string metric, criterion;
    double fullMean = 0, fullStd = 0;
    int fullSeeds = 0;
    std::vector<SparsityPoint> points;     ///< by sparsity
    std::optional<double> winningSparsity; ///< highest sparsity meeting the criterion
};

/// Mean and sample standard deviation.
std::pair<double, double> meanStd(const std::vector<double> &values);

/// How far below a reference a metric may lie and still count as reaching it: means of equal
/// values computed in another order differ in the last bits.
inline constexpr double kMetricTolerance = 1e-12;

/// value >= reference, up to kMetricTolerance. Every "at least as good" of the analyses.
bool metricAtLeast(double value, double reference);

/// "within_std" (the paper: mean within one standard deviation of the full model's mean,
/// i.e. mean >= fullMean - fullStd) or "match" (mean >= fullMean), both by metricAtLeast().
bool meetsCriterion(double mean, double fullMean, double fullStd, const std::string &criterion);

/// The criteria meetsCriterion() knows, the paper's first: every option, field and menu that
/// names one offers these.
const std::vector<std::string> &ticketCriteria();

/// The one rule for "the same sparsity", everywhere rounds, study `at` values and ticket
/// sparsities are compared: the key rounds to a tenth of a percent, the precision sparsities
/// print with (percentText). A round's sparsity is an exact fraction of its run's prunable
/// count (0.49999987 for a 50% target), so a round, the target that made it and a study's
/// `"at": [0.5]` share one key. The sparsity back, on that grid: sparsityOfKey(key); a
/// SparsityPoint keeps its first round's own sparsity instead.
long long sparsityKey(double sparsity);
double sparsityOfKey(long long key);

/// The dev metric `metric` of the finished rounds of `runs`, grouped by sparsityKey: mean and
/// sample std over the rounds (seeds) at each sparsity, by sparsity. Rounds without the metric
/// are left out.
std::vector<SparsityPoint> sparsityPoints(const ExperimentStore &store, const std::vector<RunRecord> &runs,
                                          const std::string &metric);

/// Display names of the models that runs use, unique within the lab: the model folder's name;
/// the full path where two folders share a name; " @" and the start of the content hash where
/// one path held different weights. Id 0 (runs without a model record): "(no model)".
std::map<int64_t, std::string> modelLabels(const ExperimentStore &store);

/// The task of the lab's runs that `name` means: a task name in any case or spelling that
/// taskByName() accepts ("mrpc", "sst2"), or the stored name in any case ("MLM"). Throws
/// tl::Error naming the lab's tasks (and, for a name that is no task at all, the known tasks)
/// when no run has that task.
std::string resolveStoredTask(const ExperimentStore &store, const std::string &name);

/// Throws tl::Error naming the dev metrics of the stored rounds (of `task`'s runs, or of every
/// run when task is empty) when none of those rounds has `metric`. kMainMetric is always accepted.
void requireStoredMetric(const ExperimentStore &store, const std::string &metric, const std::string &task = {});

/// From the finished rounds of the runs of `kind` on (modelId, task) (sparsityPoints()),
/// against the full model: the rounds of full runs of the same model and task, or else the
/// dense round 0 of the runs themselves. Throws tl::Error for an unknown criterion.
TicketSummary summarizeTickets(const ExperimentStore &store, int64_t modelId, const std::string &task,
                               RunKind kind = RunKind::Imp, const std::string &criterion = "within_std",
                               const std::string &metric = kMainMetric);

/// The same summary over given runs: `runs` (one kind, one model and task) against `fullRuns`
/// (or, when that is empty, the dense round 0 of `runs`). model, task and kind are taken from
/// the first run. For reports over a chosen set of runs, e.g. one study's.
TicketSummary summarizeTicketRuns(const ExperimentStore &store, const std::vector<RunRecord> &runs,
                                  const std::vector<RunRecord> &fullRuns, const std::string &criterion = "within_std",
                                  const std::string &metric = kMainMetric);

/// summarizeTickets() for every (model, task) with runs of `kind` (restricted to `task` when
/// it is not empty), by model label, then task.
std::vector<TicketSummary> summarizeAllTickets(const ExperimentStore &store, RunKind kind = RunKind::Imp,
                                               const std::string &criterion = "within_std",
                                               const std::string &metric = kMainMetric, const std::string &task = {});

} // namespace tl
