#pragma once

// Hugging Face model folders: config.json + model.safetensors (or pytorch_model.bin) +
// vocab.txt, read and written with HF's key names. Only core/ and app/ include this.

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "io/model_folder.h"
#include "libtorch/model/bert.h"

namespace tl {

/// What loading matched, as HF's from_pretrained reports it.
struct LoadReport
{
    std::string weightsFile;
    std::vector<std::string> missingKeys;   ///< model parameters the file lacks (initialised as HF does)
    std::vector<std::string> unusedKeys;    ///< file tensors the model has no place for
    std::vector<std::string> reinitialised; ///< task-head tensors whose shape differed (new label count)
    std::vector<std::string> legacyRenamed; ///< LayerNorm.gamma/beta keys read as weight/bias
};

/// A checkpoint's tensors under canonical names: "bert." prefix added where missing,
/// LayerNorm gamma/beta renamed weight/bias, the position_ids buffer dropped, and the
/// decoder aliases of the tied MLM head folded into cls.predictions.bias. float32, CPU.
std::map<std::string, torch::Tensor> readStateDict(const std::string &weightsFile, LoadReport *report = nullptr);

// findWeightsFile(dir): io/model_folder.h (torch-free).

/// Loads an HF BERT folder into a model with the given heads. `config` overrides the
/// folder's config.json when given (a task's label count, say). Shape mismatches outside
/// the task head throw tl::Error naming the key.
BertNet loadBert(const std::string &dir, BertHeads heads, LoadReport *report = nullptr,
                 const BertConfig *config = nullptr);

/// Throws tl::Error naming the config key(s), the tensor and both shapes (or both layer counts)
/// when cfg does not describe the checkpoint's tensors; loadBert calls it before allocating.
void checkConfigAgainstCheckpoint(const BertConfig &cfg, const std::map<std::string, torch::Tensor> &state,
                                  const std::string &configSource, const std::string &weightsFile);

/// Copies tensors by name into the model; the same rules as loadBert.
void loadStateDict(BertNet &net, const std::map<std::string, torch::Tensor> &state, LoadReport *report);

/// Writes named tensors as float32 safetensors (on the CPU), atomically: temporary file,
/// fsync, rename. The one writer behind saveBert and the engine's resume checkpoints.
void saveTensors(const std::string &path, const std::vector<std::pair<std::string, torch::Tensor>> &tensors,
                 const std::map<std::string, std::string> &metadata = {});

/// Writes config.json, model.safetensors (float32, HF metadata) and, when vocabFile is
/// given, a copy of it as vocab.txt. Creates dir; each file is written atomically.
void saveBert(BertNet &net, const std::string &dir, const std::string &vocabFile = {});

/// A "LoadReport" as a few human lines (for the CLI's stderr).
std::string describe(const LoadReport &report);

} // namespace tl
