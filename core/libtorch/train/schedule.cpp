#include "libtorch/train/schedule.h"

#include <algorithm>
#include <cmath>

namespace tl {

double linearWarmupDecay(int64_t step, int64_t warmupSteps, int64_t totalSteps)
{
    if (step < warmupSteps)
        return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmupSteps));
    return std::max(0.0, static_cast<double>(totalSteps - step) /
                             static_cast<double>(std::max<int64_t>(1, totalSteps - warmupSteps)));
}

std::vector<std::pair<std::string, torch::Tensor>> trainableParameters(torch::nn::Module &module)
{
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (auto &item : module.named_parameters())
        if (item.value().requires_grad())
            out.emplace_back(item.key(), item.value());
    return out;
}

Stepper::Stepper(const std::vector<std::pair<std::string, torch::Tensor>> &namedParams, const OptimConfig &config)
    : m_config(config)
{
    std::vector<torch::Tensor> decay, noDecay;
    for (const auto &[name, p] : namedParams) {
        m_params.push_back(p);
        const bool isBias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
        (isBias || name.find("LayerNorm") != std::string::npos ? noDecay : decay).push_back(p);
    }
    auto options = [&](double wd) {
        return std::make_unique<torch::optim::AdamWOptions>(
            torch::optim::AdamWOptions(config.lr).betas({0.9, 0.999}).eps(config.adamEps).weight_decay(wd));
    };
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, options(config.weightDecay));
    groups.emplace_back(noDecay, options(0.0));
    m_optimizer = std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(config.lr));
    m_warmupSteps = static_cast<int64_t>(std::ceil(config.warmupFraction * static_cast<double>(config.totalSteps)));
    for (auto &group : m_optimizer->param_groups())
        static_cast<torch::optim::AdamWOptions &>(group.options()).lr(currentLr());
}

double Stepper::currentLr() const
{
    return m_config.lr * linearWarmupDecay(m_step, m_warmupSteps, m_config.totalSteps);
}

void Stepper::step()
{
    if (beforeStep)
        beforeStep();
    if (m_config.maxGradNorm > 0)
        torch::nn::utils::clip_grad_norm_(m_params, m_config.maxGradNorm);
    m_optimizer->step();
    m_optimizer->zero_grad();
    if (afterStep)
        afterStep();
    ++m_step;
    const double lr = currentLr();
    for (auto &group : m_optimizer->param_groups())
        static_cast<torch::optim::AdamWOptions &>(group.options()).lr(lr);
}

} // namespace tl
