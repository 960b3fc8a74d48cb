#include "libtorch/io/compact.h"

#include <map>

#include "analysis/structure.h"
#include "libtorch/io/checkpoint.h"
#include "util/error.h"

namespace tl {

namespace {

torch::Tensor indexOf(const std::vector<int64_t> &rows)
{
    return torch::tensor(rows, torch::kLong);
}

} // namespace

BertNet compactModel(BertNet &net, const MaskSet &mask, CompactReport *report)
{
    const BertConfig &c = net->config;
    if (c.compacted())
        throw Error("compacting: the model is compacted already (pruned_heads or intermediate_sizes in its config)");
    torch::NoGradGuard noGrad;
    const int64_t d = c.headDim();
    const MaskStructure st = maskStructure(mask, static_cast<int>(c.numAttentionHeads));

    std::map<std::string, torch::Tensor> state;
    for (const auto &item : net->named_parameters())
        state[item.key()] = item.value().detach().to(torch::kCPU, torch::kFloat).clone();
    for (const MaskTensor &t : mask.tensors) {
        const auto it = state.find(t.name);
        if (it == state.end())
            throw Error("compacting: the mask covers " + t.name + ", which the model does not have");
        if (it->second.sizes().vec() != t.shape)
            throw Error("compacting: the mask of " + t.name + " has shape " + shapeToString(t.shape) +
                        ", the model's weight another");
        const auto m = torch::from_blob(const_cast<uint8_t *>(t.keep.data()), t.shape, torch::kUInt8).to(torch::kFloat);
        it->second.mul_(m);
    }

    BertConfig out = c;
    CompactReport r;
    bool neuronsGone = false;
    std::vector<int64_t> ffnSizes;
    for (int64_t l = 0; l < c.numHiddenLayers; ++l) {
        const std::string p = "bert.encoder.layer." + std::to_string(l) + ".";
        std::vector<int64_t> rows, removed;
        for (int64_t h = 0; h < c.numAttentionHeads; ++h) {
            const bool alive = size_t(l) >= st.headAlive.size() || st.headAlive[size_t(l)][size_t(h)];
            if (!alive) {
                removed.push_back(h);
                continue;
            }
            for (int64_t i = h * d; i < (h + 1) * d; ++i)
                rows.push_back(i);
        }
        r.headsTotal += c.numAttentionHeads;
        r.headsRemoved += static_cast<int64_t>(removed.size());
        if (!removed.empty()) {
            out.prunedHeads[l] = removed;
            const torch::Tensor idx = indexOf(rows);
            for (const char *m : {"query", "key", "value"}) {
                const std::string w = p + "attention.self." + m + ".weight", b = p + "attention.self." + m + ".bias";
                state[w] = state.at(w).index_select(0, idx).contiguous();
                state[b] = state.at(b).index_select(0, idx).contiguous();
            }
            const std::string o = p + "attention.output.dense.weight";
            state[o] = state.at(o).index_select(1, idx).contiguous();
        }
        std::vector<int64_t> neurons;
        const int64_t width = c.intermediateSize;
        for (int64_t j = 0; j < width; ++j) {
            const bool alive = size_t(l) >= st.neuronAlive.size() || st.neuronAlive[size_t(l)].empty() ||
                               st.neuronAlive[size_t(l)][size_t(j)];
            if (alive)
                neurons.push_back(j);
        }
        r.neuronsTotal += width;
        r.neuronsRemoved += width - static_cast<int64_t>(neurons.size());
        ffnSizes.push_back(static_cast<int64_t>(neurons.size()));
        if (static_cast<int64_t>(neurons.size()) != width) {
            neuronsGone = true;
            const torch::Tensor idx = indexOf(neurons);
            const std::string w = p + "intermediate.dense.weight", b = p + "intermediate.dense.bias",
                              o = p + "output.dense.weight";
            state[w] = state.at(w).index_select(0, idx).contiguous();
            state[b] = state.at(b).index_select(0, idx).contiguous();
            state[o] = state.at(o).index_select(1, idx).contiguous();
        }
    }
    if (neuronsGone)
        out.intermediateSizes = ffnSizes;

    BertNet result(out, net->heads);
    LoadReport load;
    loadStateDict(result, state, &load);
    if (!load.missingKeys.empty() || !load.unusedKeys.empty() || !load.reinitialised.empty())
        throw Error("compacting: the compacted tensors do not fit the compacted model: " + describe(load));
    for (const auto &p : net->parameters())
        r.parametersBefore += p.numel();
    for (const auto &p : result->parameters())
        r.parametersAfter += p.numel();
    if (report)
        *report = r;
    return result;
}

} // namespace tl
