#pragma once

// The small BERT shape the model, checkpoint, pruning and training tests build from scratch.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "model/bert_config.h"
#include "text/tasks.h"
#include "text/vocab.h"

namespace tltest {

/// The "tiny" preset (2 layers, 2 heads; hidden 128, FFN 512) with a vocabulary of vocabSize and
/// maxPositions positions; hiddenSize > 0 narrows it further (FFN twice the hidden size).
inline tl::BertConfig smallConfig(int64_t vocabSize = 100, int64_t maxPositions = 32, int64_t hiddenSize = 0)
{
    tl::BertConfig c = tl::BertConfig::preset("tiny");
    c.vocabSize = vocabSize;
    c.maxPositionEmbeddings = maxPositions;
    if (hiddenSize > 0) {
        c.hiddenSize = hiddenSize;
        c.intermediateSize = 2 * hiddenSize;
    }
    return c;
}

/// Eight words, for models that need a vocabulary but no real text.
inline const std::vector<std::string> &testWords()
{
    static const std::vector<std::string> words = {"alpha", "beta",  "gamma", "delta",
                                                   "omega", "sigma", "kappa", "theta"};
    return words;
}

/// The special tokens, then testWords().
inline tl::Vocab wordVocab()
{
    std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    tokens.insert(tokens.end(), testWords().begin(), testWords().end());
    return tl::Vocab(tokens);
}

/// n single-sentence examples of six random words with a random score in [0, 5) (a
/// generic-regression task), the same for every call.
inline std::vector<tl::Example> wordRegressionExamples(int n)
{
    std::mt19937 rng(3);
    std::uniform_int_distribution<size_t> word(0, testWords().size() - 1);
    std::uniform_real_distribution<float> score(0, 5);
    std::vector<tl::Example> out;
    for (int i = 0; i < n; ++i) {
        tl::Example e;
        for (int w = 0; w < 6; ++w)
            e.textA += (w ? " " : "") + testWords()[word(rng)];
        e.hasLabel = true;
        e.label = score(rng);
        e.labelText = std::to_string(e.label);
        out.push_back(e);
    }
    return out;
}

} // namespace tltest
