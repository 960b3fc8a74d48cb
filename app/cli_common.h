#pragma once

// Shared pieces of ticketlab-cli's commands: model folders, tasks, output.

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "engine/run_spec.h"
#include "engine/runner.h"
#include "io/model_folder.h"
#include "model/bert_config.h"
#include "text/tasks.h"
#include "text/tokenizer.h"
#include "libtorch/train/finetune.h"
#include "libtorch/train/mlm.h"

namespace tl::cli {

/// A task whose labels come from the model's config (generic tasks).
TaskSpec taskForModel(const std::string &name, const BertConfig &config);

/// A warning on stderr when the model folder's config.json names labels other than the task's
/// (see labelMismatch): a model fine-tuned on RTE evaluated on MRPC, say.
void warnIfLabelsDiffer(const std::string &modelDir, const BertConfig &config, const TaskSpec &task);

/// One compact JSON object per line on stdout.
void printJsonLine(const nlohmann::json &j);

/// "step 10/200 | epoch 1 | loss 0.6931 | lr 2.0e-05 | 1234 tok/s | ETA 1m02s" (stderr), or a
/// JSON line with the same fields when json is true.
ProgressFn progressPrinter(bool json, const std::string &phase);

/// Options shared by the training commands.
struct TrainFlags
{
    TrainOptions options;
    int threads = 0;
    std::string progress = "text";
    void add(CLI::App *cmd, bool withEpochs = true);
};

// The "mlm" task: masked-LM on a folder of text (train.txt + dev.txt, or any .txt files).
bool isMlmTask(const std::string &name);
nlohmann::json toJson(const MlmMetrics &m);
void runMlmFinetune(const std::string &model, const std::string &dataDir, const std::string &out,
                    const TrainFlags &flags);
void runMlmEvaluate(const std::string &model, const std::string &dataDir, int maxSeqLen, int batchSize,
                    const std::string &device);
void runMlmTokenize(const BertTokenizer &tokenizer, const std::string &file, int maxSeqLen);

// Registration of each command group; each adds its subcommands to app.
void addTextCommands(CLI::App &app);
void addTrainCommands(CLI::App &app);
void addDemoCommands(CLI::App &app);
void addRunCommands(CLI::App &app);
void addAnalyzeCommands(CLI::App &app);
/// `analyze sensitivity` (cli_text.cpp: it evaluates a model folder), under the analyze command.
void addSensitivityCommand(CLI::App &analyze);
/// `analyze head-importance` (cli_text.cpp), likewise.
void addHeadImportanceCommand(CLI::App &analyze);
void addStudyCommands(CLI::App &app);
void addMergeCommand(CLI::App &app);
/// `export-compact` (cli_compact.cpp).
void addCompactCommand(CLI::App &app);

/// Runs (or resumes) a run spec against db, printing progress as text (stderr) or JSON lines
/// (stdout) and the run ids (one line), or a "done" JSON line; report, when given, prints
/// instead of the id line (it is called before an interruption is reported). Ctrl-C / SIGTERM
/// stop it cleanly (then it throws "interrupted").
void executeAndReport(const RunSpec &spec, const std::string &db, const std::string &progress,
                      const std::function<void(const RunOutcome &)> &report = {});

} // namespace tl::cli
