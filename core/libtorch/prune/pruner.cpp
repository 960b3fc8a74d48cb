#include "libtorch/prune/pruner.h"

#include <cmath>

#include "prune/mask_set.h"
#include "libtorch/train/schedule.h"
#include "util/error.h"

namespace tl {
namespace {

bool endsWith(const std::string &s, const std::string &suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool isPrunable(const std::string &name, bool includePooler, bool includeEmbeddings)
{
    if (name.rfind("bert.encoder.layer.", 0) == 0)
        return endsWith(name, "attention.self.query.weight") || endsWith(name, "attention.self.key.weight") ||
               endsWith(name, "attention.self.value.weight") || endsWith(name, "attention.output.dense.weight") ||
               endsWith(name, "intermediate.dense.weight") ||
               (endsWith(name, ".output.dense.weight") && name.find("attention") == std::string::npos);
    if (name == "bert.pooler.dense.weight")
        return includePooler;
    if (name.rfind("bert.embeddings.", 0) == 0 && endsWith(name, "_embeddings.weight"))
        return includeEmbeddings;
    return false;
}

/// Flat scores where a pruned weight scores -1 so that it sorts first and stays pruned.
torch::Tensor scoresOf(const torch::Tensor &weight, const MaskTensor &mask, PruneMethod method, torch::Generator &gen)
{
    torch::Tensor s = (method == PruneMethod::GlobalMagnitude || method == PruneMethod::TensorMagnitude)
                          ? weight.detach().to(torch::kCPU, torch::kFloat).abs().reshape({-1})
                          : torch::rand({weight.numel()}, gen);
    auto keep = torch::from_blob(const_cast<uint8_t *>(mask.keep.data()), {weight.numel()}, torch::kUInt8);
    return torch::where(keep.to(torch::kBool), s, torch::full_like(s, -1.0f));
}

/// Marks the `count` lowest scores (stable: ties by position) as pruned in keep.
void pruneLowest(const torch::Tensor &scores, int64_t count, uint8_t *keep)
{
    if (count <= 0)
        return;
    auto order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
    auto idx = order.slice(0, 0, count).contiguous();
    const int64_t *p = idx.data_ptr<int64_t>();
    for (int64_t i = 0; i < count; ++i)
        keep[p[i]] = 0;
}

} // namespace

std::vector<std::pair<std::string, torch::Tensor>> prunableParameters(BertNet &net, bool includePooler,
                                                                      bool includeEmbeddings)
{
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (auto &item : net->named_parameters())
        if (isPrunable(item.key(), includePooler, includeEmbeddings))
            out.emplace_back(item.key(), item.value());
    return out;
}

std::vector<std::pair<std::string, std::vector<int64_t>>> prunableShapes(BertNet &net, bool includePooler,
                                                                         bool includeEmbeddings)
{
    std::vector<std::pair<std::string, std::vector<int64_t>>> out;
    for (auto &[name, t] : prunableParameters(net, includePooler, includeEmbeddings))
        out.emplace_back(name, t.sizes().vec());
    return out;
}

PruneMethod pruneMethodFromName(const std::string &name)
{
    if (name == "global_magnitude")
        return PruneMethod::GlobalMagnitude;
    if (name == "tensor_magnitude")
        return PruneMethod::TensorMagnitude;
    if (name == "global_random")
        return PruneMethod::GlobalRandom;
    if (name == "tensor_random")
        return PruneMethod::TensorRandom;
    throw Error("unknown pruning method '" + name +
                "' (global_magnitude, tensor_magnitude, global_random, tensor_random)");
}

MaskSet denseMask(const std::vector<std::pair<std::string, torch::Tensor>> &weights)
{
    MaskSet m;
    for (const auto &[name, t] : weights)
        m.tensors.push_back({name, t.sizes().vec(), std::vector<uint8_t>(static_cast<size_t>(t.numel()), 1)});
    return m;
}

MaskSet prune(const std::vector<std::pair<std::string, torch::Tensor>> &weights, const MaskSet &current,
              double sparsity, PruneMethod method, uint64_t seed)
{
    if (!(sparsity >= 0.0 && sparsity <= 1.0))
        throw Error("pruning: sparsity " + std::to_string(sparsity) + " is outside [0, 1]");
    if (current.tensors.size() != weights.size())
        throw Error("pruning: the mask has " + std::to_string(current.tensors.size()) + " tensors, the model " +
                    std::to_string(weights.size()));
    torch::NoGradGuard noGrad;
    auto gen = at::detail::createCPUGenerator(seed);
    MaskSet next = current;
    const bool global = method == PruneMethod::GlobalMagnitude || method == PruneMethod::GlobalRandom;
    if (global) {
        std::vector<torch::Tensor> scores;
        for (size_t i = 0; i < weights.size(); ++i)
            scores.push_back(scoresOf(weights[i].second, current.tensors[i], method, gen));
        const auto all = torch::cat(scores);
        const int64_t target = std::llround(sparsity * static_cast<double>(all.numel()));
        const int64_t already = current.total() - current.kept();
        if (target < already)
            throw Error("pruning: target sparsity " + std::to_string(sparsity) + " is below the mask's current " +
                        std::to_string(current.sparsity()) + " (masks only shrink)");
        std::vector<uint8_t> flat;
        flat.reserve(static_cast<size_t>(all.numel()));
        for (const MaskTensor &t : current.tensors)
            flat.insert(flat.end(), t.keep.begin(), t.keep.end());
        pruneLowest(all, target, flat.data());
        size_t offset = 0;
        for (MaskTensor &t : next.tensors) {
            std::copy(flat.begin() + static_cast<std::ptrdiff_t>(offset),
                      flat.begin() + static_cast<std::ptrdiff_t>(offset + t.keep.size()), t.keep.begin());
            offset += t.keep.size();
        }
        return next;
    }
    for (size_t i = 0; i < weights.size(); ++i) {
        MaskTensor &t = next.tensors[i];
        const int64_t target = std::llround(sparsity * static_cast<double>(t.numel()));
        int64_t already = 0;
        for (uint8_t k : t.keep)
            already += k == 0;
        if (target < already)
            throw Error("pruning: tensor " + t.name + " is already sparser than " + std::to_string(sparsity));
        pruneLowest(scoresOf(weights[i].second, current.tensors[i], method, gen), target, t.keep.data());
    }
    return next;
}

std::vector<std::pair<torch::Tensor, torch::Tensor>>
maskTensors(const std::vector<std::pair<std::string, torch::Tensor>> &weights, const MaskSet &mask)
{
    std::vector<std::pair<torch::Tensor, torch::Tensor>> out;
    for (const auto &[name, param] : weights) {
        const MaskTensor *m = mask.find(name);
        if (!m)
            throw Error("mask has no entry for " + name);
        if (m->shape != param.sizes().vec())
            throw Error("mask of " + name + " has the wrong shape");
        auto t = torch::from_blob(const_cast<uint8_t *>(m->keep.data()), m->shape, torch::kUInt8)
                     .to(param.device(), param.scalar_type());
        out.emplace_back(param, t);
    }
    return out;
}

void applyMask(const std::vector<std::pair<torch::Tensor, torch::Tensor>> &paramAndMask)
{
    torch::NoGradGuard noGrad;
    for (const auto &[param, mask] : paramAndMask)
        param.mul_(mask);
}

void installMaskHooks(Stepper &stepper, std::vector<std::pair<torch::Tensor, torch::Tensor>> paramAndMask)
{
    auto shared = std::make_shared<std::vector<std::pair<torch::Tensor, torch::Tensor>>>(std::move(paramAndMask));
    applyMask(*shared);
    stepper.beforeStep = [shared] {
        torch::NoGradGuard noGrad;
        for (const auto &[param, mask] : *shared)
            if (param.grad().defined())
                param.mutable_grad().mul_(mask);
    };
    stepper.afterStep = [shared] { applyMask(*shared); };
}

} // namespace tl
