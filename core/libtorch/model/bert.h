#pragma once

// LibTorch BERT whose parameter names are Hugging Face's state-dict keys
// ("bert.encoder.layer.0.attention.self.query.weight", "classifier.bias",
// "cls.predictions.transform.dense.weight", ...), so checkpoints, masks and
// pruning all speak one language. Only core/ and app/ include this header.

#include <torch/torch.h>

#include "model/bert_config.h"

namespace tl {

struct BertEmbeddingsImpl : torch::nn::Module
{
    explicit BertEmbeddingsImpl(const BertConfig &c);
    torch::Tensor forward(const torch::Tensor &inputIds, const torch::Tensor &tokenTypeIds);

    torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
    torch::nn::LayerNorm LayerNorm{nullptr};
    torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertEmbeddings);

/// Layer `layer` of c: its head count and FFN width follow c's pruned_heads and
/// intermediate_sizes (a compacted model), else num_attention_heads and intermediate_size.
struct BertSelfAttentionImpl : torch::nn::Module
{
    BertSelfAttentionImpl(const BertConfig &c, int64_t layer);
    /// additiveMask: [batch, 1, 1, seq], 0 for tokens and a large negative for padding.
    torch::Tensor forward(const torch::Tensor &hidden, const torch::Tensor &additiveMask);

    int64_t heads, headDim;
    /// [heads], when defined: each head's output is multiplied by its gate (Michel et al.'s
    /// xi; head importance is |dL/dgate|). Not a parameter: never saved, never trained.
    torch::Tensor headGate;
    torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
    torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertSelfAttention);

/// dense -> dropout -> LayerNorm(x + residual): BertSelfOutput and BertOutput alike.
struct BertResidualOutputImpl : torch::nn::Module
{
    BertResidualOutputImpl(int64_t in, const BertConfig &c);
    torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &residual);

    torch::nn::Linear dense{nullptr};
    torch::nn::LayerNorm LayerNorm{nullptr};
    torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertResidualOutput);

struct BertAttentionImpl : torch::nn::Module
{
    BertAttentionImpl(const BertConfig &c, int64_t layer);
    torch::Tensor forward(const torch::Tensor &hidden, const torch::Tensor &additiveMask);

    BertSelfAttention self{nullptr};
    BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertAttention);

struct BertIntermediateImpl : torch::nn::Module
{
    BertIntermediateImpl(const BertConfig &c, int64_t layer);
    torch::Tensor forward(const torch::Tensor &x);

    std::string act;
    /// [neurons], when defined: multiplies each FFN neuron's activation (neuron importance).
    torch::Tensor neuronGate;
    torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertIntermediate);

struct BertLayerImpl : torch::nn::Module
{
    BertLayerImpl(const BertConfig &c, int64_t layer);
    torch::Tensor forward(const torch::Tensor &hidden, const torch::Tensor &additiveMask);

    BertAttention attention{nullptr};
    BertIntermediate intermediate{nullptr};
    BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertLayer);

struct BertEncoderImpl : torch::nn::Module
{
    explicit BertEncoderImpl(const BertConfig &c);
    torch::Tensor forward(torch::Tensor hidden, const torch::Tensor &additiveMask);

    torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(BertEncoder);

struct BertPoolerImpl : torch::nn::Module
{
    explicit BertPoolerImpl(const BertConfig &c);
    torch::Tensor forward(const torch::Tensor &sequence);

    torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertPooler);

/// "bert": embeddings, encoder and (optionally) pooler.
struct BertModelImpl : torch::nn::Module
{
    BertModelImpl(const BertConfig &c, bool withPooler);
    /// Returns the sequence output [batch, seq, hidden].
    torch::Tensor forward(const torch::Tensor &inputIds, const torch::Tensor &tokenTypeIds,
                          const torch::Tensor &attentionMask);

    BertEmbeddings embeddings{nullptr};
    BertEncoder encoder{nullptr};
    BertPooler pooler{nullptr};
};
TORCH_MODULE(BertModel);

/// "cls.predictions.transform": dense, activation, LayerNorm.
struct BertPredictionHeadTransformImpl : torch::nn::Module
{
    explicit BertPredictionHeadTransformImpl(const BertConfig &c);
    torch::Tensor forward(const torch::Tensor &hidden);

    std::string act;
    torch::nn::Linear dense{nullptr};
    torch::nn::LayerNorm LayerNorm{nullptr};
};
TORCH_MODULE(BertPredictionHeadTransform);

/// "cls.predictions": transform and a decoder tied to the word embeddings, with its own
/// bias ("cls.predictions.bias"; HF's cls.predictions.decoder.* are aliases of these).
struct BertLMPredictionHeadImpl : torch::nn::Module
{
    explicit BertLMPredictionHeadImpl(const BertConfig &c);
    torch::Tensor forward(const torch::Tensor &hidden, const torch::Tensor &wordEmbeddings);

    BertPredictionHeadTransform transform{nullptr};
    torch::Tensor bias;
};
TORCH_MODULE(BertLMPredictionHead);

struct BertOnlyMLMHeadImpl : torch::nn::Module
{
    explicit BertOnlyMLMHeadImpl(const BertConfig &c);
    BertLMPredictionHead predictions{nullptr};
};
TORCH_MODULE(BertOnlyMLMHead);

/// Which heads a model carries. HF's BertForSequenceClassification has pooler + classifier,
/// BertForMaskedLM has no pooler and the cls.predictions head.
struct BertHeads
{
    bool pooler = true;
    bool classifier = true;
    bool mlm = false;
};

/// BERT with HF names and the heads asked for.
struct BertNetImpl : torch::nn::Module
{
    BertNetImpl(const BertConfig &c, BertHeads heads);

    /// Classification logits [batch, numLabels] (or [batch, 1] for regression).
    torch::Tensor classify(const torch::Tensor &inputIds, const torch::Tensor &tokenTypeIds,
                           const torch::Tensor &attentionMask);
    /// MLM logits [n, vocab] for the positions where mlmPositions is true ([batch, seq] bool);
    /// computing the decoder only there is what makes MLM training affordable.
    torch::Tensor mlmLogits(const torch::Tensor &inputIds, const torch::Tensor &tokenTypeIds,
                            const torch::Tensor &attentionMask, const torch::Tensor &mlmPositions);

    /// HF's _init_weights: normal(0, initializer_range) for Linear and Embedding weights,
    /// zero biases and padding row, LayerNorm weight 1 and bias 0. Applied to all modules.
    void initWeights();

    BertConfig config;
    BertHeads heads;
    BertModel bert{nullptr};
    torch::nn::Dropout dropout{nullptr};
    torch::nn::Linear classifier{nullptr};
    BertOnlyMLMHead cls{nullptr};
};
TORCH_MODULE(BertNet);

/// gelu (erf), gelu_new / gelu_pytorch_tanh (tanh approximation) or relu.
torch::Tensor applyActivation(const std::string &name, const torch::Tensor &x);

} // namespace tl
