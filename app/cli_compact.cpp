// export-compact: a stored round's mask with its fully pruned heads and FFN neurons physically
// removed from the run's model, as a smaller Hugging Face folder.

#include <algorithm>
#include <filesystem>

#include "cli_common.h"
#include "analysis/analysis.h"
#include "libtorch/io/checkpoint.h"
#include "libtorch/io/compact.h"
#include "store/experiment_store.h"
#include "util/error.h"
#include "util/fileio.h"

namespace fs = std::filesystem;

namespace tl::cli {

namespace {

struct CompactArgs
{
    std::string db, out, format = "text";
    int64_t run = 0;
    int round = -1;
};

void exportCompact(const CompactArgs &a)
{
    auto store = ExperimentStore::open(a.db);
    const RunRecord run = store->requireRun(a.run);
    const auto model = run.modelId ? store->model(run.modelId) : std::nullopt;
    if (!model)
        throw Error(a.db + ": run " + std::to_string(a.run) + " records no model folder to compact");
    const int round = a.round >= 0 ? a.round : storedMaskRounds(*store, a.run);
    const MaskSet mask = storedMask(*store, a.run, round);
    // The ticket as a new fine-tuning starts from it: the run's model (theta0, or what its
    // folder holds) under the round's mask, with the model folder's own heads: its classifier
    // when it has one (a fine-tuned folder), none otherwise (fine-tuning adds one).
    LoadReport report;
    BertNet net = loadBert(model->path, BertHeads{true, true, false}, &report);
    const auto lacks = [](const std::vector<std::string> &keys) {
        return std::find(keys.begin(), keys.end(), "classifier.weight") != keys.end();
    };
    const bool classifier = !lacks(report.missingKeys) && !lacks(report.reinitialised);
    if (!classifier)
        net = loadBert(model->path, BertHeads{true, false, false});
    CompactReport c;
    BertNet compact = compactModel(net, mask, &c);
    fs::create_directories(a.out);
    const fs::path vocab = fs::path(model->path) / "vocab.txt";
    saveBert(compact, a.out, fs::exists(vocab) ? vocab.string() : std::string());
    for (const char *extra : {"tokenizer_config.json", "special_tokens_map.json"})
        if (fs::exists(fs::path(model->path) / extra))
            writeFileAtomic((fs::path(a.out) / extra).string(), readFileText((fs::path(model->path) / extra).string()));
    const int64_t bytes = static_cast<int64_t>(fs::file_size(fs::path(a.out) / "model.safetensors"));
    if (a.format == "json") {
        printJsonLine({{"out", fs::absolute(a.out).string()},
                       {"run", a.run},
                       {"round", round},
                       {"sparsity", mask.sparsity()},
                       {"heads_removed", c.headsRemoved},
                       {"heads_total", c.headsTotal},
                       {"neurons_removed", c.neuronsRemoved},
                       {"neurons_total", c.neuronsTotal},
                       {"parameters_before", c.parametersBefore},
                       {"parameters_after", c.parametersAfter},
                       {"file_bytes", bytes},
                       {"classifier", classifier}});
        return;
    }
    std::printf("%s: run %lld round %d (%.1f%% of prunable weights pruned) from %s\n", a.out.c_str(),
                static_cast<long long>(a.run), round, 100.0 * mask.sparsity(), model->path.c_str());
    std::printf("heads removed %lld of %lld, FFN neurons removed %lld of %lld\n",
                static_cast<long long>(c.headsRemoved), static_cast<long long>(c.headsTotal),
                static_cast<long long>(c.neuronsRemoved), static_cast<long long>(c.neuronsTotal));
    std::printf("parameters %lld -> %lld (%.1f%%), model.safetensors %.1f MB\n",
                static_cast<long long>(c.parametersBefore), static_cast<long long>(c.parametersAfter),
                c.parametersBefore ? 100.0 * double(c.parametersAfter) / double(c.parametersBefore) : 0.0,
                double(bytes) / 1e6);
    std::printf("%s\n", classifier ? "task head: the model folder's classifier"
                                   : "no task head (the model folder has none): fine-tune the folder to add one");
    if (c.headsRemoved == 0 && c.neuronsRemoved == 0)
        std::printf("(the mask removes no whole head or neuron: the folder is the masked model, as large as "
                    "before; structured runs, prune.method heads, remove whole heads)\n");
}

} // namespace

void addCompactCommand(CLI::App &app)
{
    auto a = std::make_shared<CompactArgs>();
    CLI::App *c = app.add_subcommand(
        "export-compact", "Write a round's ticket as a smaller model: pruned heads and FFN neurons physically removed");
    c->add_option("--db", a->db, "Experiment database")->required()->check(CLI::ExistingFile);
    c->add_option("--run", a->run, "Run id")->required();
    c->add_option("--round", a->round, "Round (default: the run's last mask)");
    c->add_option("--out", a->out, "Output folder (config.json with pruned_heads, model.safetensors, vocab.txt)")
        ->required();
    c->add_option("--format", a->format, "text or json")->capture_default_str()->check(CLI::IsMember({"text", "json"}));
    c->callback([a] { exportCompact(*a); });
}

} // namespace tl::cli
