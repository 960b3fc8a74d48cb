// bench-compact: what removing attention heads (and FFN neurons) for real buys. For a
// BERT-base-shaped model (random weights; 12 layers, hidden 768, 12 heads, FFN 3072, vocabulary
// 30522) and 30, 50 and 70% of its 144 heads removed (chosen at random), side by side in one run:
//   - the masked dense model (the units' weights zeroed, every matrix full size),
//   - the compacted model with those heads taken out (prune.method heads), and
//   - the compacted model with those heads and the same fraction of its 36,864 FFN neurons
//     taken out (prune.method heads_and_neurons),
// their prediction throughput (eval, no grad), fine-tuning throughput (forward, backward and an
// AdamW step with a classifier), parameter count and model.safetensors size; each compacted
// model's logits are checked against its masked model's first. Prints a table, then one JSON line.
//
//   bench-compact [--batch 8] [--seq 128] [--iters 2] [--threads 0] [--fractions 0.3,0.5,0.7]
//                 [--methods heads,heads_and_neurons]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "analysis/structure.h"
#include "libtorch/io/checkpoint.h"
#include "libtorch/io/compact.h"
#include "libtorch/model/bert.h"
#include "libtorch/prune/pruner.h"
#include "libtorch/train/finetune.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Timing
{
    double predictPerSecond = 0, trainPerSecond = 0;
};

Timing timeModel(tl::BertNet &net, int batch, int seq, int iters)
{
    torch::manual_seed(1);
    const auto ids = torch::randint(5, 30000, {batch, seq}, torch::kLong);
    const auto types = torch::zeros({batch, seq}, torch::kLong);
    const auto mask = torch::ones({batch, seq}, torch::kLong);
    const auto labels = torch::randint(0, 2, {batch}, torch::kLong);
    Timing t;
    {
        torch::NoGradGuard g;
        net->eval();
        net->classify(ids, types, mask); // warm-up
        const auto t0 = Clock::now();
        for (int i = 0; i < iters; ++i)
            net->classify(ids, types, mask);
        t.predictPerSecond = double(batch) * iters / seconds(t0);
    }
    net->train();
    torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(2e-5));
    auto step = [&] {
        opt.zero_grad();
        tl::taskLoss(net->classify(ids, types, mask), labels, false).backward();
        opt.step();
    };
    step(); // warm-up
    const auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i)
        step();
    t.trainPerSecond = double(batch) * iters / seconds(t0);
    return t;
}

int64_t savedBytes(tl::BertNet &net, const fs::path &dir)
{
    tl::saveBert(net, dir.string());
    const int64_t bytes = static_cast<int64_t>(fs::file_size(dir / "model.safetensors"));
    fs::remove_all(dir);
    return bytes;
}

int64_t parameters(tl::BertNet &net)
{
    int64_t n = 0;
    for (const auto &p : net->parameters())
        n += p.numel();
    return n;
}

} // namespace

int main(int argc, char **argv)
{
    int batch = 8, seq = 128, iters = 2, threads = 0;
    std::vector<double> fractions = {0.3, 0.5, 0.7};
    std::vector<std::string> methods = {"heads", "heads_and_neurons"};
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--batch")
            batch = std::atoi(v.c_str());
        else if (k == "--seq")
            seq = std::atoi(v.c_str());
        else if (k == "--iters")
            iters = std::atoi(v.c_str());
        else if (k == "--threads")
            threads = std::atoi(v.c_str());
        else if (k == "--fractions") {
            fractions.clear();
            std::stringstream ss(v);
            for (std::string part; std::getline(ss, part, ',');)
                fractions.push_back(std::atof(part.c_str()));
        } else if (k == "--methods") {
            methods.clear();
            std::stringstream ss(v);
            for (std::string part; std::getline(ss, part, ',');) {
                if (part != "heads" && part != "heads_and_neurons") {
                    std::fprintf(stderr, "--methods: unknown method %s (heads, heads_and_neurons)\n", part.c_str());
                    return 2;
                }
                methods.push_back(part);
            }
        } else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (threads > 0)
        torch::set_num_threads(threads);
    tl::BertConfig c = tl::BertConfig::preset("base");
    c.vocabSize = 30522;
    torch::manual_seed(0);
    const fs::path tmp = fs::temp_directory_path() / ("bench-compact-" + std::to_string(::getpid()));
    std::printf("bench-compact: BERT-base shape, batch %d x %d tokens, %d timed iterations, %d threads\n", batch, seq,
                iters, torch::get_num_threads());
    std::printf("%-9s %-8s %10s %12s %12s %12s %9s\n", "removed", "model", "params", "file MB", "predict/s",
                "train ex/s", "max|dlogit|");
    // Every model of the run starts from the same random weights.
    const auto freshNet = [&c] {
        torch::manual_seed(7);
        return tl::BertNet(c, tl::BertHeads{true, true, false});
    };
    nlohmann::json rows = nlohmann::json::array();
    for (double f : fractions) {
        // The masked dense model runs as fast whatever its mask: timed once per fraction, beside
        // that fraction's compacted models.
        tl::BertNet net = freshNet();
        const int64_t denseBytes = savedBytes(net, tmp / "dense");
        const Timing d = timeModel(net, batch, seq, iters);
        std::printf("%5.0f%%    %-8s %10lld %12.1f %12.2f %12.2f %9s\n", 100.0 * f, "masked",
                    static_cast<long long>(parameters(net)), double(denseBytes) / 1e6, d.predictPerSecond,
                    d.trainPerSecond, "");
        std::fflush(stdout);
        for (const std::string &method : methods) {
            const bool neurons = method == "heads_and_neurons";
            tl::BertNet masked = freshNet(); // the same weights as net
            tl::MaskSet mask = tl::denseMask(tl::prunableParameters(masked));
            const tl::MaskStructure st = tl::maskStructure(mask, static_cast<int>(c.numAttentionHeads));
            const auto heads = tl::chooseUnits(st.headAlive, {}, std::llround(f * double(st.headsTotal())), 42);
            std::vector<tl::UnitId> ffn;
            if (neurons)
                ffn = tl::chooseUnits(st.neuronAlive, {}, std::llround(f * double(st.neuronsTotal())), 43);
            tl::pruneUnits(mask, static_cast<int>(c.numAttentionHeads), heads, ffn);
            tl::applyMask(tl::maskTensors(tl::prunableParameters(masked), mask));
            tl::CompactReport report;
            tl::BertNet compact = tl::compactModel(masked, mask, &report);
            double diff = 0;
            {
                torch::NoGradGuard g;
                masked->eval();
                compact->eval();
                const auto ids = torch::randint(5, 30000, {2, 32}, torch::kLong);
                const auto zeros = torch::zeros({2, 32}, torch::kLong), ones = torch::ones({2, 32}, torch::kLong);
                diff = (masked->classify(ids, zeros, ones) - compact->classify(ids, zeros, ones))
                           .abs()
                           .max()
                           .item<double>();
            }
            const int64_t compactBytes = savedBytes(compact, tmp / "compact");
            const Timing k = timeModel(compact, batch, seq, iters);
            const char *label = neurons ? "+neurons" : "heads";
            std::printf("%5.0f%%    %-8s %10lld %12.1f %12.2f %12.2f %9.1e\n", 100.0 * f, label,
                        static_cast<long long>(report.parametersAfter), double(compactBytes) / 1e6, k.predictPerSecond,
                        k.trainPerSecond, diff);
            std::printf("          %s speed-up: predict %.2fx, fine-tune %.2fx\n", method.c_str(),
                        k.predictPerSecond / d.predictPerSecond, k.trainPerSecond / d.trainPerSecond);
            std::fflush(stdout);
            rows.push_back({{"method", method},
                            {"heads_removed", report.headsRemoved},
                            {"heads_total", report.headsTotal},
                            {"neurons_removed", report.neuronsRemoved},
                            {"neurons_total", report.neuronsTotal},
                            {"parameters_masked", parameters(net)},
                            {"parameters_compact", report.parametersAfter},
                            {"bytes_masked", denseBytes},
                            {"bytes_compact", compactBytes},
                            {"predict_per_s_masked", d.predictPerSecond},
                            {"predict_per_s_compact", k.predictPerSecond},
                            {"train_examples_per_s_masked", d.trainPerSecond},
                            {"train_examples_per_s_compact", k.trainPerSecond},
                            {"max_abs_logit_diff", diff}});
        }
    }
    std::printf("%s\n", nlohmann::json{{"bench", "compact"},
                                       {"batch", batch},
                                       {"seq", seq},
                                       {"iters", iters},
                                       {"threads", torch::get_num_threads()},
                                       {"rows", rows}}
                            .dump()
                            .c_str());
    return 0;
}
