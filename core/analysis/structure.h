#pragma once

// Structure in masks (torch-free): which attention heads and FFN neurons a mask leaves alive,
// pruning whole heads and neurons as rows and columns of the ordinary weight masks, and
// choosing which to prune (lowest importance, or at random). Michel et al. 2019 prune heads;
// Prasanna et al. 2020 heads and MLP neurons.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "prune/mask_set.h"

namespace tl {

class ExperimentStore;
struct ModelRecord;
struct DatasetRecord;

/// Head and neuron importance scores (Michel et al. 2019: E|dL/dxi|, each layer's vector
/// normalised to L2 norm 1), as libtorch/prune/head_importance.h computes them.
struct UnitImportance
{
    std::vector<std::vector<double>> heads;   ///< [layer][head]
    std::vector<std::vector<double>> neurons; ///< [layer][neuron]; empty unless neurons were scored
    int64_t examples = 0;
    std::string split; ///< "train" or "dev" (empty: unknown)

    nlohmann::json toJson() const;
    /// Strict: throws tl::Error naming source and the field at fault.
    static UnitImportance fromJson(const nlohmann::json &j, const std::string &source);
};

/// The analyses-table kind of stored importance.
inline constexpr const char *kHeadImportanceAnalysis = "head-importance";

/// Stores the importance a structured run scored after round `round` (the scores the next
/// round's mask was chosen by), replacing any stored for that round.
void storeUnitImportance(ExperimentStore &store, int64_t runId, int round, const UnitImportance &importance,
                         const std::string &split);
/// Stores importance of a model (analyze head-importance --db); returns the analysis id.
int64_t storeModelImportance(ExperimentStore &store, const UnitImportance &importance, const ModelRecord &model,
                             const DatasetRecord &data, const std::string &task, const std::string &name);
/// The importance stored with round `round` of run runId, if any.
std::optional<UnitImportance> storedUnitImportance(const ExperimentStore &store, int64_t runId, int round);

/// A head (index = head) or an FFN neuron (index = neuron) of an encoder layer.
struct UnitId
{
    int layer = 0;
    int index = 0;
    bool operator==(const UnitId &o) const { return layer == o.layer && index == o.index; }
};

/// Alive units of a mask. A head is alive when any weight of its rows of Q, K or V or of its
/// columns of the attention output is kept; a neuron when any weight of its FFN-in row or
/// FFN-out column is kept. A layer whose matrices are not in the mask counts as all alive.
struct MaskStructure
{
    int heads = 0;                                 ///< per layer
    std::vector<std::vector<uint8_t>> headAlive;   ///< [layer][head], 1 = alive
    std::vector<std::vector<uint8_t>> neuronAlive; ///< [layer][neuron]
    int64_t headsAlive() const;
    int64_t headsTotal() const;
    int64_t neuronsAlive() const;
    int64_t neuronsTotal() const;
    /// Fraction of heads (neurons) removed; 0 when there are none.
    double headsRemoved() const;
    double neuronsRemoved() const;
};

/// Throws tl::Error when heads does not divide an attention matrix's output size.
MaskStructure maskStructure(const MaskSet &mask, int heads);

/// Prunes whole units in place: every weight of each listed head's Q, K, V rows and
/// attention-output columns, and of each listed neuron's FFN-in row and FFN-out column.
/// Throws tl::Error for a unit outside the model.
void pruneUnits(MaskSet &mask, int heads, const std::vector<UnitId> &headUnits, const std::vector<UnitId> &neuronUnits);

/// `count` of the alive units (alive[layer][index] != 0) to prune: those with the lowest score
/// (scores[layer][index], ties broken by position), or, without scores, a seeded random choice.
/// Throws tl::Error when fewer than count are alive or the scores' shape differs.
std::vector<UnitId> chooseUnits(const std::vector<std::vector<uint8_t>> &alive,
                                const std::vector<std::vector<double>> &scores, int64_t count,
                                std::optional<uint64_t> randomSeed = std::nullopt);

} // namespace tl
