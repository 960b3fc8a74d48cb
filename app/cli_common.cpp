#include "cli_common.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "engine/progress_protocol.h"
#include "libtorch/train/device.h"
#include "util/error.h"
#include "util/fileio.h"

namespace fs = std::filesystem;

namespace tl::cli {

TaskSpec taskForModel(const std::string &name, const BertConfig &config)
{
    TaskSpec task = taskByName(name);
    if (task.labels.empty() && !task.regression)
        task.labels = config.id2label;
    return task;
}

void warnIfLabelsDiffer(const std::string &modelDir, const BertConfig &config, const TaskSpec &task)
{
    const std::string why = labelMismatch(config.regression ? std::vector<std::string>{} : config.id2label, task);
    if (!why.empty())
        std::fprintf(stderr, "warning: %s: %s\n", (fs::path(modelDir) / "config.json").string().c_str(), why.c_str());
}

void printJsonLine(const nlohmann::json &j)
{
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

ProgressFn progressPrinter(bool json, const std::string &phase)
{
    return [json, phase](const TrainProgress &p) {
        if (json) {
            nlohmann::json j = {{"event", "progress"},
                                {"phase", phase},
                                {"epoch", p.epoch},
                                {"step", p.step},
                                {"total_steps", p.totalSteps},
                                {"loss", p.loss},
                                {"lr", p.lr},
                                {"tokens_per_s", p.tokensPerSecond},
                                {"eta_s", p.etaSeconds}};
            printJsonLine(j);
            std::cout.flush();
        } else {
            std::fprintf(stderr, "%s step %lld/%lld | epoch %d | loss %.4f | lr %.2e | %.0f tok/s | ETA %s\n",
                         phase.c_str(), static_cast<long long>(p.step), static_cast<long long>(p.totalSteps), p.epoch,
                         p.loss, p.lr, p.tokensPerSecond, formatDuration(p.etaSeconds).c_str());
        }
        return true;
    };
}

void TrainFlags::add(CLI::App *cmd, bool withEpochs)
{
    if (withEpochs)
        cmd->add_option("--epochs", options.epochs, "Training epochs")
            ->capture_default_str()
            ->check(CLI::PositiveNumber);
    cmd->add_option("--max-steps", options.maxSteps, "Stop after this many optimizer steps (-1: no cap)")
        ->capture_default_str();
    cmd->add_option("--lr", options.lr, "Peak learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--batch-size", options.batchSize, "Training batch size")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--max-seq-len", options.maxSeqLen, "Truncate inputs to this many tokens")
        ->capture_default_str()
        ->check(CLI::Range(8, 100000));
    cmd->add_option("--warmup", options.warmup, "Fraction of steps spent on linear warm-up")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--weight-decay", options.weightDecay, "AdamW decoupled weight decay (not on bias/LayerNorm)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--max-grad-norm", options.maxGradNorm, "Gradient clipping norm (0: none)")->capture_default_str();
    cmd->add_option("--seed", options.seed, "Random seed")->capture_default_str();
    cmd->add_option("--threads", threads, "CPU threads for LibTorch (0: LibTorch's default)")->capture_default_str();
    cmd->add_option("--device", options.device, "cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--progress", progress, "Progress lines on stderr (text) or JSON lines on stdout (json)")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json", "none"}));
    cmd->add_option("--log-every", options.logEvery, "Steps between progress lines")->capture_default_str();
}

} // namespace tl::cli
