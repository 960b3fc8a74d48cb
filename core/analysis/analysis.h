#pragma once

// Subnetwork analysis (torch-free): what the desktop app's views and `ticketlab-cli analyze`
// show. Mask-level functions work on any MaskSet; the store-level ones read runs, rounds and
// prune orders from an ExperimentStore.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "prune/mask_set.h"
#include "prune/prune_order.h"
#include "store/experiment_store.h"

namespace tl {

/// The matrix types of BERT's prunable weights, in display order.
enum class MatrixType
{
    Query,
    Key,
    Value,
    AttentionOutput,
    FfnIn,
    FfnOut,
    Pooler,
    WordEmbeddings,
    PositionEmbeddings,
    TokenTypeEmbeddings,
    Other
};

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
/// layerSparsity(order.maskAt(r)) for every round r = 0..order.rounds(), in one pass.
std::vector<std::vector<LayerSparsity>> layerSparsityByRound(const PruneOrder &order);

/// The attention heads of a model: num_attention_heads and, for a compacted model, the heads
/// its config's pruned_heads removed from each layer (original indices). Head indices
/// everywhere below are the original model's.
struct HeadLayout
{
    int heads = 0;                                   ///< num_attention_heads; 0 = unknown
    std::map<int64_t, std::vector<int64_t>> removed; ///< layer -> removed heads, ascending
    bool isRemoved(int layer, int head) const;
    int headsIn(int layer) const; ///< heads the model still has in a layer
};

/// Surviving fraction of one attention head's weights: rows [k*d, (k+1)*d) of Q, K and V
/// (the head's output features) and columns [k*d, (k+1)*d) of the attention output dense
/// (its input features), d = hidden / heads, k = the head's position among the heads its
/// layer still has. Alive when fraction > threshold. A head the model itself no longer has
/// (HeadLayout::removed) is `removed`, with no weights and fraction 0.
struct HeadSurvival
{
    int layer = 0;
    int head = 0;
    int64_t total = 0;
    int64_t kept = 0;
    bool removed = false;
    double fraction() const { return total ? double(kept) / double(total) : 0.0; }
};
/// layers x heads entries, row-major by (layer, head). A layer whose Q, K, V or attention
/// output weight is not in the mask counts those weights as kept (unpruned). The layers are
/// 0 .. the highest encoder layer in the mask; hidden comes from the attention matrices (else
/// the FFN's); no encoder layer, or no hidden size, gives an empty result. Throws tl::Error
/// when heads < 1, heads does not divide hidden, or an attention matrix's shape is not
/// [heads in the layer x d, hidden] (Q, K, V) or [hidden, heads in the layer x d] (output).
std::vector<HeadSurvival> headSurvival(const MaskSet &mask, const HeadLayout &layout);
inline std::vector<HeadSurvival> headSurvival(const MaskSet &mask, int heads)
{
    return headSurvival(mask, HeadLayout{heads, {}});
}
/// Fraction of the model's heads that are gone: removed from the model, or with no weight
/// left (structure, not a threshold). 0 for no heads.
double headsRemovedFraction(const std::vector<HeadSurvival> &heads);
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
/// The head layout of a run's model, from the stored model config (heads 0 when unknown, as
/// storedHeadCount). Throws tl::Error for an unknown run.
HeadLayout storedHeadLayout(const ExperimentStore &store, int64_t runId);

/// Rounds of several runs at one common sparsity: the highest sparsity every run reached (the
/// lowest of the runs' highest mask sparsities) and, per run, its round nearest to it. A run's
/// candidate rounds are the rounds it trained that have a stored mask (all its mask rounds when
/// it trained none: a transfer's lower mask rounds are placeholders). Throws tl::Error for an
/// unknown run or a run without masks.
struct CommonSparsity
{
    double target = 0;
    std::vector<int> rounds;        ///< per run
    std::vector<double> sparsities; ///< per run: its round's mask sparsity
};
CommonSparsity commonSparsityRounds(const ExperimentStore &store, const std::vector<int64_t> &runIds);

/// IoU matrix over runs at one round each (rounds[i] for runIds[i]); symmetric, the diagonal
/// is each mask with itself. Throws tl::Error when the sizes differ, for a run or round as
/// storedMask(), and when two masks cover different parameters.
struct OverlapMatrix
{
    std::vector<int64_t> runIds;
    std::vector<int> rounds;
    std::vector<double> sparsities;  ///< of each run's mask
    std::vector<std::string> labels; ///< "task kind #id (seed s), round k, 23.5%"
    std::vector<std::vector<double>> iou;
    std::vector<std::vector<double>> chance;
};
OverlapMatrix overlapMatrix(const ExperimentStore &store, const std::vector<int64_t> &runIds,
                            const std::vector<int> &rounds);

/// Transfer table (the paper's Figure 2): one cell per (model, source task, target task,
/// transferred sparsity) over the stored transfer runs whose source is a stored run; transfers
/// of masks of different sparsities (different source rounds) are never averaged. The model is
/// the transfer runs' model record. value = transfer metric − full-model mean on the target;
/// atLeastOwnTicket when the transfer metric is at least the target's own IMP ticket's mean at
/// the same sparsity (per target IMP run of the same model, its round nearest the sparsity
/// within 0.01, averaged); several transfer runs of one cell (seeds, source runs) are
/// averaged. A transfer run counts once its round is stored with the metric; transfers from
/// mask files are left out. Full-model mean as summarizeTickets() on (model, target).
struct TransferCell
{
    int64_t modelId = 0;
    std::string model; ///< modelLabels()' name
    std::string source, target;
    double sparsity = 0;           ///< of the transferred masks (one sparsityKey per cell)
    std::vector<int> sourceRounds; ///< the source rounds the masks came from, sorted
    double transferMetric = 0;
    double fullMean = 0;
    int fullSeeds = 0; ///< 0: no full-model result on the target; fullMean and delta are then 0
    double delta = 0;
    std::optional<double> ownTicket;
    bool atLeastOwnTicket = false;
    int runs = 0;
};
/// A row of the table: one source task's masks at one sparsity, for one model.
struct TransferRow
{
    int64_t modelId = 0;
    std::string model, source;
    double sparsity = 0;
};
struct TransferTable
{
    std::vector<std::string> models, sources, targets; ///< sorted
    std::vector<TransferRow> rows;                     ///< by (model, source, sparsity)
    std::vector<TransferCell> cells;                   ///< by (model, source, sparsity, target)
    /// nullptr when the row has no transfer to target.
    const TransferCell *cell(const TransferRow &row, const std::string &target) const;
    /// The cells of a (source, target) pair, every model and sparsity, in table order.
    std::vector<const TransferCell *> pair(const std::string &source, const std::string &target) const;
};
TransferTable transferTable(const ExperimentStore &store, const std::string &metric = kMainMetric);

} // namespace tl
