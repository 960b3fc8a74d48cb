#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <torch/torch.h>

namespace tl {

/// HF's get_linear_schedule_with_warmup: the multiplier of the base learning rate at step.
double linearWarmupDecay(int64_t step, int64_t warmupSteps, int64_t totalSteps);

struct OptimConfig
{
    double lr = 2e-5;
    double weightDecay = 0.01;
    double warmupFraction = 0.0;
    double maxGradNorm = 1.0; ///< <= 0: no clipping
    double adamEps = 1e-8;
    int64_t totalSteps = 1;
};

/// AdamW (decoupled weight decay, none on biases and LayerNorm), linear warm-up then linear
/// decay, gradient clipping. The hooks let the pruning engine mask gradients before a step
/// and re-apply masks after it without this class knowing about masks.
class Stepper
{
public:
    Stepper(const std::vector<std::pair<std::string, torch::Tensor>> &namedParams, const OptimConfig &config);

    /// Call after backward(): clips, steps, zeroes gradients, advances the schedule.
    void step();
    int64_t stepCount() const { return m_step; }
    /// Learning rate the next step will use.
    double currentLr() const;
    torch::optim::AdamW &optimizer() { return *m_optimizer; }

    std::function<void()> beforeStep;
    std::function<void()> afterStep;

private:
    OptimConfig m_config;
    std::vector<torch::Tensor> m_params;
    std::unique_ptr<torch::optim::AdamW> m_optimizer;
    int64_t m_step = 0;
    int64_t m_warmupSteps = 0;
};

/// Named trainable parameters of a module, in registration order.
std::vector<std::pair<std::string, torch::Tensor>> trainableParameters(torch::nn::Module &module);

} // namespace tl
