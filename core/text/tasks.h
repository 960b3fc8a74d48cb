#pragma once

#include <string>
#include <vector>

namespace tl {

/// A task TicketLab can fine-tune and evaluate on.
struct TaskSpec
{
    std::string name;                ///< canonical spelling: "CoLA", "SST-2", ..., "generic", "generic-regression"
    bool regression = false;         ///< STS-B and generic-regression
    bool pair = false;               ///< two sentences per example
    std::vector<std::string> labels; ///< label strings in class-index order (empty for regression; for
                                     ///< "generic" filled from the data by readTaskFile/labelsFromExamples)
    std::string mainMetric;          ///< "mcc", "accuracy", "f1", "pearson", ...
    std::string devFile = "dev.tsv"; ///< MNLI: dev_matched.tsv
    int numLabels() const { return regression ? 1 : static_cast<int>(labels.size()); }
};

/// Case-insensitive lookup of CoLA, SST-2, MRPC, STS-B, QQP, MNLI, MNLI-MM, QNLI, RTE, WNLI,
/// generic (TSV with header columns text[, text_pair], label, or JSONL with those keys) and
/// generic-regression. Throws tl::Error listing the known names.
TaskSpec taskByName(const std::string &name);
std::vector<std::string> knownTaskNames();

/// Why a model whose config.json names `modelLabels` (id2label, in class order) was not trained
/// for the task's labels; empty when they agree (case-insensitively, in order: the same names
/// in another order swap the classes), or when either side names none: a task without fixed
/// labels (regression, generic), a regression model, or Hugging Face's placeholder names
/// LABEL_0, LABEL_1, ... of a model without a trained task head.
std::string labelMismatch(const std::vector<std::string> &modelLabels, const TaskSpec &task);

struct Example
{
    std::string textA;
    std::string textB;     ///< empty when the task is single-sentence
    bool hasLabel = false; ///< GLUE test files carry no labels
    std::string labelText; ///< label as written in the file
    float label = 0.f;     ///< class index, or the score for regression
    int line = 0;          ///< 1-based line of the file it came from
};

/// Reads one split file in the task's original GLUE TSV format (TAB only, no quoting; a
/// UTF-8 BOM and a missing final newline accepted), or the generic TSV/JSONL format.
/// GLUE test files (no label column) are read with hasLabel = false. A malformed row
/// (too few columns, unknown label, bad number) throws tl::Error "FILE:LINE: reason".
/// For "generic" with an empty spec.labels, labels are taken as they come and label
/// indexes are assigned by sorted label text (see labelsFromExamples).
std::vector<Example> readTaskFile(const TaskSpec &task, const std::string &path);

/// The train / dev file of a task folder ("train.tsv", task.devFile, or .jsonl for generic).
std::string splitPath(const TaskSpec &task, const std::string &dataDir, const std::string &split);

/// Sorted distinct label strings: the label set of a generic task.
std::vector<std::string> labelsFromExamples(const std::vector<Example> &examples);
/// Sets label indexes from labelText against labels; throws naming the line of an unknown label.
void assignLabels(std::vector<Example> &examples, const std::vector<std::string> &labels, const std::string &path);

/// readTaskFile, then label indexes fixed against task.labels; for a generic task whose
/// labels are not known yet, they are taken from this file (sorted) and stored in task.labels.
std::vector<Example> readLabelledExamples(TaskSpec &task, const std::string &path);

} // namespace tl
