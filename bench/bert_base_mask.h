#pragma once

// The benchmarks' BERT-base: the 73 prunable tensors of bert-base-uncased (BERT-Tickets' set:
// 12 layers of Q, K, V, attention output, intermediate and output, plus the pooler),
// 85,524,480 weights, all kept.

#include <string>
#include <vector>

#include "prune/mask_set.h"

namespace bench {

inline tl::MaskSet bertBaseDenseMask()
{
    tl::MaskSet mask;
    auto add = [&](const std::string &name, std::vector<int64_t> shape) {
        tl::MaskTensor t;
        t.name = name;
        t.shape = std::move(shape);
        t.keep.assign(size_t(t.numel()), 1);
        mask.tensors.push_back(std::move(t));
    };
    for (int layer = 0; layer < 12; ++layer) {
        const std::string p = "bert.encoder.layer." + std::to_string(layer) + ".";
        for (const char *m :
             {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"})
            add(p + m + ".weight", {768, 768});
        add(p + "intermediate.dense.weight", {3072, 768});
        add(p + "output.dense.weight", {768, 3072});
    }
    add("bert.pooler.dense.weight", {768, 768});
    return mask;
}

} // namespace bench
