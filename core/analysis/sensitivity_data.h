#pragma once

// A layer sensitivity scan as data (torch-free): what `analyze sensitivity` measures on a model
// (libtorch/prune/sensitivity.h), its JSON form, and its place in a lab (the analyses table), so
// that the views and figures show a scan later, beside where IMP put its sparsity.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/analysis.h"

namespace tl {

class ExperimentStore;
struct ModelRecord;
struct DatasetRecord;

struct SensitivityCell
{
    int layer = 0;
    MatrixType type = MatrixType::Other;
    double sparsity = 0;
    double metric = 0;
    double drop = 0; ///< baseline - metric: positive when pruning hurts
};

struct SensitivityScan
{
    std::string metric; ///< the metric's name as evaluateTask() reports it
    double baseline = 0;
    std::vector<double> sparsities;
    std::vector<SensitivityCell> cells; ///< by layer, matrix type (display order), sparsity
    int64_t examples = 0;               ///< dev examples evaluated

    int layers() const; ///< 1 + the highest layer in cells (0 when empty)
    /// The cell of (layer, type, sparsity); nullptr when the scan has none.
    const SensitivityCell *find(int layer, MatrixType type, double sparsity) const;

    nlohmann::json toJson() const;
    /// Strict: throws tl::Error naming `source` and the field at fault.
    static SensitivityScan fromJson(const nlohmann::json &j, const std::string &source);
};

/// The analyses-table kind of a scan.
inline constexpr const char *kSensitivityAnalysis = "sensitivity";

/// Stores a scan of model/data (their records are upserted) on task with a name; returns the
/// analysis id.
int64_t storeSensitivityScan(ExperimentStore &store, const SensitivityScan &scan, const ModelRecord &model,
                             const DatasetRecord &data, const std::string &task, const std::string &name);

struct StoredSensitivity
{
    int64_t id = 0;
    std::string name, task, model, createdAt; ///< model: the model folder's path
    SensitivityScan scan;
};

/// Analysis `id`, or (id 0) the newest scan, of `task` when task is not empty. Throws tl::Error
/// when there is none, or when the stored result does not parse.
StoredSensitivity storedSensitivity(const ExperimentStore &store, int64_t id, const std::string &task = {});

} // namespace tl
