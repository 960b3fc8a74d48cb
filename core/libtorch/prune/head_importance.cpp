#include "libtorch/prune/head_importance.h"

#include <cmath>
#include <numeric>

#include "libtorch/train/batching.h"
#include "libtorch/train/finetune.h"
#include "util/error.h"

namespace tl {

namespace {

std::vector<std::vector<double>> normalisedRows(const std::vector<torch::Tensor> &sums)
{
    std::vector<std::vector<double>> out;
    for (const torch::Tensor &t : sums) {
        const torch::Tensor v = t.to(torch::kCPU, torch::kDouble).contiguous();
        const double norm = std::sqrt(v.pow(2).sum().item<double>());
        std::vector<double> row(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
        if (norm > 0)
            for (double &x : row)
                x /= norm;
        out.push_back(std::move(row));
    }
    return out;
}

} // namespace

UnitImportance unitImportance(BertNet &net, const BertTokenizer &tokenizer, const TaskSpec &task,
                              const std::vector<Example> &examples, bool neurons, int maxSeqLen, int batchSize,
                              const torch::Device &device)
{
    if (examples.empty())
        throw Error("head importance: no examples to score on");
    net->to(device);
    net->eval(); // no dropout: the gradient of the model as it predicts
    auto &layers = *net->bert->encoder->layer;
    std::vector<torch::Tensor> headSums, neuronSums;
    // The model's own parameters take no gradient; only the gates do.
    std::vector<std::pair<torch::Tensor, bool>> saved;
    for (auto &p : net->parameters()) {
        saved.emplace_back(p, p.requires_grad());
        p.set_requires_grad(false);
    }
    for (const auto &module : layers) {
        auto *layer = module->as<BertLayerImpl>();
        auto &self = *layer->attention->self;
        self.headGate = torch::ones({self.heads}, torch::TensorOptions().device(device)).set_requires_grad(true);
        headSums.push_back(torch::zeros({self.heads}, torch::kDouble));
        if (neurons) {
            auto &inter = *layer->intermediate;
            inter.neuronGate = torch::ones({inter.dense->weight.size(0)}, torch::TensorOptions().device(device))
                                   .set_requires_grad(true);
            neuronSums.push_back(torch::zeros({inter.dense->weight.size(0)}, torch::kDouble));
        }
    }
    auto restore = [&] {
        for (const auto &module : layers) {
            auto *layer = module->as<BertLayerImpl>();
            layer->attention->self->headGate = torch::Tensor();
            layer->intermediate->neuronGate = torch::Tensor();
        }
        for (auto &[p, flag] : saved)
            p.set_requires_grad(flag);
    };
    try {
        const auto data = encodeExamples(tokenizer, task, examples, maxSeqLen);
        std::vector<int64_t> order(data.size());
        std::iota(order.begin(), order.end(), 0);
        for (size_t begin = 0; begin < order.size(); begin += static_cast<size_t>(batchSize)) {
            const size_t end = std::min(order.size(), begin + static_cast<size_t>(batchSize));
            Batch batch = collate(data, order, begin, end, tokenizer.vocab().padId(), task.regression, device);
            auto logits = net->classify(batch.inputIds, batch.tokenTypeIds, batch.attentionMask);
            auto loss = taskLoss(logits, batch.labels, task.regression);
            loss.backward();
            size_t i = 0;
            for (const auto &module : layers) {
                auto *layer = module->as<BertLayerImpl>();
                auto &gate = layer->attention->self->headGate;
                if (gate.grad().defined()) { // a layer with no head left has no gradient
                    headSums[i] += gate.grad().abs().to(torch::kCPU, torch::kDouble);
                    gate.mutable_grad().zero_();
                }
                if (neurons) {
                    auto &ng = layer->intermediate->neuronGate;
                    if (ng.grad().defined()) {
                        neuronSums[i] += ng.grad().abs().to(torch::kCPU, torch::kDouble);
                        ng.mutable_grad().zero_();
                    }
                }
                ++i;
            }
        }
    } catch (...) {
        restore();
        throw;
    }
    restore();
    UnitImportance out;
    out.heads = normalisedRows(headSums);
    if (neurons)
        out.neurons = normalisedRows(neuronSums);
    out.examples = static_cast<int64_t>(examples.size());
    return out;
}

} // namespace tl
