#pragma once

// The small BERT shape the model, checkpoint, pruning and training tests build from scratch.

#include <cstdint>

#include "model/bert_config.h"

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

} // namespace tltest
