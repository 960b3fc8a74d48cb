#include "libtorch/train/mlm.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>

#include "libtorch/train/batching.h"
#include "libtorch/train/device.h"
#include "libtorch/train/progress.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace tl {
std::vector<std::string> corpusFiles(const std::string &path)
{
    std::error_code ec;
    if (fs::is_regular_file(path, ec))
        return {path};
    if (!fs::is_directory(path, ec))
        throw Error(path + ": no such corpus file or folder");
    std::vector<std::string> files;
    for (const auto &entry : fs::recursive_directory_iterator(path))
        if (entry.is_regular_file() && entry.path().extension() == ".txt")
            files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    if (files.empty())
        throw Error(path + ": no .txt files in this folder");
    return files;
}

MlmCorpus buildMlmCorpus(const BertTokenizer &tokenizer, const std::vector<std::string> &files, int blockLen,
                         int64_t maxTokens, int evalEvery)
{
    if (blockLen < 8)
        throw Error("MLM block length must be at least 8, got " + std::to_string(blockLen));
    const Vocab &vocab = tokenizer.vocab();
    const size_t body = static_cast<size_t>(blockLen - 2);
    MlmCorpus corpus;
    std::vector<int64_t> pending;
    int64_t blocks = 0;
    auto flush = [&]() {
        std::vector<int64_t> block;
        block.reserve(static_cast<size_t>(blockLen));
        block.push_back(vocab.clsId());
        block.insert(block.end(), pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(body));
        block.push_back(vocab.sepId());
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(body));
        ((evalEvery > 0 && ++blocks % evalEvery == 0) ? corpus.eval : corpus.train).push_back(std::move(block));
    };
    for (const std::string &file : files) {
        std::ifstream in(file);
        if (!in)
            throw Error(file + ": cannot open");
        std::string line;
        while (std::getline(in, line)) {
            const auto ids = tokenizer.tokenizeToIds(line);
            if (ids.empty())
                continue;
            pending.insert(pending.end(), ids.begin(), ids.end());
            corpus.tokens += static_cast<int64_t>(ids.size());
            while (pending.size() >= body)
                flush();
            if (maxTokens > 0 && corpus.tokens >= maxTokens)
                break;
        }
        if (maxTokens > 0 && corpus.tokens >= maxTokens)
            break;
    }
    if (corpus.train.empty())
        throw Error("corpus too small: " + std::to_string(corpus.tokens) + " tokens do not fill one block of " +
                    std::to_string(blockLen));
    if (corpus.eval.empty()) // tiny corpora: hold out the last block anyway
        corpus.eval.push_back(corpus.train.back());
    return corpus;
}

MlmCorpus readMlmFolder(const BertTokenizer &tokenizer, const std::string &dataDir, int blockLen)
{
    const fs::path train = fs::path(dataDir) / "train.txt", dev = fs::path(dataDir) / "dev.txt";
    if (fs::exists(train) && fs::exists(dev)) {
        MlmCorpus corpus = buildMlmCorpus(tokenizer, {train.string()}, blockLen, -1, 0);
        corpus.eval = buildMlmCorpus(tokenizer, {dev.string()}, blockLen, -1, 0).train;
        return corpus;
    }
    return buildMlmCorpus(tokenizer, corpusFiles(dataDir), blockLen);
}

void maskTokens(torch::Tensor &ids, torch::Tensor &labels, const Vocab &vocab, double prob, torch::Generator &gen)
{
    labels = ids.clone();
    auto special = (ids == vocab.clsId()) | (ids == vocab.sepId()) | (ids == vocab.padId());
    auto chosen = torch::bernoulli(torch::full(ids.sizes(), prob), gen).to(torch::kBool) & ~special;
    labels.masked_fill_(~chosen, -100);
    auto replace = torch::bernoulli(torch::full(ids.sizes(), 0.8), gen).to(torch::kBool) & chosen;
    ids.masked_fill_(replace, vocab.maskId());
    auto randomize = torch::bernoulli(torch::full(ids.sizes(), 0.5), gen).to(torch::kBool) & chosen & ~replace;
    auto randomIds = torch::randint(vocab.size(), ids.sizes(), gen, torch::kLong);
    ids.copy_(torch::where(randomize, randomIds, ids));
}

namespace {

struct MlmStep
{
    torch::Tensor loss;
    torch::Tensor correct;
    int64_t masked = 0;
};

MlmStep mlmForward(BertNet &net, const Vocab &vocab, Batch &batch, double prob, torch::Generator &gen,
                   const torch::Device &device)
{
    torch::Tensor ids = batch.inputIds.to(torch::kCPU), labels;
    maskTokens(ids, labels, vocab, prob, gen);
    ids = ids.to(device);
    labels = labels.to(device);
    auto positions = labels != -100;
    MlmStep s;
    s.masked = positions.sum().item<int64_t>();
    if (s.masked == 0)
        return s;
    auto logits = net->mlmLogits(ids, batch.tokenTypeIds, batch.attentionMask, positions);
    auto target = labels.index({positions});
    s.loss = torch::cross_entropy_loss(logits, target);
    s.correct = (logits.argmax(-1) == target).sum();
    return s;
}

} // namespace

MlmMetrics evaluateMlm(BertNet &net, const Vocab &vocab, const std::vector<std::vector<int64_t>> &blocks,
                       const MlmOptions &options, uint64_t maskSeed)
{
    torch::NoGradGuard noGrad;
    const torch::Device device = resolveDevice(options.train.device);
    net->to(device);
    net->eval();
    auto gen = at::detail::createCPUGenerator(maskSeed);
    std::vector<int64_t> order(blocks.size());
    std::iota(order.begin(), order.end(), 0);
    double lossSum = 0;
    int64_t correct = 0;
    MlmMetrics m;
    const size_t bs = static_cast<size_t>(options.train.evalBatchSize);
    for (size_t begin = 0; begin < order.size(); begin += bs) {
        Batch batch = stackBlocks(blocks, order, begin, std::min(order.size(), begin + bs), device);
        MlmStep s = mlmForward(net, vocab, batch, options.maskProb, gen, device);
        if (s.masked == 0)
            continue;
        lossSum += s.loss.item<double>() * static_cast<double>(s.masked);
        correct += s.correct.item<int64_t>();
        m.maskedTokens += s.masked;
    }
    if (m.maskedTokens > 0) {
        m.loss = lossSum / static_cast<double>(m.maskedTokens);
        m.accuracy = static_cast<double>(correct) / static_cast<double>(m.maskedTokens);
        m.perplexity = std::exp(m.loss);
    }
    return m;
}

MlmResult trainMlm(BertNet &net, const Vocab &vocab, const MlmCorpus &corpus, const MlmOptions &options,
                   const ProgressFn &progress, const std::function<void(Stepper &)> &stepperSetup)
{
    const TrainOptions &t = options.train;
    const torch::Device device = resolveDevice(t.device);
    torch::manual_seed(t.seed);
    net->to(device);
    MlmResult result;
    const auto start = TrainClock::now();
    result.before = evaluateMlm(net, vocab, corpus.eval, options);

    const int64_t batchesPerEpoch = (static_cast<int64_t>(corpus.train.size()) + t.batchSize - 1) / t.batchSize;
    int64_t totalSteps = batchesPerEpoch * t.epochs;
    if (t.maxSteps > 0)
        totalSteps = t.epochs > 0 ? std::min(totalSteps, t.maxSteps) : t.maxSteps;
    Stepper stepper(trainableParameters(*net), optimConfig(t, totalSteps));
    if (stepperSetup)
        stepperSetup(stepper);

    std::mt19937_64 rng(t.seed);
    auto gen = at::detail::createCPUGenerator(t.seed + 1);
    std::vector<int64_t> order(corpus.train.size());
    ProgressMeter meter(totalSteps);
    net->train();
    for (int epoch = 1; stepper.stepCount() < totalSteps; ++epoch) {
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), rng);
        for (size_t begin = 0; begin < order.size() && stepper.stepCount() < totalSteps;
             begin += static_cast<size_t>(t.batchSize)) {
            Batch batch = stackBlocks(corpus.train, order, begin,
                                      std::min(order.size(), begin + static_cast<size_t>(t.batchSize)), device);
            MlmStep s = mlmForward(net, vocab, batch, options.maskProb, gen, device);
            if (s.masked == 0)
                continue;
            const double lossValue = s.loss.item<double>();
            if (!std::isfinite(lossValue))
                throw Error("MLM training diverged: loss is " + std::to_string(lossValue) + " at step " +
                            std::to_string(stepper.stepCount()) + " (try a lower --lr)");
            s.loss.backward();
            const double lr = stepper.currentLr();
            stepper.step();
            meter.addStep(lossValue, batch.size(), batch.tokens);
            if (meter.due(stepper.stepCount(), t.logEvery)) {
                const TrainProgress p = meter.report(epoch, stepper.stepCount(), lr);
                result.lossCurve.emplace_back(p.step, p.loss);
                if (progress && !progress(p)) {
                    result.cancelled = true;
                    break;
                }
            }
            if (t.keepGoing && !t.keepGoing()) {
                result.cancelled = true;
                break;
            }
            if (t.finishNow && t.finishNow(stepper.stepCount(), totalSteps))
                totalSteps = stepper.stepCount(); // ends both loops; evaluation follows
        }
        if (result.cancelled)
            break;
    }
    result.steps = stepper.stepCount();
    result.after = evaluateMlm(net, vocab, corpus.eval, options);
    result.seconds = secondsSince(start);
    return result;
}

} // namespace tl
