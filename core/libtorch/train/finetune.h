#pragma once

// Fine-tuning and evaluation of a BertNet on a GLUE-format task. Synchronous: a long call
// takes a progress callback that can ask to stop and returns a result struct.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "libtorch/model/bert.h"
#include "text/tasks.h"
#include "text/tokenizer.h"
#include "libtorch/train/schedule.h"

namespace tl {

struct TrainOptions
{
    int epochs = 3;
    int64_t maxSteps = -1; ///< > 0 caps the number of optimizer steps
    double lr = 2e-5;
    int batchSize = 32;
    int evalBatchSize = 64;
    int maxSeqLen = 128;
    double warmup = 0.0; ///< fraction of the steps spent warming up
    double weightDecay = 0.01;
    double maxGradNorm = 1.0;
    uint64_t seed = 42;
    std::string device = "cpu";
    int64_t logEvery = 10;
    /// Asked after every optimizer step (progress callbacks run only every logEvery steps):
    /// false stops training there, as a progress callback returning false does. Lets a user's
    /// Cancel take effect within one step.
    std::function<bool()> keepGoing;
    /// Asked after every optimizer step with the steps taken and the schedule's total: true ends
    /// training there as if the schedule were over (the epoch's evaluation still runs; not a
    /// cancellation). Early-bird tickets stop rounds so.
    std::function<bool(int64_t step, int64_t totalSteps)> finishNow;
};

struct TrainProgress
{
    int epoch = 0;
    int64_t step = 0;
    int64_t totalSteps = 0;
    double loss = 0; ///< mean training loss since the last report
    double lr = 0;
    double examplesPerSecond = 0;
    double tokensPerSecond = 0;
    double etaSeconds = 0;
};

/// Return false to stop training at the next step.
using ProgressFn = std::function<bool(const TrainProgress &)>;

struct EpochResult
{
    int epoch = 0;
    int64_t step = 0;
    double trainLoss = 0;
    std::map<std::string, double> dev;
    double seconds = 0;
};

struct FinetuneResult
{
    std::vector<EpochResult> epochs;
    bool cancelled = false;
};

/// Fine-tunes net (which must have a classifier head sized for the task) on train, evaluating
/// on dev after each epoch (skipped when dev is empty). Deterministic on CPU for a seed and a
/// thread count. `stepperSetup` may install hooks on the stepper (the pruning engine's masks).
FinetuneResult finetune(BertNet &net, const BertTokenizer &tokenizer, const TaskSpec &task,
                        const std::vector<Example> &train, const std::vector<Example> &dev, const TrainOptions &options,
                        const ProgressFn &progress = {}, const std::function<void(Stepper &)> &stepperSetup = {});

/// Logits row-major [n, numLabels] (scores [n] for regression), under no-grad and eval().
std::vector<float> predictLogits(BertNet &net, const BertTokenizer &tokenizer, const TaskSpec &task,
                                 const std::vector<Example> &examples, int maxSeqLen, int batchSize,
                                 const torch::Device &device);

/// The task's GLUE metrics on examples (see taskMetrics).
std::map<std::string, double> evaluateTask(BertNet &net, const BertTokenizer &tokenizer, const TaskSpec &task,
                                           const std::vector<Example> &examples, int maxSeqLen, int batchSize,
                                           const torch::Device &device);

/// Loss of a classification / regression batch as HF computes it (cross-entropy or MSE).
torch::Tensor taskLoss(const torch::Tensor &logits, const torch::Tensor &labels, bool regression);

} // namespace tl
