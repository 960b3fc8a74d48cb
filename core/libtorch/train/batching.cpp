#include "libtorch/train/batching.h"

#include <algorithm>

namespace tl {

std::vector<EncodedExample> encodeExamples(const BertTokenizer &tokenizer, const TaskSpec &task,
                                           const std::vector<Example> &examples, int maxLen)
{
    std::vector<EncodedExample> out;
    out.reserve(examples.size());
    for (const Example &e : examples) {
        EncodedExample x;
        x.encoding = (task.pair || !e.textB.empty()) ? tokenizer.encodePair(e.textA, e.textB, maxLen)
                                                     : tokenizer.encode(e.textA, maxLen);
        x.label = e.label;
        out.push_back(std::move(x));
    }
    return out;
}

Batch collate(const std::vector<EncodedExample> &data, const std::vector<int64_t> &order, size_t begin, size_t end,
              int64_t padId, bool regression, const torch::Device &device)
{
    const int64_t n = static_cast<int64_t>(end - begin);
    size_t longest = 0;
    for (size_t i = begin; i < end; ++i)
        longest = std::max(longest, data[order[i]].encoding.inputIds.size());
    const int64_t len = static_cast<int64_t>(longest);
    auto ids = torch::full({n, len}, padId, torch::kLong);
    auto types = torch::zeros({n, len}, torch::kLong);
    auto mask = torch::zeros({n, len}, torch::kLong);
    auto labels = torch::empty({n}, regression ? torch::kFloat : torch::kLong);
    auto idA = ids.accessor<int64_t, 2>();
    auto typeA = types.accessor<int64_t, 2>();
    auto maskA = mask.accessor<int64_t, 2>();
    Batch b;
    for (int64_t r = 0; r < n; ++r) {
        const EncodedExample &x = data[order[begin + r]];
        for (size_t c = 0; c < x.encoding.inputIds.size(); ++c) {
            idA[r][c] = x.encoding.inputIds[c];
            typeA[r][c] = x.encoding.tokenTypeIds[c];
            maskA[r][c] = 1;
        }
        b.tokens += static_cast<int64_t>(x.encoding.inputIds.size());
        if (regression)
            labels[r] = x.label;
        else
            labels[r] = static_cast<int64_t>(x.label);
    }
    b.inputIds = ids.to(device);
    b.tokenTypeIds = types.to(device);
    b.attentionMask = mask.to(device);
    b.labels = labels.to(device);
    return b;
}

Batch stackBlocks(const std::vector<std::vector<int64_t>> &blocks, const std::vector<int64_t> &order, size_t begin,
                  size_t end, const torch::Device &device)
{
    const int64_t n = static_cast<int64_t>(end - begin);
    const int64_t len = static_cast<int64_t>(blocks[order[begin]].size());
    auto ids = torch::empty({n, len}, torch::kLong);
    for (int64_t r = 0; r < n; ++r)
        std::copy(blocks[order[begin + r]].begin(), blocks[order[begin + r]].end(), ids[r].data_ptr<int64_t>());
    Batch b;
    b.inputIds = ids.to(device);
    b.tokenTypeIds = torch::zeros_like(b.inputIds);
    b.attentionMask = torch::ones_like(b.inputIds);
    b.tokens = n * len;
    return b;
}

} // namespace tl
