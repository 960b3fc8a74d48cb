#pragma once

// Head and neuron importance as Michel et al. (2019, "Are Sixteen Heads Really Better than
// One?"): a gate xi multiplied into each attention head's output (and, optionally, into each FFN
// neuron's activation), importance = E |dL/dxi| over a task's examples, normalised per layer by
// the L2 norm. The gates are 1, so the model computes exactly what it computes without them.

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "analysis/structure.h"
#include "libtorch/model/bert.h"
#include "text/tasks.h"
#include "text/tokenizer.h"

namespace tl {

/// Scores every head (and with `neurons`, every FFN neuron) of net on examples: one forward and
/// backward pass per batch with all gates at 1, |gradient| of each gate summed over batches.
/// net's parameters receive no gradient and its weights are unchanged. Dead heads (all weights
/// masked) score 0.
UnitImportance unitImportance(BertNet &net, const BertTokenizer &tokenizer, const TaskSpec &task,
                              const std::vector<Example> &examples, bool neurons, int maxSeqLen, int batchSize,
                              const torch::Device &device);

} // namespace tl
