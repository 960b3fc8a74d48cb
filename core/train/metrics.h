#pragma once

#include <map>
#include <string>
#include <vector>

#include "text/tasks.h"

namespace tl {

/// The key of the task's headline metric (accuracy, F1, MCC, ...) among its metrics, beside the
/// metrics by their own names: what runs store per round and every view reads first.
inline constexpr const char *kMainMetric = "main";

// GLUE's metric definitions (as sklearn / scipy compute them).
double accuracy(const std::vector<int> &pred, const std::vector<int> &gold);
/// F1 of the positive class 1; 0 when there is no true positive.
double f1Binary(const std::vector<int> &pred, const std::vector<int> &gold);
/// Matthews correlation for any number of classes; 0 when undefined.
double matthews(const std::vector<int> &pred, const std::vector<int> &gold);
double pearson(const std::vector<double> &x, const std::vector<double> &y);
/// Spearman rank correlation, ties receiving their average rank.
double spearman(const std::vector<double> &x, const std::vector<double> &y);

/// The task's GLUE metrics from model outputs: logits is row-major [n, numLabels] (argmax
/// taken) or [n] scores for regression. Keys: accuracy, f1, mcc, pearson, spearman, and
/// "main" (the task's headline metric); "combined" as GLUE's mean where it has two.
std::map<std::string, double> taskMetrics(const TaskSpec &task, const std::vector<float> &logits,
                                          const std::vector<Example> &examples);

/// The metric names taskMetrics() gives the task (kMainMetric among them), sorted; empty for a
/// task whose labels come from its data (generic).
std::vector<std::string> taskMetricNames(const TaskSpec &task);

/// What a metric key of `task`'s rounds is: kMainMetric resolved to the task's headline metric
/// ("main" of MRPC: "f1"), any other key as it is. "main" stays "main" for a task without a fixed
/// headline (masked-LM, a name taskByName() does not know).
std::string metricDisplayName(const std::string &task, const std::string &metric);

} // namespace tl
