// tokenize, predict, fill-mask, evaluate: read-only commands over a model folder.

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <unistd.h>

#include "cli_common.h"
#include "libtorch/io/checkpoint.h"
#include "libtorch/prune/head_importance.h"
#include "libtorch/prune/pruner.h"
#include "libtorch/prune/sensitivity.h"
#include "analysis/analysis.h"
#include "libtorch/train/batching.h"
#include "libtorch/train/device.h"
#include "io/model_folder.h"
#include "store/experiment_store.h"
#include "train/metrics.h"
#include "util/csv.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace tl::cli {
namespace {

struct TokenizeArgs
{
    std::string vocab, task, data;
    int maxSeqLen = 128;
};

void runTokenize(const TokenizeArgs &a)
{
    const BertTokenizer tokenizer = loadTokenizer(a.vocab);
    if (isMlmTask(a.task))
        return runMlmTokenize(tokenizer, a.data, a.maxSeqLen);
    TaskSpec task = taskByName(a.task);
    const std::vector<Example> examples = readTaskFile(task, a.data);
    for (const Example &e : examples) {
        const Encoding enc = (task.pair || !e.textB.empty()) ? tokenizer.encodePair(e.textA, e.textB, a.maxSeqLen)
                                                             : tokenizer.encode(e.textA, a.maxSeqLen);
        printJsonLine({{"input_ids", enc.inputIds}, {"token_type_ids", enc.tokenTypeIds}});
    }
}

struct ModelArgs
{
    std::string model, task, data, dataDir, device = "cpu", text;
    int maxSeqLen = 128, batchSize = 64, threads = 0, topK = 5;
    bool hidden = false;
};

/// A fine-tuned classifier folder; its label count must match the task's.
BertNet loadClassifier(const std::string &dir, const TaskSpec &task, const BertConfig &config)
{
    if (config.numLabels() != task.numLabels())
        throw Error(dir + "/config.json: the model has " + std::to_string(config.numLabels()) + " output(s) but " +
                    task.name + " needs " + std::to_string(task.numLabels()) + "; fine-tune it on the task first");
    LoadReport report;
    BertNet net = loadBert(dir, BertHeads{true, true, false}, &report, &config);
    if (std::any_of(report.missingKeys.begin(), report.missingKeys.end(),
                    [](const std::string &k) { return k.rfind("classifier.", 0) == 0; }))
        std::fprintf(stderr, "warning: %s has no trained classifier head; outputs are from a random head\n",
                     dir.c_str());
    return net;
}

void runPredict(const ModelArgs &a)
{
    const torch::Device device = resolveDevice(a.device); // before the model and the data
    setThreads(a.threads);
    const BertConfig config = BertConfig::load((fs::path(a.model) / "config.json").string());
    TaskSpec task = taskForModel(a.task, config);
    warnIfLabelsDiffer(a.model, config, task);
    const BertTokenizer tokenizer = loadTokenizer(a.model);
    BertNet net = loadClassifier(a.model, task, config);
    const std::vector<Example> examples = readTaskFile(task, a.data);
    const std::vector<float> logits = predictLogits(net, tokenizer, task, examples, a.maxSeqLen, a.batchSize, device);
    const size_t width = static_cast<size_t>(task.numLabels());
    // --hidden: the encoder's last hidden state of every token too (one example at a time, so
    // no padding enters it), for parity checks against other implementations.
    const std::vector<EncodedExample> encoded =
        a.hidden ? encodeExamples(tokenizer, task, examples, a.maxSeqLen) : std::vector<EncodedExample>{};
    torch::NoGradGuard noGrad;
    for (size_t i = 0; i < examples.size(); ++i) {
        nlohmann::json line;
        if (task.regression)
            line = {{"score", logits[i]}};
        else
            line = {{"logits", std::vector<float>(logits.begin() + i * width, logits.begin() + (i + 1) * width)}};
        if (a.hidden) {
            Batch b =
                collate(encoded, {static_cast<int64_t>(i)}, 0, 1, tokenizer.vocab().padId(), task.regression, device);
            const torch::Tensor h =
                net->bert(b.inputIds, b.tokenTypeIds, b.attentionMask)[0].to(torch::kCPU).contiguous();
            nlohmann::json rows = nlohmann::json::array();
            for (int64_t t = 0; t < h.size(0); ++t)
                rows.push_back(std::vector<float>(h[t].data_ptr<float>(), h[t].data_ptr<float>() + h.size(1)));
            line["last_hidden_state"] = std::move(rows);
        }
        printJsonLine(line);
    }
}

void runEvaluate(const ModelArgs &a)
{
    const torch::Device device = resolveDevice(a.device); // before the model and the data
    setThreads(a.threads);
    if (isMlmTask(a.task))
        return runMlmEvaluate(a.model, a.dataDir, a.maxSeqLen, a.batchSize, a.device);
    const BertConfig config = BertConfig::load((fs::path(a.model) / "config.json").string());
    TaskSpec task = taskForModel(a.task, config);
    warnIfLabelsDiffer(a.model, config, task);
    const BertTokenizer tokenizer = loadTokenizer(a.model);
    BertNet net = loadClassifier(a.model, task, config);
    const std::string devPath = splitPath(task, a.dataDir, "dev");
    const std::vector<Example> dev = readLabelledExamples(task, devPath);
    const auto metrics = evaluateTask(net, tokenizer, task, dev, a.maxSeqLen, a.batchSize, device);
    printJsonLine({{"task", task.name}, {"split", devPath}, {"examples", dev.size()}, {"metrics", metrics}});
}

void runFillMask(const ModelArgs &a)
{
    setThreads(a.threads);
    const BertTokenizer tokenizer = loadTokenizer(a.model);
    LoadReport report;
    BertNet net = loadBert(a.model, BertHeads{false, false, true}, &report);
    if (std::any_of(report.missingKeys.begin(), report.missingKeys.end(),
                    [](const std::string &k) { return k.rfind("cls.", 0) == 0; }))
        std::fprintf(stderr, "warning: %s has no masked-LM head (cls.predictions); predictions are random\n",
                     a.model.c_str());
    const Encoding enc = tokenizer.encode(a.text, static_cast<int>(net->config.maxPositionEmbeddings));
    const int64_t n = static_cast<int64_t>(enc.inputIds.size());
    auto ids = torch::tensor(enc.inputIds, torch::kLong).view({1, n});
    auto positions = ids == tokenizer.vocab().maskId();
    if (positions.sum().item<int64_t>() == 0)
        throw Error("--text has no [MASK] token");
    torch::NoGradGuard noGrad;
    net->eval();
    auto probs = torch::softmax(net->mlmLogits(ids, torch::zeros_like(ids), torch::ones_like(ids), positions), -1);
    const int64_t k = std::min<int64_t>(a.topK, probs.size(1));
    auto [scores, indices] = probs.topk(k, -1);
    nlohmann::json masks = nlohmann::json::array();
    for (int64_t m = 0; m < probs.size(0); ++m) {
        nlohmann::json top = nlohmann::json::array();
        for (int64_t j = 0; j < k; ++j) {
            const int64_t id = indices[m][j].item<int64_t>();
            top.push_back(
                {{"token_id", id}, {"token", tokenizer.vocab().token(id)}, {"score", scores[m][j].item<double>()}});
        }
        masks.push_back(top);
    }
    printJsonLine({{"masks", masks}});
}

/// A fine-tuned classifier folder with its task and the first maxExamples (0: all) of one
/// split: what the commands that analyse a model (sensitivity, head-importance) start from.
struct FineTuned
{
    torch::Device device;
    BertConfig config;
    TaskSpec task;
    BertTokenizer tokenizer;
    BertNet net;
    std::vector<Example> examples;
};

FineTuned loadFineTuned(const ModelArgs &m, const std::string &split, int maxExamples)
{
    const torch::Device device = resolveDevice(m.device); // before the model and the data
    setThreads(m.threads);
    BertConfig config = BertConfig::load((fs::path(m.model) / "config.json").string());
    TaskSpec task = taskForModel(m.task, config);
    warnIfLabelsDiffer(m.model, config, task);
    BertTokenizer tokenizer = loadTokenizer(m.model);
    BertNet net = loadClassifier(m.model, task, config);
    std::vector<Example> examples = readLabelledExamples(task, splitPath(task, m.dataDir, split));
    if (maxExamples > 0 && examples.size() > size_t(maxExamples))
        examples.resize(size_t(maxExamples));
    return {device, std::move(config), std::move(task), std::move(tokenizer), std::move(net), std::move(examples)};
}

/// The store records of a model folder and of one split of a task's data, for analyses of a
/// model stored with --db.
std::pair<ModelRecord, DatasetRecord> modelAndSplitRecords(const ModelArgs &m, const BertConfig &config,
                                                           const TaskSpec &task, const std::string &split)
{
    ModelRecord model;
    model.path = fs::absolute(m.model).string();
    model.configJson = config.toJson().dump();
    model.contentHash = contentHash({(fs::path(m.model) / "config.json").string(), findWeightsFile(m.model)});
    DatasetRecord data;
    data.task = task.name;
    data.path = fs::absolute(m.dataDir).string();
    data.contentHash = contentHash({splitPath(task, m.dataDir, split)});
    return {model, data};
}

struct SensitivityArgs
{
    ModelArgs model;
    std::vector<double> sparsities{0.5, 0.7, 0.9};
    std::string metric = kMainMetric, format = "text";
    int maxExamples = 0;
    std::string db, name; ///< db: also store the scan there (the app's and export-figure's view)
};

void runSensitivity(const SensitivityArgs &a)
{
    FineTuned m = loadFineTuned(a.model, "dev", a.maxExamples);
    auto &[device, config, task, tokenizer, net, dev] = m;
    const SensitivityScan scan = sensitivityScan(net, tokenizer, task, dev, a.sparsities, a.metric, a.model.maxSeqLen,
                                                 a.model.batchSize, device, [](int done, int total) {
                                                     if (isatty(STDERR_FILENO)) // a counter for people, not for logs
                                                         std::fprintf(stderr, "\rsensitivity: %d/%d evaluations%s",
                                                                      done, total, done == total ? "\n" : "");
                                                 });
    int64_t storedId = 0;
    if (!a.db.empty()) {
        auto store = ExperimentStore::open(a.db);
        const auto [model, data] = modelAndSplitRecords(a.model, config, task, "dev");
        storedId = storeSensitivityScan(*store, scan, model, data, task.name, a.name);
        std::fprintf(stderr, "%s: stored as sensitivity scan %lld\n", a.db.c_str(), static_cast<long long>(storedId));
    }
    if (a.format == "json") {
        nlohmann::json cells = nlohmann::json::array();
        for (const SensitivityCell &c : scan.cells)
            cells.push_back({{"layer", c.layer},
                             {"type", matrixTypeName(c.type)},
                             {"sparsity", c.sparsity},
                             {"metric", c.metric},
                             {"drop", c.drop}});
        printJsonLine({{"task", task.name},
                       {"analysis", storedId ? nlohmann::json(storedId) : nlohmann::json(nullptr)},
                       {"examples", dev.size()},
                       {"metric", scan.metric},
                       {"baseline", scan.baseline},
                       {"sparsities", scan.sparsities},
                       {"cells", cells}});
        return;
    }
    if (a.format == "csv") {
        std::printf("%s", csvRow({"layer", "type", "sparsity", "metric", "drop"}).c_str());
        for (const SensitivityCell &c : scan.cells)
            std::printf("%s", csvRow({std::to_string(c.layer), matrixTypeName(c.type), std::to_string(c.sparsity),
                                      std::to_string(c.metric), std::to_string(c.drop)})
                                  .c_str());
        return;
    }
    // Text: one table per sparsity, layers x matrix types, the drop of the metric.
    std::printf("%s on %zu dev examples: %s %.4f unpruned; drop when one matrix alone is magnitude-pruned\n",
                task.name.c_str(), dev.size(), scan.metric.c_str(), scan.baseline);
    for (double s : scan.sparsities) {
        std::printf("\nat %.0f%%:\nlayer", 100.0 * s);
        for (MatrixType t : encoderMatrixTypes())
            std::printf("  %8s", matrixTypeName(t).c_str());
        int layer = -1;
        for (const SensitivityCell &c : scan.cells) {
            if (c.sparsity != s)
                continue;
            if (c.layer != layer) {
                layer = c.layer;
                std::printf("\n%5d", layer);
            }
            std::printf("  %+8.4f", c.drop);
        }
        std::printf("\n");
    }
}

} // namespace

struct HeadImportanceArgs
{
    ModelArgs model;
    std::string split = "dev", format = "text", maskDb, db, name;
    int maxExamples = 0;
    int64_t run = 0;
    int round = -1;
    bool neurons = false;
};

void runHeadImportance(const HeadImportanceArgs &a)
{
    FineTuned m = loadFineTuned(a.model, a.split, a.maxExamples);
    auto &[device, config, task, tokenizer, net, examples] = m;
    std::string subnetwork;
    if (!a.maskDb.empty()) {
        // Score the heads of a stored subnetwork: its mask applied to the model's weights.
        auto store = ExperimentStore::open(a.maskDb);
        const int round = a.round >= 0 ? a.round : storedMaskRounds(*store, a.run);
        const MaskSet mask = storedMask(*store, a.run, round);
        std::map<std::string, torch::Tensor> params;
        for (const auto &item : net->named_parameters())
            params[item.key()] = item.value();
        std::vector<std::pair<std::string, torch::Tensor>> weights;
        for (const MaskTensor &t : mask.tensors) {
            const auto it = params.find(t.name);
            if (it == params.end())
                throw Error(a.maskDb + ": run " + std::to_string(a.run) + " masks " + t.name + ", which " +
                            a.model.model + " does not have");
            weights.emplace_back(t.name, it->second);
        }
        applyMask(maskTensors(weights, mask));
        subnetwork = "run " + std::to_string(a.run) + " round " + std::to_string(round) + " (" +
                     std::to_string(100.0 * mask.sparsity()).substr(0, 4) + "% sparse)";
    }
    UnitImportance imp =
        unitImportance(net, tokenizer, task, examples, a.neurons, a.model.maxSeqLen, a.model.batchSize, device);
    imp.split = a.split;
    int64_t storedId = 0;
    if (!a.db.empty()) {
        auto store = ExperimentStore::open(a.db);
        const auto [model, data] = modelAndSplitRecords(a.model, config, task, a.split);
        storedId = storeModelImportance(*store, imp, model, data, task.name, a.name.empty() ? subnetwork : a.name);
        std::fprintf(stderr, "%s: stored as head importance %lld\n", a.db.c_str(), static_cast<long long>(storedId));
    }
    if (a.format == "json") {
        nlohmann::json j = imp.toJson();
        j["task"] = task.name;
        j["subnetwork"] = subnetwork;
        j["analysis"] = storedId ? nlohmann::json(storedId) : nlohmann::json(nullptr);
        printJsonLine(j);
        return;
    }
    if (a.format == "csv") {
        std::printf("%s", csvRow({"unit", "layer", "index", "importance"}).c_str());
        for (size_t l = 0; l < imp.heads.size(); ++l)
            for (size_t h = 0; h < imp.heads[l].size(); ++h)
                std::printf(
                    "%s",
                    csvRow({"head", std::to_string(l), std::to_string(h), std::to_string(imp.heads[l][h])}).c_str());
        for (size_t l = 0; l < imp.neurons.size(); ++l)
            for (size_t n = 0; n < imp.neurons[l].size(); ++n)
                std::printf("%s",
                            csvRow({"neuron", std::to_string(l), std::to_string(n), std::to_string(imp.neurons[l][n])})
                                .c_str());
        return;
    }
    std::printf("head importance (Michel et al. 2019: E|dL/dxi|, each layer normalised to L2 norm 1) of %s%s on %zu "
                "%s examples of %s\nlayer",
                a.model.model.c_str(), subnetwork.empty() ? "" : (", " + subnetwork).c_str(), examples.size(),
                a.split.c_str(), task.name.c_str());
    const size_t heads = imp.heads.empty() ? 0 : imp.heads[0].size();
    for (size_t h = 0; h < heads; ++h)
        std::printf(" %6zu", h);
    std::printf("\n");
    for (size_t l = 0; l < imp.heads.size(); ++l) {
        std::printf("%5zu", l);
        for (double v : imp.heads[l])
            std::printf(" %6.3f", v);
        std::printf("\n");
    }
    if (!imp.neurons.empty())
        std::printf("(neuron scores: --format csv or json)\n");
}

/// --model, --task, --data-dir and the evaluation settings of the commands that analyse a
/// fine-tuned model folder (sensitivity, head-importance).
void addFineTunedModelOptions(CLI::App *c, ModelArgs &m, const char *dataHelp)
{
    c->add_option("--model", m.model, "Fine-tuned Hugging Face model folder")
        ->required()
        ->check(CLI::ExistingDirectory);
    c->add_option("--task", m.task, "Task name (GLUE names, generic)")->required();
    c->add_option("--data-dir", m.dataDir, dataHelp)->required()->check(CLI::ExistingDirectory);
    c->add_option("--max-seq-len", m.maxSeqLen, "Truncate to this many tokens")->capture_default_str();
    c->add_option("--batch-size", m.batchSize, "Batch size")->capture_default_str();
    c->add_option("--device", m.device, "cpu, cuda or cuda:N")->capture_default_str();
    c->add_option("--threads", m.threads, "CPU threads (0: default)")->capture_default_str();
}

void addHeadImportanceCommand(CLI::App &analyze)
{
    auto a = std::make_shared<HeadImportanceArgs>();
    CLI::App *c = analyze.add_subcommand(
        "head-importance", "Importance of every attention head (and FFN neuron) of a fine-tuned model, as Michel et "
                           "al. 2019");
    addFineTunedModelOptions(c, a->model, "Task folder");
    c->add_option("--split", a->split, "Examples to score on")
        ->capture_default_str()
        ->check(CLI::IsMember({"dev", "train"}));
    c->add_option("--max-examples", a->maxExamples, "Score on the first N examples (0: all)")->capture_default_str();
    c->add_flag("--neurons", a->neurons, "Also score every FFN neuron");
    c->add_option("--mask-from-db", a->maskDb, "Score the subnetwork of a stored mask: its experiment database")
        ->check(CLI::ExistingFile);
    c->add_option("--run", a->run, "With --mask-from-db: the run");
    c->add_option("--round", a->round, "With --mask-from-db: the round (default: its last)");
    c->add_option("--db", a->db, "Also store the scores in this experiment database (the Head importance view)");
    c->add_option("--name", a->name, "A label for the stored scores");
    c->add_option("--format", a->format, "text, csv or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "csv", "json"}));
    c->callback([a] {
        if (!a->maskDb.empty() && a->run <= 0)
            throw CLI::ValidationError("--mask-from-db", "needs --run");
        runHeadImportance(*a);
    });
}

void addSensitivityCommand(CLI::App &analyze)
{
    auto a = std::make_shared<SensitivityArgs>();
    CLI::App *c = analyze.add_subcommand(
        "sensitivity", "Metric drop when one matrix type of one layer alone is magnitude-pruned, no retraining");
    addFineTunedModelOptions(c, a->model, "Task folder holding dev.tsv");
    c->add_option("--sparsity", a->sparsities, "Sparsities, comma-separated")
        ->delimiter(',')
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    c->add_option("--metric", a->metric, "Dev metric (main, accuracy, f1, ...)")->capture_default_str();
    c->add_option("--max-examples", a->maxExamples, "Evaluate on the first N dev examples (0: all)")
        ->capture_default_str();
    c->add_option("--format", a->format, "text, csv or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "csv", "json"}));
    c->add_option("--db", a->db,
                  "Also store the scan in this experiment database (created if absent), where the app's "
                  "Sensitivity view and export-figure --figure sensitivity show it");
    c->add_option("--name", a->name, "A label for the stored scan");
    c->callback([a] { runSensitivity(*a); });
}

void addTextCommands(CLI::App &app)
{
    auto tok = std::make_shared<TokenizeArgs>();
    CLI::App *t =
        app.add_subcommand("tokenize", "Tokenize a task file: one JSON line {input_ids, token_type_ids} per example");
    t->add_option("--vocab", tok->vocab, "vocab.txt, or a model folder holding one")->required();
    t->add_option("--task", tok->task, "Task name (CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE, WNLI, generic, mlm)")
        ->required();
    t->add_option("--data", tok->data, "A split file of the task (train.tsv, dev.tsv, test.tsv, .jsonl)")
        ->required()
        ->check(CLI::ExistingFile);
    t->add_option("--max-seq-len", tok->maxSeqLen, "Truncate to this many tokens")->capture_default_str();
    t->callback([tok] { runTokenize(*tok); });

    auto pred = std::make_shared<ModelArgs>();
    CLI::App *p = app.add_subcommand(
        "predict", "Run a fine-tuned model over a task file: one JSON line {logits} or {score} per example");
    p->add_option("--model", pred->model, "Hugging Face model folder")->required()->check(CLI::ExistingDirectory);
    p->add_option("--task", pred->task, "Task name")->required();
    p->add_option("--data", pred->data, "A split file of the task")->required()->check(CLI::ExistingFile);
    p->add_option("--max-seq-len", pred->maxSeqLen, "Truncate to this many tokens")->capture_default_str();
    p->add_option("--batch-size", pred->batchSize, "Batch size")->capture_default_str();
    p->add_flag("--hidden", pred->hidden, "Also print each example's last hidden state (every token)");
    p->add_option("--device", pred->device, "cpu, cuda or cuda:N")->capture_default_str();
    p->add_option("--threads", pred->threads, "CPU threads (0: default)")->capture_default_str();
    p->callback([pred] { runPredict(*pred); });

    auto ev = std::make_shared<ModelArgs>();
    CLI::App *e = app.add_subcommand("evaluate", "Dev-set metrics of a fine-tuned model, as JSON");
    e->add_option("--model", ev->model, "Hugging Face model folder")->required()->check(CLI::ExistingDirectory);
    e->add_option("--task", ev->task, "Task name (GLUE names, generic, mlm)")->required();
    e->add_option("--data-dir", ev->dataDir, "Task folder holding dev.tsv")->required()->check(CLI::ExistingDirectory);
    e->add_option("--max-seq-len", ev->maxSeqLen, "Truncate to this many tokens")->capture_default_str();
    e->add_option("--batch-size", ev->batchSize, "Batch size")->capture_default_str();
    e->add_option("--device", ev->device, "cpu, cuda or cuda:N")->capture_default_str();
    e->add_option("--threads", ev->threads, "CPU threads (0: default)")->capture_default_str();
    e->callback([ev] { runEvaluate(*ev); });

    auto fm = std::make_shared<ModelArgs>();
    CLI::App *f = app.add_subcommand("fill-mask", "Top-k predictions for each [MASK] of a text, as JSON");
    f->add_option("--model", fm->model, "Hugging Face model folder with a masked-LM head")
        ->required()
        ->check(CLI::ExistingDirectory);
    f->add_option("--text", fm->text, "Text with one or more [MASK] tokens")->required();
    f->add_option("--top-k", fm->topK, "Predictions per mask")->capture_default_str()->check(CLI::PositiveNumber);
    f->add_option("--threads", fm->threads, "CPU threads (0: default)")->capture_default_str();
    f->callback([fm] { runFillMask(*fm); });
}

} // namespace tl::cli
