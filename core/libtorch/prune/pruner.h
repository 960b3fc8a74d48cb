#pragma once

// Pruning on LibTorch tensors: which parameters are prunable, magnitude and random pruning
// with exact counts, and masked training. Masks travel as torch-free MaskSets
// (prune/mask_set.h) everywhere else.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "libtorch/model/bert.h"

namespace tl {

struct MaskSet;
class Stepper;

/// The prunable parameters as BERT-Tickets defines them: per layer the weights of
/// attention.self.query/key/value, attention.output.dense, intermediate.dense and
/// output.dense, plus bert.pooler.dense.weight (73 tensors for BERT-base); optionally
/// without the pooler, optionally with the three embedding matrices. Never biases,
/// LayerNorm or task heads. In registration order.
std::vector<std::pair<std::string, torch::Tensor>> prunableParameters(BertNet &net, bool includePooler = true,
                                                                      bool includeEmbeddings = false);

/// Names and shapes, for validating masks read from files.
std::vector<std::pair<std::string, std::vector<int64_t>>> prunableShapes(BertNet &net, bool includePooler = true,
                                                                         bool includeEmbeddings = false);

enum class PruneMethod
{
    GlobalMagnitude,
    TensorMagnitude,
    GlobalRandom,
    TensorRandom
};
PruneMethod pruneMethodFromName(const std::string &name); ///< global_magnitude, ...; throws tl::Error

/// A new mask with exactly round(sparsity * total) weights pruned (per tensor: round(sparsity * numel)
/// in each tensor), removing weights that the current mask keeps: the lowest |w| (magnitude) or a
/// seeded random choice. Ties are broken by position, so the result is deterministic. Masks only
/// shrink: a weight pruned in `current` stays pruned. Throws tl::Error when sparsity is below the
/// current mask's or outside [0, 1].
MaskSet prune(const std::vector<std::pair<std::string, torch::Tensor>> &weights, const MaskSet &current,
              double sparsity, PruneMethod method, uint64_t seed = 0);

/// The all-ones mask of the given parameters.
MaskSet denseMask(const std::vector<std::pair<std::string, torch::Tensor>> &weights);

/// Masks as float tensors on a device, keyed by name.
std::vector<std::pair<torch::Tensor, torch::Tensor>>
maskTensors(const std::vector<std::pair<std::string, torch::Tensor>> &weights, const MaskSet &mask);

/// Multiplies each parameter by its mask (in place, no autograd).
void applyMask(const std::vector<std::pair<torch::Tensor, torch::Tensor>> &paramAndMask);

/// Hooks a stepper so that pruned weights stay exactly 0: gradients are masked before each
/// optimizer step (so Adam's moments of pruned weights stay 0) and the mask is re-applied after
/// it (weight decay cannot revive them either). No per-forward copies of the weights.
void installMaskHooks(Stepper &stepper, std::vector<std::pair<torch::Tensor, torch::Tensor>> paramAndMask);

} // namespace tl
