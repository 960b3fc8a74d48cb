#pragma once

// Winning tickets (torch-free): per task, the metric over seeds at every sparsity, and the
// highest sparsity that still matches the full model.

#include <optional>
#include <string>
#include <vector>

namespace tl {

class ExperimentStore;

struct SparsityPoint
{
    double sparsity = 0;
    double mean = 0;
    double std = 0; ///< sample standard deviation over seeds (0 for one seed)
    int seeds = 0;
};

struct TicketSummary
{
    std::string task, kind, metric, criterion;
    double fullMean = 0, fullStd = 0;
    int fullSeeds = 0;
    std::vector<SparsityPoint> points;       ///< by sparsity
    std::optional<double> winningSparsity;   ///< highest sparsity meeting the criterion
};

/// Mean and sample standard deviation.
std::pair<double, double> meanStd(const std::vector<double> &values);

/// "within_std" (the paper: mean within one standard deviation of the full model's mean,
/// i.e. mean >= fullMean - fullStd) or "match" (mean >= fullMean).
bool meetsCriterion(double mean, double fullMean, double fullStd, const std::string &criterion);

/// From the finished rounds of the task's runs of `kind` (grouped by sparsity, metric "main"),
/// against the full model: the rounds of "full" runs of the task, or else the dense round 0
/// of the runs themselves. Throws tl::Error for an unknown criterion.
TicketSummary summarizeTickets(const ExperimentStore &store, const std::string &task, const std::string &kind = "imp",
                               const std::string &criterion = "within_std", const std::string &metric = "main");

} // namespace tl
