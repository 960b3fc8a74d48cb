#pragma once

// Mask algebra (torch-free): set operations on stored masks of any runs and rounds, the result
// stored as an imported mask (trainable with a transfer run, exportable, analysable like any
// other), and the "super-survivors" of a set of tickets: the weights every one of them keeps,
// against the count independent random masks of the same densities would share.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/analysis.h"
#include "prune/mask_set.h"
#include "store/experiment_store.h"

namespace tl {

enum class MaskOp
{
    Intersect, ///< kept by every mask
    Union,     ///< kept by any mask
    Diff       ///< kept by the first mask and by none of the others
};
/// "intersect", "union", "diff"; throws tl::Error listing them.
MaskOp maskOpFromName(const std::string &name);
const char *maskOpName(MaskOp op);

/// The op over two or more masks of the same parameters (keys and shapes; any tensor order,
/// the result in the first mask's order). Throws tl::Error naming the parameter and the mask
/// (labels[i], or "mask i+1") that differs, or for fewer than two masks.
MaskSet combineMasks(MaskOp op, const std::vector<MaskSet> &masks, const std::vector<std::string> &labels = {});

/// One stored mask: a run and a round of its prune order.
struct MaskRef
{
    int64_t run = 0;
    int round = 0;
};
/// "R:K" or "R" (the run's highest mask round), comma-separated: "3:5,7:5,9". Throws tl::Error
/// naming the entry at fault; run ids are checked against the store by the callers.
std::vector<MaskRef> parseMaskRefs(const std::string &text);
/// "R:K" for each, with the highest round filled in for a bare "R".
std::vector<MaskRef> resolveMaskRefs(const ExperimentStore &store, std::vector<MaskRef> refs);

/// An import run (kind import, task "import", no training) holding `mask` as round `round` of
/// a prune order from dense, for the model record modelId. Identified by specHash (seed 0):
/// found again when done (existed: nothing written), completed when an earlier call was
/// interrupted between its writes, else created. `import-mask` and mask ops store through it.
struct StoredImport
{
    int64_t runId = 0;
    bool existed = false;
};
StoredImport storeImportedMask(ExperimentStore &store, const nlohmann::json &spec, const std::string &specHash,
                               int64_t modelId, const MaskSet &mask, int round);

/// A stored mask op: an import run (task "import", round 1, no training) whose spec records the
/// op, the masks and the name: {"mask_op", "masks": [{"run", "round"}], "name"}. The model
/// record is the first run's. Idempotent: the same op on the same masks and name is found
/// again (created is then false).
struct StoredMaskOp
{
    int64_t runId = 0;
    bool created = false;
    MaskSet mask;
};
StoredMaskOp storeMaskOp(ExperimentStore &store, MaskOp op, const std::vector<MaskRef> &refs, const std::string &name);

/// The weights every mask keeps, per tensor (layer and matrix type) and summed by matrix type
/// and overall, with the chance level: the count expected if each mask kept the same number of
/// weights of each tensor at random, independently, n * prod_i(p_i).
struct SurvivorCount
{
    int layer = -1; ///< -1 for sums and for tensors outside the encoder
    MatrixType type = MatrixType::Other;
    std::string name; ///< the parameter, empty for sums
    int64_t total = 0;
    int64_t keptByAll = 0;
    double expected = 0;
    double ratio() const { return expected > 0 ? double(keptByAll) / expected : 0.0; }
};
struct SuperSurvivors
{
    int masks = 0;
    SurvivorCount overall;
    std::vector<SurvivorCount> byType;   ///< types present, display order
    std::vector<SurvivorCount> byTensor; ///< the first mask's order
};
/// Throws tl::Error as combineMasks for masks that do not match.
SuperSurvivors superSurvivors(const std::vector<MaskSet> &masks, const std::vector<std::string> &labels = {});

} // namespace tl
