#pragma once

#include <chrono>
#include <cstdint>

#include "libtorch/train/finetune.h"

namespace tl {

using TrainClock = std::chrono::steady_clock;

/// Seconds since `t` on TrainClock (epoch and run durations).
inline double secondsSince(TrainClock::time_point t)
{
    return std::chrono::duration<double>(TrainClock::now() - t).count();
}

/// Accumulates training steps between two progress reports and turns them into a
/// TrainProgress (mean loss of the window, throughput, ETA from the whole run's pace).
class ProgressMeter
{
public:
    explicit ProgressMeter(int64_t totalSteps);

    void addStep(double loss, int64_t examples, int64_t tokens);
    /// The report for the window since the last one, which it closes.
    TrainProgress report(int epoch, int64_t step, double lr);
    bool due(int64_t step, int64_t every) const { return step % (every > 0 ? every : 1) == 0 || step == m_total; }

private:
    using Clock = std::chrono::steady_clock;
    int64_t m_total;
    Clock::time_point m_start = Clock::now();
    Clock::time_point m_windowStart = m_start;
    double m_loss = 0;
    int64_t m_steps = 0, m_examples = 0, m_tokens = 0;
};

/// The optimizer settings of a training run of totalSteps steps.
OptimConfig optimConfig(const TrainOptions &options, int64_t totalSteps);

} // namespace tl
