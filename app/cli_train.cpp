// finetune, pretrain, init, bench-train: the commands that train or create models.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <sys/resource.h>

#include "cli_common.h"
#include "libtorch/io/checkpoint.h"
#include "prune/mask_set.h"
#include "libtorch/prune/pruner.h"
#include "libtorch/train/device.h"
#include "libtorch/train/mlm.h"
#include "util/error.h"
#include "util/fileio.h"

namespace fs = std::filesystem;

namespace tl::cli {
namespace {

struct FinetuneArgs
{
    std::string model, task, dataDir, out;
    TrainFlags flags;
};

void runFinetune(const FinetuneArgs &a)
{
    resolveDevice(a.flags.options.device); // an unusable device fails now, not after reading the data
    setThreads(a.flags.threads);
    if (isMlmTask(a.task))
        return runMlmFinetune(a.model, a.dataDir, a.out, a.flags);
    const bool json = a.flags.progress == "json";
    TaskSpec task = taskByName(a.task);
    const std::string trainPath = splitPath(task, a.dataDir, "train");
    const std::vector<Example> train = readLabelledExamples(task, trainPath);
    const std::string devPath = splitPath(task, a.dataDir, "dev");
    const std::vector<Example> dev = fs::exists(devPath) ? readLabelledExamples(task, devPath) : std::vector<Example>{};
    if (dev.empty())
        std::fprintf(stderr, "warning: %s not found; no dev evaluation\n", devPath.c_str());

    BertConfig config = BertConfig::load((fs::path(a.model) / "config.json").string());
    warnIfLabelsDiffer(a.model, config, task);
    config.regression = task.regression;
    config.id2label = task.labels;
    const BertTokenizer tokenizer = loadTokenizer(a.model);
    if (tokenizer.vocab().size() != config.vocabSize)
        throw Error(a.model + ": vocab.txt has " + std::to_string(tokenizer.vocab().size()) +
                    " tokens but config.json says vocab_size " + std::to_string(config.vocabSize));
    torch::manual_seed(a.flags.options.seed); // the new classifier head's initialisation
    LoadReport report;
    BertNet net = loadBert(a.model, BertHeads{true, true, false}, &report, &config);
    std::fprintf(stderr, "%s: %zu train / %zu dev examples; %s", task.name.c_str(), train.size(), dev.size(),
                 describe(report).c_str());

    const ProgressFn progress = a.flags.progress == "none" ? ProgressFn{} : progressPrinter(json, "finetune");
    const FinetuneResult result = finetune(net, tokenizer, task, train, dev, a.flags.options, progress);
    nlohmann::json epochs = nlohmann::json::array();
    for (const EpochResult &e : result.epochs) {
        nlohmann::json row = {
            {"epoch", e.epoch}, {"step", e.step}, {"train_loss", e.trainLoss}, {"dev", e.dev}, {"seconds", e.seconds}};
        epochs.push_back(row);
        if (json) {
            row["event"] = "epoch";
            printJsonLine(row);
        } else {
            std::printf("epoch %d  step %lld  train_loss %.4f", e.epoch, static_cast<long long>(e.step), e.trainLoss);
            for (const auto &[k, v] : e.dev)
                std::printf("  %s %.4f", k.c_str(), v);
            std::printf("  (%.1f s)\n", e.seconds);
        }
    }
    saveBert(net, a.out, vocabPath(a.model));
    const nlohmann::json metrics = {
        {"task", task.name},
        {"model", a.model},
        {"train_examples", train.size()},
        {"dev_examples", dev.size()},
        {"epochs", epochs},
        {"final", result.epochs.empty() ? nlohmann::json(nullptr) : nlohmann::json(result.epochs.back().dev)},
        {"cancelled", result.cancelled},
        {"seed", a.flags.options.seed},
        {"threads", a.flags.threads}};
    writeFileAtomic((fs::path(a.out) / "metrics.json").string(), metrics.dump(2) + "\n");
    std::fprintf(stderr, "wrote %s (model and metrics.json)\n", a.out.c_str());
}

struct PretrainArgs
{
    std::string corpus, vocab, config, preset, out, initFrom;
    int seqLen = 128;
    int64_t maxTokens = -1;
    TrainFlags flags;
};

BertConfig configFor(const std::string &file, const std::string &preset, int64_t vocabSize)
{
    if (file.empty() == preset.empty())
        throw Error("give exactly one of --config FILE and --preset NAME");
    BertConfig c = file.empty() ? BertConfig::preset(preset) : BertConfig::load(file);
    if (!file.empty() && c.vocabSize != vocabSize)
        std::fprintf(stderr, "note: %s says vocab_size %lld; using the vocabulary's %lld\n", file.c_str(),
                     static_cast<long long>(c.vocabSize), static_cast<long long>(vocabSize));
    c.vocabSize = vocabSize;
    return c;
}

void runPretrain(const PretrainArgs &a)
{
    resolveDevice(a.flags.options.device); // before tokenizing the corpus (millions of tokens)
    setThreads(a.flags.threads);
    const bool json = a.flags.progress == "json";
    const std::string vocabFile = a.initFrom.empty() ? a.vocab : vocabPath(a.initFrom);
    if (vocabFile.empty())
        throw Error("--vocab is required (or --init-from a model folder)");
    const BertTokenizer tokenizer = loadTokenizer(vocabFile);
    torch::manual_seed(a.flags.options.seed);
    BertNet net{nullptr};
    if (a.initFrom.empty()) {
        BertConfig config = configFor(a.config, a.preset, tokenizer.vocab().size());
        config.maxPositionEmbeddings = std::max<int64_t>(config.maxPositionEmbeddings, a.seqLen);
        net = BertNet(config, BertHeads{true, false, true});
    } else {
        LoadReport report;
        net = loadBert(a.initFrom, BertHeads{true, false, true}, &report);
        std::fprintf(stderr, "%s", describe(report).c_str());
    }
    const auto t0 = std::chrono::steady_clock::now();
    const MlmCorpus corpus = buildMlmCorpus(tokenizer, corpusFiles(a.corpus), a.seqLen, a.maxTokens);
    std::fprintf(stderr, "corpus: %lld tokens -> %zu training / %zu held-out blocks of %d (%.1f s)\n",
                 static_cast<long long>(corpus.tokens), corpus.train.size(), corpus.eval.size(), a.seqLen,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    MlmOptions options;
    options.train = a.flags.options;
    if (options.train.maxSteps > 0)
        options.train.epochs = 0; // --max-steps alone decides
    const ProgressFn progress = a.flags.progress == "none" ? ProgressFn{} : progressPrinter(json, "pretrain");
    const MlmResult r = trainMlm(net, tokenizer.vocab(), corpus, options, progress);
    saveBert(net, a.out, vocabFile);
    const nlohmann::json summary = {{"event", "done"},
                                    {"steps", r.steps},
                                    {"before", toJson(r.before)},
                                    {"after", toJson(r.after)},
                                    {"seconds", r.seconds},
                                    {"corpus_tokens", corpus.tokens},
                                    {"out", a.out}};
    writeFileAtomic((fs::path(a.out) / "metrics.json").string(), summary.dump(2) + "\n");
    printJsonLine(summary);
}

struct InitArgs
{
    std::string config, preset, vocab, out;
    uint64_t seed = 0;
};

void runInit(const InitArgs &a)
{
    const Vocab vocab = Vocab::load(a.vocab);
    torch::manual_seed(a.seed);
    BertNet net(configFor(a.config, a.preset, vocab.size()), BertHeads{true, false, true});
    saveBert(net, a.out, a.vocab);
    std::fprintf(stderr, "wrote a randomly initialised BERT (%lld parameters) to %s\n",
                 static_cast<long long>(torch::nn::utils::parameters_to_vector(net->parameters()).numel()),
                 a.out.c_str());
}

struct BenchArgs
{
    int64_t layers = 2, hidden = 128, heads = 2, intermediate = 512;
    int batch = 32, seq = 128, threads = 0, steps = 10, warmupSteps = 2;
    double sparsity = 0;
    std::string device = "cpu";
};

double peakMemoryMb()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0; // ru_maxrss is in KiB on Linux
}

void runBench(const BenchArgs &a)
{
    setThreads(a.threads);
    BertConfig c;
    c.numHiddenLayers = a.layers;
    c.hiddenSize = a.hidden;
    c.numAttentionHeads = a.heads;
    c.intermediateSize = a.intermediate;
    c.maxPositionEmbeddings = std::max(512, a.seq);
    c.validate("bench-train");
    const torch::Device device = resolveDevice(a.device);
    torch::manual_seed(0);
    BertNet net(c, BertHeads{true, true, false});
    net->to(device);
    net->train();
    OptimConfig oc;
    oc.lr = 2e-5;
    oc.totalSteps = a.steps + a.warmupSteps;
    Stepper stepper(trainableParameters(*net), oc);
    if (a.sparsity > 0) {
        // Masked training as the engine does it: BERT-Tickets' prunable set, global magnitude.
        const auto weights = prunableParameters(net);
        installMaskHooks(stepper, maskTensors(weights, prune(weights, denseMask(weights), a.sparsity,
                                                             PruneMethod::GlobalMagnitude)));
    }
    auto ids = torch::randint(1, c.vocabSize, {a.batch, a.seq}, torch::kLong).to(device);
    auto types = torch::zeros_like(ids);
    auto mask = torch::ones_like(ids);
    auto labels = torch::randint(0, 2, {a.batch}, torch::kLong).to(device);
    auto step = [&] {
        auto loss = taskLoss(net->classify(ids, types, mask), labels, false);
        loss.backward();
        stepper.step();
        return loss.item<double>();
    };
    for (int i = 0; i < a.warmupSteps; ++i)
        step();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < a.steps; ++i)
        step();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double seqPerS = static_cast<double>(a.batch) * a.steps / seconds;
    std::fprintf(stderr,
                 "%lld layers / %lld hidden / %lld heads / %lld intermediate, batch %d x %d, %d threads, "
                 "sparsity %.2f: %.3f s per step\n",
                 static_cast<long long>(a.layers), static_cast<long long>(a.hidden), static_cast<long long>(a.heads),
                 static_cast<long long>(a.intermediate), a.batch, a.seq, torch::get_num_threads(), a.sparsity,
                 seconds / a.steps);
    printJsonLine({{"seq_per_s", seqPerS}, {"peak_mem_mb", peakMemoryMb()}});
}

} // namespace

void addTrainCommands(CLI::App &app)
{
    auto ft = std::make_shared<FinetuneArgs>();
    CLI::App *f = app.add_subcommand(
        "finetune", "Fine-tune a Hugging Face BERT folder on a task; writes an HF folder and metrics.json");
    f->add_option("--model", ft->model, "Hugging Face model folder (config.json, model.safetensors, vocab.txt)")
        ->required()
        ->check(CLI::ExistingDirectory);
    f->add_option("--task", ft->task, "Task name (CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE, WNLI, generic, mlm)")
        ->required();
    f->add_option("--data-dir", ft->dataDir,
                  "Task folder with train.tsv and dev.tsv (mlm: train.txt and dev.txt, or any .txt files)")
        ->required()
        ->check(CLI::ExistingDirectory);
    f->add_option("--out", ft->out, "Output model folder")->required();
    ft->flags.add(f);
    f->callback([ft] { runFinetune(*ft); });

    auto pt = std::make_shared<PretrainArgs>();
    pt->flags.options.lr = 1e-4;
    pt->flags.options.warmup = 0.06;
    pt->flags.options.epochs = 1;
    CLI::App *p = app.add_subcommand("pretrain", "Masked-LM pre-training from plain text; writes an HF folder");
    p->add_option("--corpus", pt->corpus, "A .txt file, or a folder searched for .txt files")->required();
    p->add_option("--vocab", pt->vocab, "vocab.txt");
    p->add_option("--config", pt->config, "config.json giving the model shape");
    p->add_option("--preset", pt->preset, "Model shape: tiny, mini, small, medium, base, large");
    p->add_option("--init-from", pt->initFrom, "Continue from this HF folder instead of a random model");
    p->add_option("--out", pt->out, "Output model folder")->required();
    p->add_option("--seq-len", pt->seqLen, "Block length in tokens")->capture_default_str();
    p->add_option("--max-tokens", pt->maxTokens, "Read at most this many corpus tokens (-1: all)")
        ->capture_default_str();
    pt->flags.add(p);
    p->callback([pt] { runPretrain(*pt); });

    auto in = std::make_shared<InitArgs>();
    CLI::App *i =
        app.add_subcommand("init", "Write a randomly initialised HF BERT folder (pooler and MLM head included)");
    i->add_option("--config", in->config, "config.json giving the model shape");
    i->add_option("--preset", in->preset, "Model shape: tiny, mini, small, medium, base, large");
    i->add_option("--vocab", in->vocab, "vocab.txt")->required()->check(CLI::ExistingFile);
    i->add_option("--out", in->out, "Output model folder")->required();
    i->add_option("--seed", in->seed, "Initialisation seed")->capture_default_str();
    i->callback([in] { runInit(*in); });

    auto b = std::make_shared<BenchArgs>();
    CLI::App *bt = app.add_subcommand("bench-train",
                                      "Time full training steps (vocab 30522, AdamW); prints {seq_per_s, peak_mem_mb}");
    bt->add_option("--layers", b->layers, "Encoder layers")->capture_default_str();
    bt->add_option("--hidden", b->hidden, "Hidden size")->capture_default_str();
    bt->add_option("--heads", b->heads, "Attention heads")->capture_default_str();
    bt->add_option("--intermediate", b->intermediate, "FFN size")->capture_default_str();
    bt->add_option("--batch", b->batch, "Batch size")->capture_default_str();
    bt->add_option("--seq", b->seq, "Sequence length")->capture_default_str();
    bt->add_option("--threads", b->threads, "CPU threads (0: default)")->capture_default_str();
    bt->add_option("--steps", b->steps, "Timed steps")->capture_default_str();
    bt->add_option("--warmup-steps", b->warmupSteps, "Untimed steps first")->capture_default_str();
    bt->add_option("--device", b->device, "cpu, cuda or cuda:N")->capture_default_str();
    bt->add_option("--sparsity", b->sparsity, "Train with a global-magnitude mask of this sparsity (masked training)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 0.999));
    bt->callback([b] { runBench(*b); });
}

} // namespace tl::cli
