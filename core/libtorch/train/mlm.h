#pragma once

// Masked-LM pre-training from plain text (BERT's recipe): text packed into fixed-length
// blocks [CLS] ... [SEP]; 15% of tokens chosen, of those 80% -> [MASK], 10% -> a random
// token, 10% unchanged; loss on the chosen tokens only.

#include <cstdint>
#include <string>
#include <vector>

#include "libtorch/model/bert.h"
#include "text/tokenizer.h"
#include "libtorch/train/finetune.h"

namespace tl {

/// The .txt files under path (recursively, sorted), or path itself when it is a file.
std::vector<std::string> corpusFiles(const std::string &path);

struct MlmCorpus
{
    std::vector<std::vector<int64_t>> train; ///< each block exactly blockLen ids
    std::vector<std::vector<int64_t>> eval;
    int64_t tokens = 0;
};

/// Tokenizes the files line by line and packs the ids into blocks of blockLen (including
/// [CLS] and [SEP]); every evalEvery-th block goes to the held-out set. maxTokens > 0 stops
/// reading early. Throws tl::Error when there is not enough text for one block.
MlmCorpus buildMlmCorpus(const BertTokenizer &tokenizer, const std::vector<std::string> &files, int blockLen,
                         int64_t maxTokens = -1, int evalEvery = 50);

/// A folder of text as an MLM task: train.txt + dev.txt when it has them, otherwise every
/// .txt file with every 50th block held out.
MlmCorpus readMlmFolder(const BertTokenizer &tokenizer, const std::string &dataDir, int blockLen);

struct MlmOptions
{
    TrainOptions train; ///< lr, batch size, warmup, seed, device, maxSteps / epochs
    double maskProb = 0.15;
};

struct MlmMetrics
{
    double loss = 0;
    double accuracy = 0;   ///< masked-token accuracy
    double perplexity = 0; ///< exp(loss)
    int64_t maskedTokens = 0;
};

/// A batch masked in place: ids changed, labels -100 where not chosen. Deterministic for gen.
void maskTokens(torch::Tensor &ids, torch::Tensor &labels, const Vocab &vocab, double prob, torch::Generator &gen);

/// Masked-LM metrics on blocks with a fixed masking (seeded), so runs compare.
MlmMetrics evaluateMlm(BertNet &net, const Vocab &vocab, const std::vector<std::vector<int64_t>> &blocks,
                       const MlmOptions &options, uint64_t maskSeed = 1234);

struct MlmResult
{
    MlmMetrics before;
    MlmMetrics after;
    std::vector<std::pair<int64_t, double>> lossCurve; ///< (step, mean loss of the window)
    int64_t steps = 0;
    bool cancelled = false;
    double seconds = 0;
};

/// Trains net (which needs the MLM head) on corpus.train; evaluates on corpus.eval before
/// and after.
MlmResult trainMlm(BertNet &net, const Vocab &vocab, const MlmCorpus &corpus, const MlmOptions &options,
                   const ProgressFn &progress = {}, const std::function<void(Stepper &)> &stepperSetup = {});

} // namespace tl
