#include "engine/tickets.h"

#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "store/experiment_store.h"
#include "util/error.h"

namespace tl {

std::pair<double, double> meanStd(const std::vector<double> &values)
{
    if (values.empty())
        return {0.0, 0.0};
    double sum = 0;
    for (double v : values)
        sum += v;
    const double mean = sum / static_cast<double>(values.size());
    if (values.size() < 2)
        return {mean, 0.0};
    double sq = 0;
    for (double v : values)
        sq += (v - mean) * (v - mean);
    return {mean, std::sqrt(sq / static_cast<double>(values.size() - 1))};
}

bool meetsCriterion(double mean, double fullMean, double fullStd, const std::string &criterion)
{
    if (criterion == "within_std")
        return mean >= fullMean - fullStd;
    if (criterion == "match")
        return mean >= fullMean;
    throw Error("unknown winning-ticket criterion '" + criterion + "' (within_std, match)");
}

TicketSummary summarizeTickets(const ExperimentStore &store, const std::string &task, const std::string &kind,
                               const std::string &criterion, const std::string &metric)
{
    TicketSummary s;
    s.task = task;
    s.kind = kind;
    s.metric = metric;
    s.criterion = criterion;
    // Sparsities are exact fractions of the same prunable count: rounding to 1e-9 groups them.
    std::map<long long, std::vector<double>> bySparsity;
    std::vector<double> full, dense;
    auto metricOf = [&](const RoundRecord &r, double &out) {
        const auto j = nlohmann::json::parse(r.devMetricsJson, nullptr, false);
        if (!j.is_object() || !j.contains(metric) || !j[metric].is_number())
            return false;
        out = j[metric].get<double>();
        return true;
    };
    for (const RunRecord &run : store.runs()) {
        if (run.task != task)
            continue;
        for (const RoundRecord &r : store.rounds(run.id)) {
            double v = 0;
            if (!metricOf(r, v))
                continue;
            if (run.kind == "full")
                full.push_back(v);
            else if (run.kind == kind) {
                bySparsity[std::llround(r.sparsity * 1e9)].push_back(v);
                if (r.round == 0)
                    dense.push_back(v);
            }
        }
    }
    const auto [fm, fs] = meanStd(full.empty() ? dense : full);
    s.fullMean = fm;
    s.fullStd = fs;
    s.fullSeeds = static_cast<int>((full.empty() ? dense : full).size());
    for (const auto &[key, values] : bySparsity) {
        const auto [m, sd] = meanStd(values);
        s.points.push_back({static_cast<double>(key) / 1e9, m, sd, static_cast<int>(values.size())});
        if (s.fullSeeds > 0 && meetsCriterion(m, fm, fs, criterion))
            s.winningSparsity = static_cast<double>(key) / 1e9;
    }
    return s;
}

} // namespace tl
