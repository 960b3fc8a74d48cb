#include "libtorch/engine/run_context.h"

#include <chrono>
#include <filesystem>
#include <optional>

#include "libtorch/io/checkpoint.h"
#include "io/model_folder.h"
#include "io/safetensors.h"
#include "prune/mask_set.h"
#include "libtorch/prune/pruner.h"
#include "libtorch/train/device.h"
#include "libtorch/train/finetune.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace tl {
namespace {

using Clock = std::chrono::steady_clock;

bool isHead(const std::string &name)
{
    return name.rfind("classifier.", 0) == 0;
}

std::map<std::string, torch::Tensor> snapshot(const NamedTensors &params)
{
    std::map<std::string, torch::Tensor> out;
    for (const auto &[name, t] : params)
        out[name] = t.detach().clone();
    return out;
}

void writeTensors(const std::string &path, const NamedTensors &params)
{
    saveTensors(path, params); // atomic: temporary file, fsync, rename
}

std::map<std::string, torch::Tensor> readTensors(const std::string &path)
{
    return readStateDict(path);
}

NamedTensors named(torch::nn::Module &m)
{
    NamedTensors out;
    for (auto &item : m.named_parameters())
        out.emplace_back(item.key(), item.value());
    return out;
}

} // namespace

RunContext::RunContext(const RunSpec &spec) : m_spec(spec) {}

void RunContext::prepare(uint64_t seed)
{
    m_tokenizer.emplace(loadTokenizer(m_spec.model));
    BertConfig config = BertConfig::load((fs::path(m_spec.model) / "config.json").string());
    m_mlm = m_spec.task == "mlm" || m_spec.task == "MLM";
    std::vector<std::string> dataFiles;
    if (m_mlm) {
        m_corpus = readMlmFolder(*m_tokenizer, m_spec.dataDir, m_spec.train.maxSeqLen);
        dataFiles = fs::exists(fs::path(m_spec.dataDir) / "train.txt")
                        ? std::vector<std::string>{(fs::path(m_spec.dataDir) / "train.txt").string(),
                                                   (fs::path(m_spec.dataDir) / "dev.txt").string()}
                        : corpusFiles(m_spec.dataDir);
    } else {
        m_task = taskByName(m_spec.task);
        const std::string trainPath = splitPath(m_task, m_spec.dataDir, "train");
        const std::string devPath = splitPath(m_task, m_spec.dataDir, "dev");
        m_train = readLabelledExamples(m_task, trainPath);
        m_dev = readLabelledExamples(m_task, devPath);
        dataFiles = {trainPath, devPath};
        config.regression = m_task.regression;
        config.id2label = m_task.labels;
    }
    m_dataHash = contentHash(dataFiles);
    m_modelHash = contentHash({(fs::path(m_spec.model) / "config.json").string(), findWeightsFile(m_spec.model)});
    // The task head's initialisation is part of the run: seeded by the run seed.
    torch::manual_seed(seed);
    const BertHeads heads = m_mlm ? BertHeads{false, false, true} : BertHeads{true, true, false};
    m_net = loadBert(m_spec.model, heads, nullptr, &config);
    m_net->to(resolveDevice(m_spec.device));
    m_prunable = prunableParameters(m_net, m_spec.prune.includePooler, m_spec.prune.includeEmbeddings);
    const NamedTensors all = named(*m_net);
    m_theta0.clear();
    m_headInit.clear();
    for (const auto &[name, t] : all)
        (isHead(name) ? m_headInit : m_theta0)[name] = t.detach().clone();
    m_theta0Prunable.clear();
    for (const auto &[name, t] : m_prunable)
        m_theta0Prunable.emplace_back(name, m_theta0.at(name));
}

UnitImportance RunContext::unitImportance()
{
    const std::vector<Example> &split = m_spec.prune.importanceSplit == "dev" ? m_dev : m_train;
    const size_t n = std::min(split.size(), static_cast<size_t>(m_spec.prune.importanceExamples));
    const std::vector<Example> examples(split.begin(), split.begin() + static_cast<std::ptrdiff_t>(n));
    return tl::unitImportance(m_net, *m_tokenizer, m_task, examples, m_spec.prune.prunesNeurons(),
                              m_spec.train.maxSeqLen, m_spec.train.evalBatchSize, resolveDevice(m_spec.device));
}

ModelRecord RunContext::modelRecord() const
{
    ModelRecord r;
    r.path = fs::absolute(m_spec.model).string();
    r.configJson = m_net->config.toJson().dump();
    r.contentHash = m_modelHash;
    return r;
}

DatasetRecord RunContext::datasetRecord() const
{
    DatasetRecord r;
    r.task = taskName();
    r.path = fs::absolute(m_spec.dataDir).string();
    r.contentHash = m_dataHash;
    return r;
}

void RunContext::restorePretrained(const RewindSpec &rewind)
{
    torch::NoGradGuard noGrad;
    const std::map<std::string, torch::Tensor> *source = &m_theta0;
    if (!rewind.pretrained) {
        if (m_rewind.empty() && !m_rewindFile.empty() && fs::exists(m_rewindFile))
            m_rewind = readTensors(m_rewindFile);
        if (!m_rewind.empty())
            source = &m_rewind;
    }
    for (auto &item : m_net->named_parameters()) {
        auto it = source->find(item.key());
        if (it != source->end())
            item.value().copy_(it->second);
    }
}

void RunContext::reinitialisePrunable(uint64_t seed)
{
    torch::NoGradGuard noGrad;
    auto gen = at::detail::createCPUGenerator(seed);
    for (const auto &[name, t] : m_prunable)
        t.copy_(torch::randn(t.sizes(), gen) * m_net->config.initializerRange);
}

void RunContext::shufflePrunable(uint64_t seed)
{
    torch::NoGradGuard noGrad;
    auto gen = at::detail::createCPUGenerator(seed);
    for (const auto &[name, t] : m_prunable) {
        auto flat = t.detach().reshape({-1}).to(torch::kCPU);
        auto perm = torch::randperm(flat.numel(), gen, torch::kLong);
        t.copy_(flat.index({perm}).view(t.sizes()));
    }
}

NamedTensors RunContext::headParameters()
{
    NamedTensors out;
    for (auto &item : m_net->named_parameters())
        if (isHead(item.key()))
            out.emplace_back(item.key(), item.value());
    return out;
}

void RunContext::resetHead()
{
    torch::NoGradGuard noGrad;
    for (auto &[name, t] : headParameters())
        t.copy_(m_headInit.at(name));
}

void RunContext::saveHead(const std::string &path)
{
    NamedTensors head = headParameters();
    if (head.empty()) // an MLM ticket has no task head; the file still marks the round as done
        head.emplace_back("none", torch::zeros({1}));
    writeTensors(path, head);
}

void RunContext::loadHead(const std::string &path)
{
    torch::NoGradGuard noGrad;
    const auto state = readTensors(path);
    for (auto &[name, t] : headParameters())
        t.copy_(state.at(name));
}

RoundResult RunContext::trainRound(const MaskSet &mask, uint64_t seed, bool firstRound,
                                   const std::function<bool(const TrainProgressLite &)> &progress,
                                   const std::function<MaskSet()> &drawNextMask)
{
    const auto pm = maskTensors(m_prunable, mask);
    applyMask(pm);
    TrainOptions o;
    o.epochs = m_spec.train.epochs;
    o.maxSteps = m_spec.train.maxSteps;
    o.lr = m_spec.train.lr;
    o.batchSize = m_spec.train.batchSize;
    o.evalBatchSize = m_spec.train.evalBatchSize;
    o.maxSeqLen = m_spec.train.maxSeqLen;
    o.warmup = m_spec.train.warmup;
    o.weightDecay = m_spec.train.weightDecay;
    o.seed = seed;
    o.device = m_spec.device;
    o.logEvery = 10;
    o.keepGoing = [&progress] {
        TrainProgressLite tick;
        tick.tick = true;
        return !progress || progress(tick);
    };
    const bool captureRewind = firstRound && !m_spec.rewind.pretrained;
    auto setup = [&](Stepper &stepper) {
        installMaskHooks(stepper, pm);
        if (!captureRewind)
            return;
        auto after = stepper.afterStep;
        const int64_t at = m_spec.rewind.step;
        Stepper *s = &stepper;
        stepper.afterStep = [this, after, at, s] {
            after();
            if (s->stepCount() + 1 == at) { // stepCount advances after this hook
                m_rewind = snapshot(named(*m_net));
                if (!m_rewindFile.empty())
                    writeTensors(m_rewindFile, named(*m_net));
            }
        };
    };
    RoundResult result;
    std::optional<MaskSet> lastDraw;
    std::vector<double> distances;
    if (m_spec.earlyBird && drawNextMask) {
        const EarlyBirdSpec &eb = *m_spec.earlyBird;
        o.finishNow = [&](int64_t step, int64_t totalSteps) {
            if (step % eb.interval(totalSteps) != 0 || step >= totalSteps)
                return false;
            MaskSet draw = drawNextMask();
            if (lastDraw) {
                distances.push_back(maskDistance(*lastDraw, draw));
                result.maskDistances.emplace_back(step, distances.back());
            }
            lastDraw = std::move(draw);
            if (!eb.settled(distances))
                return false;
            result.earlyBirdStep = step;
            return true;
        };
    }
    auto onProgress = [&](const TrainProgress &p) {
        result.curve.emplace_back(p.step, p.loss, p.lr);
        TrainProgressLite lite{p.step, p.totalSteps, p.loss, p.lr, p.tokensPerSecond, p.etaSeconds};
        return !progress || progress(lite);
    };
    torch::manual_seed(seed);
    const auto t0 = Clock::now();
    if (captureRewind && m_spec.rewind.step == 0)
        m_rewind = snapshot(named(*m_net));
    if (m_mlm) {
        MlmOptions mo;
        mo.train = o;
        if (o.maxSteps > 0)
            mo.train.epochs = std::max(1, o.epochs);
        const MlmResult r = trainMlm(m_net, m_tokenizer->vocab(), m_corpus, mo, onProgress, setup);
        result.cancelled = r.cancelled;
        result.steps = r.steps;
        result.dev = {{"accuracy", r.after.accuracy},
                      {"loss", r.after.loss},
                      {"perplexity", r.after.perplexity},
                      {kMainMetric, r.after.accuracy}};
        if (!r.lossCurve.empty())
            result.train = {{"loss", r.lossCurve.back().second}};
    } else {
        const FinetuneResult r = finetune(m_net, *m_tokenizer, m_task, m_train, m_dev, o, onProgress, setup);
        result.cancelled = r.cancelled;
        if (!r.epochs.empty()) {
            result.dev = r.epochs.back().dev;
            result.train = {{"loss", r.epochs.back().trainLoss}};
            result.steps = r.epochs.back().step;
        }
    }
    result.trainSeconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return result;
}

void RunContext::keepFineTunedWeights(const std::string &path)
{
    m_fineTuned.clear();
    for (const auto &[name, t] : m_prunable)
        m_fineTuned.emplace_back(name, t.detach().clone());
    writeTensors(path, m_fineTuned);
}

void RunContext::ensureFineTunedWeights(const std::string &path, uint64_t /*seed*/)
{
    if (!m_fineTuned.empty())
        return;
    if (!fs::exists(path))
        throw Error(path + ": the fine-tuned weights of round 0 are missing; cannot resume this standard-pruning run");
    const auto state = readTensors(path);
    for (const auto &[name, t] : m_prunable)
        m_fineTuned.emplace_back(name, state.at(name));
}

} // namespace tl
