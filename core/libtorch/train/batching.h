#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "text/tasks.h"
#include "text/tokenizer.h"

namespace tl {

struct EncodedExample
{
    Encoding encoding;
    float label = 0.f;
};

/// Tokenizes every example (pairs when the task has two sentences), truncated to maxLen.
std::vector<EncodedExample> encodeExamples(const BertTokenizer &tokenizer, const TaskSpec &task,
                                           const std::vector<Example> &examples, int maxLen);

/// One padded batch: inputs padded to the longest sequence in it (dynamic padding).
struct Batch
{
    torch::Tensor inputIds, tokenTypeIds, attentionMask, labels;
    int64_t size() const { return inputIds.size(0); }
    int64_t tokens = 0; ///< real (unpadded) tokens
};

/// Batch of data[order[begin..end)] on device; labels float for regression, long otherwise.
Batch collate(const std::vector<EncodedExample> &data, const std::vector<int64_t> &order, size_t begin, size_t end,
              int64_t padId, bool regression, const torch::Device &device);

/// Same-length sequences stacked (MLM blocks): ids [n, len], types 0, mask 1.
Batch stackBlocks(const std::vector<std::vector<int64_t>> &blocks, const std::vector<int64_t> &order, size_t begin,
                  size_t end, const torch::Device &device);

} // namespace tl
