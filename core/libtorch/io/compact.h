#pragma once

// Compacted export: a smaller dense model whose pruned attention heads and FFN neurons are
// physically removed (smaller Q/K/V, attention-output and FFN matrices), so that structure
// removed by a mask turns into speed. config.json records the removed heads as Hugging Face's
// pruned_heads (transformers 4.x applies them on load) and the per-layer FFN widths as
// TicketLab's intermediate_sizes.

#include <cstdint>
#include <string>

#include "libtorch/model/bert.h"
#include "prune/mask_set.h"

namespace tl {

struct CompactReport
{
    int64_t headsRemoved = 0, headsTotal = 0;
    int64_t neuronsRemoved = 0, neuronsTotal = 0;
    int64_t parametersBefore = 0, parametersAfter = 0;
};

/// The model net with mask applied to its weights (every masked weight 0) and the heads and
/// neurons the mask removes entirely taken out: a model of fewer parameters that computes the
/// same function (a removed head's attention-output columns are all 0, so its output never
/// counted; likewise a removed neuron's FFN-out column). net must be uncompacted; net is left
/// as it was.
BertNet compactModel(BertNet &net, const MaskSet &mask, CompactReport *report = nullptr);

} // namespace tl
