#include "analysis/tickets.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "store/experiment_store.h"
#include "text/tasks.h"
#include "util/error.h"
#include "util/json_fields.h"

namespace tl {

namespace {

std::string lowered(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

std::string joined(const std::set<std::string> &names)
{
    std::string out;
    for (const std::string &n : names)
        out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "none" : out;
}

std::string folderName(const std::string &path)
{
    std::string p = path;
    while (p.size() > 1 && p.back() == '/')
        p.pop_back();
    const size_t slash = p.find_last_of('/');
    const std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
    return name.empty() ? path : name;
}

} // namespace

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

bool metricAtLeast(double value, double reference)
{
    return value >= reference - kMetricTolerance;
}

bool meetsCriterion(double mean, double fullMean, double fullStd, const std::string &criterion)
{
    if (criterion == "within_std")
        return metricAtLeast(mean, fullMean - fullStd);
    if (criterion == "match")
        return metricAtLeast(mean, fullMean);
    throw Error("unknown winning-ticket criterion '" + criterion + "' (" + joined(ticketCriteria()) + ")");
}

const std::vector<std::string> &ticketCriteria()
{
    static const std::vector<std::string> names = {"within_std", "match"};
    return names;
}

long long sparsityKey(double sparsity)
{
    return std::llround(sparsity * 1e3);
}

double sparsityOfKey(long long key)
{
    return static_cast<double>(key) / 1e3;
}

std::vector<SparsityPoint> sparsityPoints(const ExperimentStore &store, const std::vector<RunRecord> &runs,
                                          const std::string &metric)
{
    struct Group
    {
        double sparsity = 0;        ///< the first round's own, as stored: it finds its rounds again
        std::vector<double> values; ///< every round's metric
    };
    std::map<long long, Group> bySparsity;
    for (const RunRecord &run : runs)
        for (const RoundRecord &r : store.rounds(run.id))
            if (const auto v = r.devMetric(metric))
                bySparsity.try_emplace(sparsityKey(r.sparsity), Group{r.sparsity, {}})
                    .first->second.values.push_back(*v);
    std::vector<SparsityPoint> points;
    for (const auto &[key, group] : bySparsity) {
        const auto [mean, sd] = meanStd(group.values);
        points.push_back({group.sparsity, mean, sd, static_cast<int>(group.values.size())});
    }
    return points;
}

std::map<int64_t, std::string> modelLabels(const ExperimentStore &store)
{
    std::map<int64_t, ModelRecord> models;
    std::map<int64_t, std::string> labels;
    for (const RunRecord &run : store.runs()) {
        if (run.modelId == 0) {
            labels[0] = "(no model)";
        } else if (!models.count(run.modelId)) {
            if (auto m = store.model(run.modelId))
                models[run.modelId] = *m;
            else
                labels[run.modelId] = "(model " + std::to_string(run.modelId) + ")";
        }
    }
    std::map<std::string, std::set<std::string>> pathsByName;
    std::map<std::string, int> idsByPath;
    for (const auto &[id, m] : models) {
        pathsByName[folderName(m.path)].insert(m.path);
        ++idsByPath[m.path];
    }
    for (const auto &[id, m] : models) {
        std::string label = pathsByName[folderName(m.path)].size() > 1 ? m.path : folderName(m.path);
        if (idsByPath[m.path] > 1)
            label += " @" + m.contentHash.substr(0, 8);
        labels[id] = label;
    }
    return labels;
}

std::string resolveStoredTask(const ExperimentStore &store, const std::string &name)
{
    std::set<std::string> tasks;
    for (const RunRecord &run : store.runs())
        tasks.insert(run.task);
    std::optional<std::string> canonical;
    try {
        canonical = taskByName(name).name;
    } catch (const Error &) {
    }
    if (canonical && tasks.count(*canonical))
        return *canonical;
    for (const std::string &t : tasks)
        if (lowered(t) == lowered(name))
            return t;
    if (canonical)
        throw Error(store.path() + ": no runs of task " + *canonical + "; tasks with runs: " + joined(tasks));
    std::set<std::string> known(tasks);
    for (const std::string &t : knownTaskNames())
        known.insert(t);
    known.insert("mlm");
    throw Error("unknown task '" + name + "'; tasks with runs in " + store.path() + ": " + joined(tasks) +
                " (known tasks: " + joined(known) + ")");
}

void requireStoredMetric(const ExperimentStore &store, const std::string &metric, const std::string &task)
{
    if (metric == kMainMetric)
        return;
    std::set<std::string> names = {kMainMetric};
    for (const RunRecord &run : store.runs()) {
        if (!task.empty() && run.task != task)
            continue;
        for (const RoundRecord &r : store.rounds(run.id)) {
            if (r.devMetric(metric))
                return;
            for (const auto &[key, value] : r.devMetrics())
                if (!std::isnan(value))
                    names.insert(key);
        }
    }
    throw Error("unknown metric '" + metric + "'; the dev metrics of " +
                (task.empty() ? "the runs" : task + "'s runs") + " in " + store.path() + ": " + joined(names));
}

TicketSummary summarizeTicketRuns(const ExperimentStore &store, const std::vector<RunRecord> &runs,
                                  const std::vector<RunRecord> &fullRuns, const std::string &criterion,
                                  const std::string &metric)
{
    meetsCriterion(0, 0, 0, criterion); // an unknown criterion is an error even without runs
    TicketSummary s;
    s.metric = metric;
    s.criterion = criterion;
    if (!runs.empty()) {
        s.modelId = runs.front().modelId;
        s.task = runs.front().task;
        s.kind = runs.front().kind;
    }
    std::vector<double> full, dense;
    for (const RunRecord &run : fullRuns)
        for (const RoundRecord &r : store.rounds(run.id))
            if (const auto v = r.devMetric(metric))
                full.push_back(*v);
    for (const RunRecord &run : runs)
        for (const RoundRecord &r : store.rounds(run.id))
            if (const auto v = r.devMetric(metric); v && r.round == 0)
                dense.push_back(*v);
    const std::vector<double> &reference = full.empty() ? dense : full;
    std::tie(s.fullMean, s.fullStd) = meanStd(reference);
    s.fullSeeds = static_cast<int>(reference.size());
    s.points = sparsityPoints(store, runs, metric);
    for (const SparsityPoint &p : s.points)
        if (s.fullSeeds > 0 && meetsCriterion(p.mean, s.fullMean, s.fullStd, criterion))
            s.winningSparsity = p.sparsity;
    return s;
}

TicketSummary summarizeTickets(const ExperimentStore &store, int64_t modelId, const std::string &task, RunKind kind,
                               const std::string &criterion, const std::string &metric)
{
    std::vector<RunRecord> runs, full;
    for (const RunRecord &run : store.runs()) {
        if (run.task != task || run.modelId != modelId)
            continue;
        if (run.kind == RunKind::Full)
            full.push_back(run); // full runs are the reference, not points
        else if (run.kind == kind)
            runs.push_back(run);
    }
    TicketSummary s = summarizeTicketRuns(store, runs, full, criterion, metric);
    s.modelId = modelId;
    const auto labels = modelLabels(store);
    if (auto it = labels.find(modelId); it != labels.end())
        s.model = it->second;
    s.task = task;
    s.kind = kind;
    return s;
}

std::vector<TicketSummary> summarizeAllTickets(const ExperimentStore &store, RunKind kind, const std::string &criterion,
                                               const std::string &metric, const std::string &task)
{
    const auto labels = modelLabels(store);
    std::set<std::tuple<std::string, std::string, int64_t>> groups; // (model label, task, model id)
    for (const RunRecord &run : store.runs())
        if (run.kind == kind && (task.empty() || run.task == task))
            groups.insert({labels.at(run.modelId), run.task, run.modelId});
    std::vector<TicketSummary> out;
    for (const auto &[label, t, id] : groups)
        out.push_back(summarizeTickets(store, id, t, kind, criterion, metric));
    if (out.empty())
        meetsCriterion(0, 0, 0, criterion);
    return out;
}

} // namespace tl
