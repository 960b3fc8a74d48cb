#include "libtorch/train/progress.h"

#include <algorithm>

namespace tl {

ProgressMeter::ProgressMeter(int64_t totalSteps) : m_total(totalSteps) {}

void ProgressMeter::addStep(double loss, int64_t examples, int64_t tokens)
{
    m_loss += loss;
    ++m_steps;
    m_examples += examples;
    m_tokens += tokens;
}

TrainProgress ProgressMeter::report(int epoch, int64_t step, double lr)
{
    const auto now = Clock::now();
    const double window = std::max(1e-9, std::chrono::duration<double>(now - m_windowStart).count());
    const double elapsed = std::chrono::duration<double>(now - m_start).count();
    TrainProgress p;
    p.epoch = epoch;
    p.step = step;
    p.totalSteps = m_total;
    p.loss = m_steps ? m_loss / static_cast<double>(m_steps) : 0.0;
    p.lr = lr;
    p.examplesPerSecond = static_cast<double>(m_examples) / window;
    p.tokensPerSecond = static_cast<double>(m_tokens) / window;
    p.etaSeconds = step > 0 ? elapsed / static_cast<double>(step) * static_cast<double>(m_total - step) : 0.0;
    m_loss = 0;
    m_steps = m_examples = m_tokens = 0;
    m_windowStart = now;
    return p;
}

OptimConfig optimConfig(const TrainOptions &options, int64_t totalSteps)
{
    OptimConfig oc;
    oc.lr = options.lr;
    oc.weightDecay = options.weightDecay;
    oc.warmupFraction = options.warmup;
    oc.maxGradNorm = options.maxGradNorm;
    oc.totalSteps = totalSteps;
    return oc;
}

} // namespace tl
