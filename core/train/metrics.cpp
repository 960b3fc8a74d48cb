#include "train/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "util/error.h"

namespace tl {

namespace {

template <typename T> void requireSameSize(const std::vector<T> &a, const std::vector<T> &b, const char *what)
{
    if (a.size() != b.size())
        throw Error(std::string(what) + ": " + std::to_string(a.size()) + " predictions for " +
                    std::to_string(b.size()) + " gold values");
}

// Ranks 1..n with tied values sharing the mean of the ranks they span (scipy's "average").
std::vector<double> averageRanks(const std::vector<double> &v)
{
    std::vector<size_t> order(v.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    std::vector<double> ranks(v.size());
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]])
            ++j;
        const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
        for (size_t k = i; k <= j; ++k)
            ranks[order[k]] = rank;
        i = j + 1;
    }
    return ranks;
}

int argmax(const float *row, int n)
{
    int best = 0;
    float bestValue = -std::numeric_limits<float>::infinity();
    for (int j = 0; j < n; ++j) {
        if (row[j] > bestValue) { // strict: the first of equal maxima wins, as numpy's argmax
            bestValue = row[j];
            best = j;
        }
    }
    return best;
}

} // namespace

double accuracy(const std::vector<int> &pred, const std::vector<int> &gold)
{
    requireSameSize(pred, gold, "accuracy");
    if (gold.empty())
        return 0.0;
    size_t right = 0;
    for (size_t i = 0; i < gold.size(); ++i)
        right += pred[i] == gold[i];
    return static_cast<double>(right) / static_cast<double>(gold.size());
}

double f1Binary(const std::vector<int> &pred, const std::vector<int> &gold)
{
    requireSameSize(pred, gold, "f1");
    double tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < gold.size(); ++i) {
        const bool p = pred[i] == 1, g = gold[i] == 1;
        tp += p && g;
        fp += p && !g;
        fn += !p && g;
    }
    // sklearn's zero_division=0: with no true positive precision or recall is 0, and so is F1.
    return tp == 0 ? 0.0 : 2 * tp / (2 * tp + fp + fn);
}

double matthews(const std::vector<int> &pred, const std::vector<int> &gold)
{
    requireSameSize(pred, gold, "matthews");
    // sklearn's multiclass form over the confusion matrix C:
    // (c*s - sum_k p_k*t_k) / sqrt((s^2 - sum_k p_k^2) * (s^2 - sum_k t_k^2)),
    // with c the correct count, s the total, t_k / p_k how often class k is true / predicted.
    std::vector<int> classes(pred);
    classes.insert(classes.end(), gold.begin(), gold.end());
    std::sort(classes.begin(), classes.end());
    classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
    const auto indexOf = [&](int c) { return std::lower_bound(classes.begin(), classes.end(), c) - classes.begin(); };
    std::vector<double> t(classes.size(), 0.0), p(classes.size(), 0.0);
    double c = 0;
    for (size_t i = 0; i < gold.size(); ++i) {
        t[indexOf(gold[i])] += 1;
        p[indexOf(pred[i])] += 1;
        c += pred[i] == gold[i];
    }
    const double s = static_cast<double>(gold.size());
    double pt = 0, pp = 0, tt = 0;
    for (size_t k = 0; k < classes.size(); ++k) {
        pt += p[k] * t[k];
        pp += p[k] * p[k];
        tt += t[k] * t[k];
    }
    const double denom = (s * s - pp) * (s * s - tt);
    if (denom == 0)
        return 0.0;
    return (c * s - pt) / std::sqrt(denom);
}

double pearson(const std::vector<double> &x, const std::vector<double> &y)
{
    requireSameSize(x, y, "pearson");
    const size_t n = x.size();
    if (n < 2)
        return 0.0;
    const double mx = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(n);
    const double my = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(n);
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; ++i) {
        const double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    // A constant series has no defined correlation (scipy gives NaN); 0 keeps reports and
    // "best checkpoint" comparisons well-defined for a model that predicts one value.
    if (sxx == 0 || syy == 0)
        return 0.0;
    const double r = sxy / std::sqrt(sxx * syy);
    return std::clamp(r, -1.0, 1.0);
}

double spearman(const std::vector<double> &x, const std::vector<double> &y)
{
    requireSameSize(x, y, "spearman");
    return pearson(averageRanks(x), averageRanks(y));
}

std::map<std::string, double> taskMetrics(const TaskSpec &task, const std::vector<float> &logits,
                                          const std::vector<Example> &examples)
{
    const size_t n = examples.size();
    const int width = task.numLabels();
    if (width <= 0)
        throw Error("task " + task.name + " has no label set; metrics need the labels first");
    if (logits.size() != n * static_cast<size_t>(width))
        throw Error("metrics for " + task.name + ": " + std::to_string(logits.size()) + " model outputs for " +
                    std::to_string(n) + " examples x " + std::to_string(width) + " labels");

    std::map<std::string, double> out;
    if (task.regression) {
        std::vector<double> pred, gold;
        for (size_t i = 0; i < n; ++i) {
            if (!examples[i].hasLabel)
                continue;
            pred.push_back(logits[i]);
            gold.push_back(examples[i].label);
        }
        if (gold.empty())
            throw Error("metrics for " + task.name + ": no example has a label (a test file?)");
        out["pearson"] = pearson(pred, gold);
        out["spearman"] = spearman(pred, gold);
        out["combined"] = (out["pearson"] + out["spearman"]) / 2.0;
    } else {
        std::vector<int> pred, gold;
        for (size_t i = 0; i < n; ++i) {
            if (!examples[i].hasLabel)
                continue;
            pred.push_back(argmax(logits.data() + i * static_cast<size_t>(width), width));
            gold.push_back(static_cast<int>(examples[i].label));
        }
        if (gold.empty())
            throw Error("metrics for " + task.name + ": no example has a label (a test file?)");
        out["accuracy"] = accuracy(pred, gold);
        out["mcc"] = matthews(pred, gold);
        if (width == 2)
            out["f1"] = f1Binary(pred, gold);
        if (task.mainMetric == "f1")
            out["combined"] = (out["accuracy"] + out["f1"]) / 2.0;
    }
    const auto main = out.find(task.mainMetric);
    if (main == out.end())
        throw Error("task " + task.name + ": main metric '" + task.mainMetric + "' is not computed for it");
    out[kMainMetric] = main->second;
    return out;
}

std::vector<std::string> taskMetricNames(const TaskSpec &task)
{
    // taskMetrics()'s own keys, from two labelled examples: the names are defined there alone.
    const int width = task.numLabels();
    if (width <= 0)
        return {};
    std::vector<Example> examples(2);
    for (size_t i = 0; i < examples.size(); ++i) {
        examples[i].hasLabel = true;
        examples[i].label = task.regression ? float(i) : float(std::min<int>(int(i), width - 1));
    }
    std::vector<std::string> names;
    for (const auto &[name, value] :
         taskMetrics(task, std::vector<float>(examples.size() * size_t(width), 0.f), examples))
        names.push_back(name);
    return names;
}

std::string metricDisplayName(const std::string &task, const std::string &metric)
{
    if (metric != kMainMetric)
        return metric;
    try {
        const std::string main = taskByName(task).mainMetric;
        return main.empty() ? metric : main;
    } catch (const Error &) {
        return metric; // mlm, or a stored task name of no known task
    }
}

} // namespace tl
