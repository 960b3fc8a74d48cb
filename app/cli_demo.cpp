// demo-data and demo: the built-in toy language, and the short headless demo that pre-trains
// a tiny BERT on it and fine-tunes it on three tasks (a demo, not a benchmark).

#include <chrono>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli_common.h"
#include "demodata.h"
#include "engine/run_spec.h"
#include "engine/runner.h"
#include "libtorch/io/checkpoint.h"
#include "libtorch/train/device.h"
#include "libtorch/train/mlm.h"
#include "store/experiment_store.h"
#include "util/error.h"
#include "util/fileio.h"

namespace fs = std::filesystem;

namespace tl::cli {
namespace {

struct DemoArgs
{
    std::string out = "demo-out";
    uint64_t seed = 13;
    int threads = 0;
    int64_t pretrainSteps = 600;
    int epochs = 5;
    bool lab = true;
    int labEpochs = 3;
};

struct DemoTask
{
    const char *folder;
    const char *task;
};
const DemoTask kDemoTasks[] = {{"sentiment", "SST-2"}, {"agreement", "CoLA"}, {"entailment", "RTE"}};

/// Runs one demo run spec (written to out/specs/NAME.json for reference) into the lab database.
std::vector<int64_t> runLabSpec(const fs::path &out, const std::string &name, const nlohmann::json &spec,
                                const std::string &db, const std::function<double()> &elapsed)
{
    fs::create_directories(out / "specs");
    const std::string file = (out / "specs" / (name + ".json")).string();
    writeFileAtomic(file, spec.dump(2) + "\n");
    const RunOutcome outcome = executeRunSpec(RunSpec::load(file), db, [&](const RunEvent &e) {
        if (e.type == RunEventType::RoundDone)
            std::fprintf(stderr, "[%5.1fs] lab: %-16s run %lld round %d sparsity %4.1f%% dev %.3f\n", elapsed(),
                         name.c_str(), static_cast<long long>(e.runId), e.round, 100 * e.sparsity,
                         e.metrics.count(kMainMetric) ? e.metrics.at(kMainMetric) : 0.0);
        return true;
    });
    return outcome.runIds;
}

/// The demo lab: IMP on two tasks (two seeds on one), the full model, random pruning and the
/// IMP-mask-with-random-init baseline, and one transfer, all in out/lab.db, so that every view
/// of the desktop app has real numbers in it.
void runDemoLab(const DemoArgs &a, const fs::path &out, const std::string &pretrained,
                const std::function<double()> &elapsed)
{
    const std::string db = (out / "lab.db").string();
    const fs::path data = out / "data";
    // A fresh lab each time: the model was just pre-trained again.
    for (const char *suffix : {"", "-wal", "-shm", ".checkpoints", ".specs"})
        fs::remove_all(db + suffix);
    auto spec = [&](const std::string &folder, const std::string &task, const std::string &kind,
                    std::vector<int> seeds) {
        nlohmann::json j = {
            {"model", fs::absolute(pretrained).string()},
            {"task", task},
            {"data_dir", fs::absolute(data / folder).string()},
            {"kind", kind},
            {"train",
             {{"epochs", a.labEpochs}, {"lr", 1e-3}, {"batch_size", 32}, {"max_seq_len", 64}, {"warmup", 0.1}}},
            {"seeds", seeds},
            {"threads", a.threads}};
        if (kind != "full")
            j["prune"] = {{"method", "global_magnitude"}, {"schedule", "linear"}, {"step", 0.25}, {"rounds", 3}};
        return j;
    };
    const auto impSst = runLabSpec(out, "sst2-imp", spec("sentiment", "SST-2", "imp", {0, 1}), db, elapsed);
    runLabSpec(out, "sst2-full", spec("sentiment", "SST-2", "full", {0, 1}), db, elapsed);
    runLabSpec(out, "sst2-random", spec("sentiment", "SST-2", "random", {0}), db, elapsed);
    nlohmann::json reinit = spec("sentiment", "SST-2", "reinit", {0});
    reinit["source"] = {{"run", impSst.at(0)}}; // every round of that IMP run
    runLabSpec(out, "sst2-reinit", reinit, db, elapsed);
    runLabSpec(out, "rte-imp", spec("entailment", "RTE", "imp", {0}), db, elapsed);
    runLabSpec(out, "rte-full", spec("entailment", "RTE", "full", {0}), db, elapsed);
    nlohmann::json transfer = spec("entailment", "RTE", "transfer", {0});
    transfer.erase("prune");
    transfer["source"] = {{"run", impSst.at(0)}, {"round", 2}};
    runLabSpec(out, "sst2-to-rte", transfer, db, elapsed);
    std::fprintf(stderr, "[%5.1fs] lab: %s holds the demo runs; open it with `ticketlab %s`\n", elapsed(), db.c_str(),
                 db.c_str());
}

double majorityBaseline(const TaskSpec &task, const std::vector<Example> &train, const std::vector<Example> &dev)
{
    std::vector<int> counts(static_cast<size_t>(task.numLabels()), 0);
    for (const Example &e : train)
        ++counts[static_cast<size_t>(e.label)];
    const int majority = static_cast<int>(std::max_element(counts.begin(), counts.end()) - counts.begin());
    int hits = 0;
    for (const Example &e : dev)
        hits += static_cast<int>(e.label) == majority;
    return dev.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(dev.size());
}

void runDemo(const DemoArgs &a)
{
    setThreads(a.threads);
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    const fs::path out = a.out;
    const fs::path data = out / "data";
    demo::DemoOptions dataOptions;
    dataOptions.outDir = data.string();
    dataOptions.seed = a.seed;
    demo::writeDemoData(dataOptions);
    std::fprintf(stderr, "[%5.1fs] demo data written to %s (a toy language, not a benchmark)\n", elapsed(),
                 data.c_str());

    // 1. Masked-LM pre-training of a tiny BERT on the toy corpus.
    const std::string vocabFile = (data / "vocab.txt").string();
    const BertTokenizer tokenizer(Vocab::load(vocabFile));
    BertConfig config = BertConfig::preset("tiny");
    config.vocabSize = tokenizer.vocab().size();
    config.maxPositionEmbeddings = 128;
    torch::manual_seed(a.seed);
    BertNet mlm(config, BertHeads{true, false, true});
    const MlmCorpus corpus = buildMlmCorpus(tokenizer, corpusFiles((data / "corpus").string()), 64);
    MlmOptions mlmOptions;
    mlmOptions.train.lr = 1e-3;
    mlmOptions.train.warmup = 0.1;
    mlmOptions.train.batchSize = 32;
    mlmOptions.train.epochs = 0;
    mlmOptions.train.maxSteps = a.pretrainSteps;
    mlmOptions.train.seed = a.seed;
    mlmOptions.train.logEvery = 100;
    const MlmResult pre = trainMlm(mlm, tokenizer.vocab(), corpus, mlmOptions, progressPrinter(false, "pretrain"));
    const std::string pretrained = (out / "models" / "pretrained").string();
    saveBert(mlm, pretrained, vocabFile);
    std::fprintf(stderr, "[%5.1fs] pre-trained %s: masked-token accuracy %.3f -> %.3f, perplexity %.1f -> %.1f\n",
                 elapsed(), pretrained.c_str(), pre.before.accuracy, pre.after.accuracy, pre.before.perplexity,
                 pre.after.perplexity);

    // 2. Fine-tune the pre-trained model on each task.
    nlohmann::json results = nlohmann::json::array();
    std::printf("%-12s %-6s %18s %18s %8s\n", "task", "format", "majority accuracy", "dev accuracy", "mcc");
    for (const DemoTask &dt : kDemoTasks) {
        TaskSpec task = taskByName(dt.task);
        const std::string dir = (data / dt.folder).string();
        const auto train = readLabelledExamples(task, splitPath(task, dir, "train"));
        const auto dev = readLabelledExamples(task, splitPath(task, dir, "dev"));
        BertConfig taskConfig = config;
        taskConfig.id2label = task.labels;
        torch::manual_seed(a.seed);
        BertNet net = loadBert(pretrained, BertHeads{true, true, false}, nullptr, &taskConfig);
        TrainOptions options;
        options.epochs = a.epochs;
        options.lr = 5e-4; // tiny models want far larger steps than BERT-base's 2e-5
        options.batchSize = 32;
        options.maxSeqLen = 64;
        options.warmup = 0.1;
        options.seed = a.seed;
        options.logEvery = 1000000; // one summary line per epoch is enough here
        const FinetuneResult r = finetune(net, tokenizer, task, train, dev, options);
        const auto &final = r.epochs.back().dev;
        const double majority = majorityBaseline(task, train, dev);
        const double accuracy = final.at("accuracy");
        std::printf("%-12s %-6s %18.3f %18.3f %8.3f\n", dt.folder, dt.task, majority, accuracy, final.at("mcc"));
        std::fflush(stdout);
        saveBert(net, (out / "models" / dt.folder).string(), vocabFile);
        results.push_back({{"task", dt.folder}, {"format", dt.task}, {"majority_accuracy", majority}, {"dev", final}});
    }
    const nlohmann::json summary = {
        {"pretrain",
         {{"steps", pre.steps}, {"accuracy_before", pre.before.accuracy}, {"accuracy_after", pre.after.accuracy}}},
        {"tasks", results},
        {"seconds", elapsed()}};
    writeFileAtomic((out / "results.json").string(), summary.dump(2) + "\n");
    if (a.lab)
        runDemoLab(a, out, pretrained, elapsed);
    std::fprintf(stderr, "[%5.1fs] done: models in %s, results in %s\n", elapsed(), (out / "models").c_str(),
                 (out / "results.json").c_str());
}

} // namespace

void addDemoCommands(CLI::App &app)
{
    auto d = std::make_shared<demo::DemoOptions>();
    d->outDir = "demo-data";
    CLI::App *dd =
        app.add_subcommand("demo-data", "Write the built-in toy-language corpus, vocab and tasks (GLUE formats)");
    dd->add_option("--out", d->outDir, "Output folder")->capture_default_str();
    dd->add_option("--seed", d->seed, "Generator seed")->capture_default_str();
    dd->add_option("--train", d->trainExamples, "Training examples per task")->capture_default_str();
    dd->add_option("--dev", d->devExamples, "Dev examples per task")->capture_default_str();
    dd->add_option("--corpus-lines", d->corpusLines, "Corpus lines")->capture_default_str();
    dd->callback([d] {
        demo::writeDemoData(*d);
        std::fprintf(stderr, "wrote demo data to %s\n", d->outDir.c_str());
    });

    auto a = std::make_shared<DemoArgs>();
    CLI::App *dm =
        app.add_subcommand("demo", "Headless demo: pre-train a tiny BERT on the toy language, fine-tune it on three "
                                   "tasks, and fill OUT/lab.db with IMP runs, baselines and a transfer");
    dm->add_option("--out", a->out, "Output folder")->capture_default_str();
    dm->add_option("--seed", a->seed, "Seed")->capture_default_str();
    dm->add_option("--threads", a->threads, "CPU threads (0: default)")->capture_default_str();
    dm->add_option("--pretrain-steps", a->pretrainSteps, "MLM steps")->capture_default_str();
    dm->add_option("--epochs", a->epochs, "Fine-tuning epochs per task")->capture_default_str();
    dm->add_option("--lab-epochs", a->labEpochs, "Fine-tuning epochs per round of the demo lab's runs")
        ->capture_default_str();
    dm->add_flag("!--no-lab", a->lab, "Skip the demo lab (IMP, baselines and transfer in OUT/lab.db)");
    dm->callback([a] { runDemo(*a); });
}

} // namespace tl::cli
