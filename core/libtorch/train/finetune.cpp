#include "libtorch/train/finetune.h"

#include <chrono>
#include <numeric>
#include <random>

#include "libtorch/train/batching.h"
#include "libtorch/train/device.h"
#include "train/metrics.h"
#include "libtorch/train/progress.h"
#include "util/error.h"

namespace tl {
torch::Tensor taskLoss(const torch::Tensor &logits, const torch::Tensor &labels, bool regression)
{
    if (regression)
        return torch::mse_loss(logits.view({-1}), labels.view({-1}));
    return torch::cross_entropy_loss(logits, labels);
}

FinetuneResult finetune(BertNet &net, const BertTokenizer &tokenizer, const TaskSpec &task,
                        const std::vector<Example> &train, const std::vector<Example> &dev, const TrainOptions &options,
                        const ProgressFn &progress, const std::function<void(Stepper &)> &stepperSetup)
{
    if (train.empty())
        throw Error("fine-tuning: the training set is empty");
    if (net->config.numLabels() != task.numLabels())
        throw Error("fine-tuning: the model has " + std::to_string(net->config.numLabels()) + " outputs but task " +
                    task.name + " needs " + std::to_string(task.numLabels()));
    const torch::Device device = resolveDevice(options.device);
    torch::manual_seed(options.seed);
    net->to(device);

    const auto data = encodeExamples(tokenizer, task, train, options.maxSeqLen);
    const int64_t batchesPerEpoch = (static_cast<int64_t>(data.size()) + options.batchSize - 1) / options.batchSize;
    int64_t totalSteps = batchesPerEpoch * options.epochs;
    if (options.maxSteps > 0)
        totalSteps = std::min(totalSteps, options.maxSteps);

    Stepper stepper(trainableParameters(*net), optimConfig(options, totalSteps));
    if (stepperSetup)
        stepperSetup(stepper);

    // Our own shuffle (mt19937_64 is specified bit-exactly) keeps runs identical everywhere.
    std::mt19937_64 rng(options.seed);
    std::vector<int64_t> order(data.size());
    FinetuneResult result;
    ProgressMeter meter(totalSteps);

    for (int epoch = 1; epoch <= options.epochs && stepper.stepCount() < totalSteps; ++epoch) {
        const auto epochStart = TrainClock::now();
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), rng);
        net->train();
        double epochLoss = 0;
        int64_t epochSteps = 0;
        for (size_t begin = 0; begin < order.size() && stepper.stepCount() < totalSteps;
             begin += static_cast<size_t>(options.batchSize)) {
            const size_t end = std::min(order.size(), begin + static_cast<size_t>(options.batchSize));
            Batch batch = collate(data, order, begin, end, tokenizer.vocab().padId(), task.regression, device);
            auto logits = net->classify(batch.inputIds, batch.tokenTypeIds, batch.attentionMask);
            auto loss = taskLoss(logits, batch.labels, task.regression);
            const double lossValue = loss.item<double>();
            if (!std::isfinite(lossValue))
                throw Error("fine-tuning diverged: loss is " + std::to_string(lossValue) + " at step " +
                            std::to_string(stepper.stepCount()) + " (try a lower --lr)");
            loss.backward();
            const double lr = stepper.currentLr();
            stepper.step();
            epochLoss += lossValue;
            ++epochSteps;
            meter.addStep(lossValue, batch.size(), batch.tokens);
            if (progress && meter.due(stepper.stepCount(), options.logEvery)) {
                if (!progress(meter.report(epoch, stepper.stepCount(), lr))) {
                    result.cancelled = true;
                    return result;
                }
            }
            if (options.keepGoing && !options.keepGoing()) {
                result.cancelled = true;
                return result;
            }
            if (options.finishNow && options.finishNow(stepper.stepCount(), totalSteps))
                totalSteps = stepper.stepCount(); // both loops end here; the epoch is evaluated
        }
        EpochResult er;
        er.epoch = epoch;
        er.step = stepper.stepCount();
        er.trainLoss = epochSteps ? epochLoss / static_cast<double>(epochSteps) : 0.0;
        if (!dev.empty())
            er.dev = evaluateTask(net, tokenizer, task, dev, options.maxSeqLen, options.evalBatchSize, device);
        er.seconds = secondsSince(epochStart);
        result.epochs.push_back(er);
    }
    return result;
}

std::vector<float> predictLogits(BertNet &net, const BertTokenizer &tokenizer, const TaskSpec &task,
                                 const std::vector<Example> &examples, int maxSeqLen, int batchSize,
                                 const torch::Device &device)
{
    torch::NoGradGuard noGrad;
    net->to(device);
    net->eval();
    const auto data = encodeExamples(tokenizer, task, examples, maxSeqLen);
    std::vector<int64_t> order(data.size());
    std::iota(order.begin(), order.end(), 0);
    std::vector<float> out;
    out.reserve(data.size() * static_cast<size_t>(net->config.numLabels()));
    for (size_t begin = 0; begin < order.size(); begin += static_cast<size_t>(batchSize)) {
        const size_t end = std::min(order.size(), begin + static_cast<size_t>(batchSize));
        Batch batch = collate(data, order, begin, end, tokenizer.vocab().padId(), task.regression, device);
        auto logits = net->classify(batch.inputIds, batch.tokenTypeIds, batch.attentionMask)
                          .to(torch::kCPU, torch::kFloat)
                          .contiguous();
        out.insert(out.end(), logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
    }
    return out;
}

std::map<std::string, double> evaluateTask(BertNet &net, const BertTokenizer &tokenizer, const TaskSpec &task,
                                           const std::vector<Example> &examples, int maxSeqLen, int batchSize,
                                           const torch::Device &device)
{
    return taskMetrics(task, predictLogits(net, tokenizer, task, examples, maxSeqLen, batchSize, device), examples);
}

} // namespace tl
