#pragma once

// A study's results as the paper lays them out: Table 2 (per task, the full model, the winning
// ticket and the baselines at its sparsity) and the transfer matrix (Figure 2), written as CSV,
// booktabs LaTeX and Markdown. Torch-free; reads only the study's own runs.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "study/study.h"

namespace tl {

class ExperimentStore;

/// mean ± std over n seeds; n == 0: no data.
struct Cell
{
    double mean = 0, std = 0;
    int n = 0;
};

/// A task's results beside its reference (StudySpec::reference), both in the reference's metric.
struct ReferenceComparison
{
    double sparsity = 0;              ///< the reference's ticket sparsity
    std::string metric;               ///< the metric both sides are read in
    std::optional<double> ticketHere; ///< the study's ticket in that metric
    struct Value
    {
        RunKind kind;
        double reference;
        Cell here; ///< the full model, or the kind at the reference's sparsity (n == 0: not trained there)
    };
    std::vector<Value> values; ///< the full model first, then table order
};

/// IMP and the baselines at one sparsity of a task (one its runs reached, or one of the study's
/// `at`): each kind's cell there (n == 0 where the kind has no round at it), and how much of each
/// matrix outside the encoder (the pooler, the embeddings, where they were pruned) IMP's masks
/// have removed there.
struct SparsityRow
{
    double sparsity = 0;
    Cell imp;
    std::vector<std::pair<RunKind, Cell>> baselines; ///< as Table2Row::baselines
    /// matrixTypeName() ("Pooler", "WordEmb") -> fraction pruned, over the IMP runs' masks.
    std::vector<std::pair<std::string, Cell>> outsidePruned;
};

struct Table2Row
{
    std::string task, metric; ///< metric: the key the row reads ("main", "accuracy", ...)
    std::string metricName;   ///< what it is: "main" resolved to the task's main metric ("f1" for MRPC)
    bool hasImp = false;      ///< the lab has IMP results for the task (else ticket and cells are n/a)
    Cell full;
    std::optional<double> ticketSparsity;            ///< highest sparsity meeting the study's criterion
    std::optional<double> strictSparsity;            ///< the same under "match" (mean >= full mean)
    double comparedAt = 0;                           ///< the ticket's sparsity, else IMP's highest
    Cell imp;                                        ///< at comparedAt
    std::vector<std::pair<RunKind, Cell>> baselines; ///< kind -> cell at comparedAt (study order)
    /// The same comparison at each sparsity of the study's `at` (where its baselines were
    /// trained, whichever sparsity the ticket turns out to have).
    std::vector<SparsityRow> at;
    std::vector<SparsityRow> bySparsity; ///< every sparsity of the task's runs, ascending
    std::optional<ReferenceComparison> reference;
};

struct TransferReportCell
{
    std::string source, target;
    double sparsity = 0;
    Cell transfer;
    Cell targetImp;       ///< the target's own IMP at that sparsity
    Cell targetFull;      ///< the target's full model
    bool winning = false; ///< transfer meets the criterion against the target's full model
};

struct StudyReport
{
    std::string name, criterion;
    std::string referenceLabel; ///< StudySpec::referenceLabel
    int threads = 0;            ///< the thread count the study's runs were found with
    std::vector<Table2Row> rows;
    std::vector<TransferReportCell> transfers;
    std::vector<std::string> missing; ///< keys of planned runs not finished in the lab
    /// Run ids of the study's finished runs, by kind (for figures).
    std::vector<int64_t> runIds(std::optional<RunKind> kind = std::nullopt) const;
    std::vector<std::pair<RunKind, int64_t>> runs; ///< (kind, id)
};

/// "0.7100 ± 0.0141 (n=2)" (withN) or "0.7100 ± 0.0141"; one seed: "0.5600 (n=1)", no spread; "n/a" for a cell without
/// data. The report's Markdown and the desktop app's study view both show cells this way.
std::string cellText(const Cell &cell, bool withN = true);
/// A sparsity as a percentage with one decimal: 0.7 -> "70.0%".
std::string percentText(double sparsity);
/// A ticket sparsity of `row` (its ticket, strict ticket or reference ticket) as every report
/// format prints it: format(sparsity); else "none" where the task has IMP results but none meets the
/// criterion ("none (noneNote)" with a note), else "n/a" (no IMP results to judge yet).
std::string ticketText(const Table2Row &row, const std::optional<double> &sparsity,
                       const std::function<std::string(double)> &format = percentText,
                       const std::string &noneNote = {});
/// A Table 2 column's title for a baseline kind: its runKindLabel(), capitalised
/// (reinit -> "IMP mask + random init", random -> "Random pruning").
std::string baselineTitle(RunKind kind);

/// Builds the report from the lab's finished runs of the study's plan. The thread count the
/// runs were made with (part of each run's identity) is found from the lab when threads is 0.
StudyReport buildStudyReport(const ExperimentStore &store, const StudySpec &study, int threads = 0);

/// Writes table2.csv, table2.tex, transfer.csv, transfer.tex, by-sparsity.csv, report.md, (for a
/// study with `at`) at.csv and (with a reference) reference.csv into outDir
/// (created). figures lists figure files (relative to outDir) that report.md links.
void writeStudyReport(const StudyReport &report, const std::string &outDir, const std::vector<std::string> &figures);

} // namespace tl
