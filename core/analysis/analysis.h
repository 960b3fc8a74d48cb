#pragma once

// Subnetwork analysis (torch-free): what the desktop app's views and `ticketlab-cli analyze`
// show. Mask-level functions work on any MaskSet; the store-level ones read runs, rounds and
// prune orders from an ExperimentStore.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "prune/mask_set.h"
#include "prune/prune_order.h"

namespace tl {

class ExperimentStore;

/// The matrix types of BERT's prunable weights, in display order.
enum class MatrixType { Query, Key, Value, AttentionOutput, FfnIn, FfnOut, Pooler, WordEmbeddings,
                        PositionEmbeddings, TokenTypeEmbeddings, Other };

/// Short display names: "Q", "K", "V", "AttnOut", "FFN-in", "FFN-out", "Pooler", "WordEmb",
/// "PosEmb", "TypeEmb", "Other".
std::string matrixTypeName(MatrixType type);
/// The matrix types that occur in a layer of the encoder, in display order (Q .. FFN-out).
const std::vector<MatrixType> &encoderMatrixTypes();

/// Where a Hugging Face parameter name sits: layer index (-1 outside the encoder) and type.
/// Accepts names with and without the "bert." prefix.
struct ParamLocation
{
    int layer = -1;
    MatrixType type = MatrixType::Other;
};
ParamLocation locateParam(const std::string &name);

/// Fraction pruned of one layer's matrix (layer -1 for the pooler and embeddings).
struct LayerSparsity
{
    int layer = -1;
    MatrixType type = MatrixType::Other;
    int64_t total = 0;
    int64_t pruned = 0;
    double sparsity() const { return total ? double(pruned) / double(total) : 0.0; }
};
/// One entry per tensor of the mask that locateParam() places (type not Other), in mask order.
std::vector<LayerSparsity> layerSparsity(const MaskSet &mask);

/// Surviving fraction of one attention head's weights: rows [h*d, (h+1)*d) of Q, K and V
/// (the head's output features) and columns [h*d, (h+1)*d) of the attention output dense
/// (its input features), d = hidden / heads. Alive when fraction > threshold.
struct HeadSurvival
{
    int layer = 0;
    int head = 0;
    int64_t total = 0;
    int64_t kept = 0;
    double fraction() const { return total ? double(kept) / double(total) : 0.0; }
};
/// layers x heads entries, row-major by (layer, head). A layer whose Q, K, V or attention
/// output weight is not in the mask counts those weights as kept (unpruned). The layers are
/// 0 .. the highest encoder layer in the mask; hidden comes from the attention matrices (else
/// the FFN's); no encoder layer, or no hidden size, gives an empty result. Throws tl::Error
/// when heads < 1, heads does not divide hidden, or an attention matrix is not [hidden, hidden].
std::vector<HeadSurvival> headSurvival(const MaskSet &mask, int heads);
int aliveHeads(const std::vector<HeadSurvival> &heads, double threshold);

/// Intersection over union of the surviving weights of two masks over the same parameters,
/// with the expected IoU of two independent random masks of the same per-tensor densities:
/// E|A∩B| / E|A∪B| = Σ n·pa·pb / Σ n·(pa + pb − pa·pb). Both are 0 when the union is empty.
struct Overlap
{
    double iou = 0;
    double chance = 0;
    int64_t intersection = 0;
    int64_t unionCount = 0;
};
struct OverlapReport
{
    Overlap global;
    std::vector<std::pair<MatrixType, Overlap>> byType; ///< types present, display order
};
/// Throws tl::Error naming the parameter when the masks' keys or shapes differ.
OverlapReport maskOverlap(const MaskSet &a, const MaskSet &b);

// ---- store-level ---------------------------------------------------------------------------

/// A run's stored prune order (every round's mask; decode once, then maskAt() per round).
/// Throws tl::Error for an unknown run or a run without masks.
PruneOrder storedPruneOrder(const ExperimentStore &store, int64_t runId);
/// The mask of a stored run after `round` prunings (round 0 = dense), from its prune order.
/// Throws tl::Error for an unknown run, a run without masks or a round out of range.
MaskSet storedMask(const ExperimentStore &store, int64_t runId, int round);
/// The highest round of a run's stored prune order; -1 when the run stores none. Throws
/// tl::Error for an unknown run.
int storedMaskRounds(const ExperimentStore &store, int64_t runId);
/// Attention heads of a run's model, from the stored model config; 0 when unknown (no model,
/// no such key). Throws tl::Error for an unknown run.
int storedHeadCount(const ExperimentStore &store, int64_t runId);

/// IoU matrix over runs at one round each (rounds[i] for runIds[i]); symmetric, the diagonal
/// is each mask with itself. Throws tl::Error when the sizes differ, for a run or round as
/// storedMask(), and when two masks cover different parameters.
struct OverlapMatrix
{
    std::vector<int64_t> runIds;
    std::vector<std::string> labels; ///< "task kind #id (seed s)"
    std::vector<std::vector<double>> iou;
    std::vector<std::vector<double>> chance;
};
OverlapMatrix overlapMatrix(const ExperimentStore &store, const std::vector<int64_t> &runIds,
                            const std::vector<int> &rounds);

/// Transfer table (the paper's Figure 2): one cell per (source task, target task) over the
/// stored transfer runs whose source is a stored run. value = transfer metric − full-model
/// mean on the target; atLeastOwnTicket when the transfer metric is at least the target's own
/// IMP ticket's mean at the same sparsity (nearest round, within 0.01); several transfer runs
/// of one pair are averaged. A transfer run counts once its round is stored with the metric;
/// transfers from mask files are left out. Full-model mean as summarizeTickets(): the target's
/// "full" runs, else the dense round of its "imp" runs. sparsity is the mean of the pair's runs,
/// and the own ticket is, per target IMP run, its round nearest that sparsity, averaged.
struct TransferCell
{
    std::string source, target;
    double transferMetric = 0;
    double fullMean = 0;
    int fullSeeds = 0; ///< 0: no full-model result on the target; fullMean and delta are then 0
    double delta = 0;
    std::optional<double> ownTicket;
    bool atLeastOwnTicket = false;
    double sparsity = 0;
    int runs = 0;
};
struct TransferTable
{
    std::vector<std::string> sources, targets; ///< sorted
    std::vector<TransferCell> cells; ///< by (source, target)
    /// nullptr when the pair has no transfer run.
    const TransferCell *cell(const std::string &source, const std::string &target) const;
};
TransferTable transferTable(const ExperimentStore &store, const std::string &metric = "main");

} // namespace tl
