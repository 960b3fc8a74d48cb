#pragma once

// Layer sensitivity: how much a fine-tuned model's dev metric drops when one matrix type of one
// layer alone is magnitude-pruned to a sparsity, without retraining (the view pruning tools are
// known for). Compare with where IMP put its sparsity (analyze layer-sparsity).

#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "analysis/analysis.h"
#include "analysis/sensitivity_data.h"
#include "libtorch/model/bert.h"
#include "text/tasks.h"
#include "text/tokenizer.h"

namespace tl {

/// Every encoder matrix (Q, K, V, attention output, FFN in and out of each layer) in turn, each
/// sparsity in turn: its smallest |w| set to 0 (exactly round(s * numel) of them), the dev
/// metric measured, the weights put back. net is left as it was. progress(done, total) after
/// each evaluation. Throws tl::Error for a sparsity outside [0, 1] or an unknown metric.
SensitivityScan sensitivityScan(BertNet &net, const BertTokenizer &tokenizer, const TaskSpec &task,
                                const std::vector<Example> &dev, const std::vector<double> &sparsities,
                                const std::string &metric, int maxSeqLen, int batchSize, const torch::Device &device,
                                const std::function<void(int, int)> &progress = {});

} // namespace tl
