#include "libtorch/model/bert.h"

#include <cmath>

namespace tl {
namespace {

torch::nn::Linear linear(int64_t in, int64_t out)
{
    if (in > 0)
        return torch::nn::Linear(torch::nn::LinearOptions(in, out));
    // No inputs (a compacted layer whose every head was removed): LibTorch's initialisation
    // divides by the fan-in of 0. Built with one input, then given its real, empty weight; the
    // bias alone is the layer's output.
    auto l = torch::nn::Linear(torch::nn::LinearOptions(1, out));
    torch::NoGradGuard noGrad;
    l->weight.set_data(torch::empty({out, 0}));
    l->bias.set_data(torch::zeros({out}));
    l->options.in_features(0);
    return l;
}

torch::nn::LayerNorm layerNorm(const BertConfig &c)
{
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hiddenSize}).eps(c.layerNormEps));
}

} // namespace

torch::Tensor applyActivation(const std::string &name, const torch::Tensor &x)
{
    if (name == "gelu")
        return torch::gelu(x);
    if (name == "gelu_new" || name == "gelu_pytorch_tanh")
        return torch::gelu(x, "tanh");
    return torch::relu(x);
}

BertEmbeddingsImpl::BertEmbeddingsImpl(const BertConfig &c)
{
    word_embeddings = register_module(
        "word_embeddings",
        torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocabSize, c.hiddenSize).padding_idx(c.padTokenId)));
    position_embeddings =
        register_module("position_embeddings", torch::nn::Embedding(c.maxPositionEmbeddings, c.hiddenSize));
    token_type_embeddings =
        register_module("token_type_embeddings", torch::nn::Embedding(c.typeVocabSize, c.hiddenSize));
    LayerNorm = register_module("LayerNorm", layerNorm(c));
    dropout = register_module("dropout", torch::nn::Dropout(c.hiddenDropoutProb));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor &inputIds, const torch::Tensor &tokenTypeIds)
{
    const int64_t seq = inputIds.size(1);
    TORCH_CHECK(seq <= position_embeddings->weight.size(0), "sequence of ", seq,
                " tokens is longer than max_position_embeddings ", position_embeddings->weight.size(0));
    auto positions = torch::arange(seq, inputIds.options()).unsqueeze(0);
    auto x = word_embeddings(inputIds) + position_embeddings(positions) + token_type_embeddings(tokenTypeIds);
    return dropout(LayerNorm(x));
}

BertSelfAttentionImpl::BertSelfAttentionImpl(const BertConfig &c, int64_t layer)
    : heads(c.headsIn(layer)), headDim(c.headDim())
{
    query = register_module("query", linear(c.hiddenSize, heads * headDim));
    key = register_module("key", linear(c.hiddenSize, heads * headDim));
    value = register_module("value", linear(c.hiddenSize, heads * headDim));
    dropout = register_module("dropout", torch::nn::Dropout(c.attentionProbsDropoutProb));
}

torch::Tensor BertSelfAttentionImpl::forward(const torch::Tensor &hidden, const torch::Tensor &additiveMask)
{
    const int64_t b = hidden.size(0), s = hidden.size(1);
    auto split = [&](const torch::Tensor &t) { return t.view({b, s, heads, headDim}).transpose(1, 2); };
    auto q = split(query(hidden));
    auto k = split(key(hidden));
    auto v = split(value(hidden));
    auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(headDim));
    auto probs = dropout(torch::softmax(scores + additiveMask, -1));
    auto context = torch::matmul(probs, v); // [b, heads, s, headDim]
    if (headGate.defined())
        context = context * headGate.view({1, heads, 1, 1});
    return context.transpose(1, 2).contiguous().view({b, s, heads * headDim});
}

BertResidualOutputImpl::BertResidualOutputImpl(int64_t in, const BertConfig &c)
{
    dense = register_module("dense", linear(in, c.hiddenSize));
    LayerNorm = register_module("LayerNorm", layerNorm(c));
    dropout = register_module("dropout", torch::nn::Dropout(c.hiddenDropoutProb));
}

torch::Tensor BertResidualOutputImpl::forward(const torch::Tensor &x, const torch::Tensor &residual)
{
    return LayerNorm(dropout(dense(x)) + residual);
}

BertAttentionImpl::BertAttentionImpl(const BertConfig &c, int64_t layer)
{
    self = register_module("self", BertSelfAttention(c, layer));
    output = register_module("output", BertResidualOutput(self->heads * self->headDim, c));
}

torch::Tensor BertAttentionImpl::forward(const torch::Tensor &hidden, const torch::Tensor &additiveMask)
{
    return output(self(hidden, additiveMask), hidden);
}

BertIntermediateImpl::BertIntermediateImpl(const BertConfig &c, int64_t layer) : act(c.hiddenAct)
{
    dense = register_module("dense", linear(c.hiddenSize, c.intermediateSizeOf(layer)));
}

torch::Tensor BertIntermediateImpl::forward(const torch::Tensor &x)
{
    auto y = applyActivation(act, dense(x));
    return neuronGate.defined() ? y * neuronGate : y;
}

BertLayerImpl::BertLayerImpl(const BertConfig &c, int64_t layer)
{
    attention = register_module("attention", BertAttention(c, layer));
    intermediate = register_module("intermediate", BertIntermediate(c, layer));
    output = register_module("output", BertResidualOutput(c.intermediateSizeOf(layer), c));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor &hidden, const torch::Tensor &additiveMask)
{
    auto attended = attention(hidden, additiveMask);
    return output(intermediate(attended), attended);
}

BertEncoderImpl::BertEncoderImpl(const BertConfig &c)
{
    layer = register_module("layer", torch::nn::ModuleList());
    for (int64_t i = 0; i < c.numHiddenLayers; ++i)
        layer->push_back(BertLayer(c, i));
}

torch::Tensor BertEncoderImpl::forward(torch::Tensor hidden, const torch::Tensor &additiveMask)
{
    for (const auto &module : *layer)
        hidden = module->as<BertLayerImpl>()->forward(hidden, additiveMask);
    return hidden;
}

BertPoolerImpl::BertPoolerImpl(const BertConfig &c)
{
    dense = register_module("dense", linear(c.hiddenSize, c.hiddenSize));
}

torch::Tensor BertPoolerImpl::forward(const torch::Tensor &sequence)
{
    return torch::tanh(dense(sequence.select(1, 0)));
}

BertModelImpl::BertModelImpl(const BertConfig &c, bool withPooler)
{
    embeddings = register_module("embeddings", BertEmbeddings(c));
    encoder = register_module("encoder", BertEncoder(c));
    if (withPooler)
        pooler = register_module("pooler", BertPooler(c));
}

torch::Tensor BertModelImpl::forward(const torch::Tensor &inputIds, const torch::Tensor &tokenTypeIds,
                                     const torch::Tensor &attentionMask)
{
    // HF: (1 - mask) * finfo(dtype).min, broadcast over heads and query positions.
    auto additive =
        (1.0 - attentionMask.to(torch::kFloat).unsqueeze(1).unsqueeze(2)) * std::numeric_limits<float>::lowest();
    return encoder(embeddings(inputIds, tokenTypeIds), additive);
}

BertPredictionHeadTransformImpl::BertPredictionHeadTransformImpl(const BertConfig &c) : act(c.hiddenAct)
{
    dense = register_module("dense", linear(c.hiddenSize, c.hiddenSize));
    LayerNorm = register_module("LayerNorm", layerNorm(c));
}

torch::Tensor BertPredictionHeadTransformImpl::forward(const torch::Tensor &hidden)
{
    return LayerNorm(applyActivation(act, dense(hidden)));
}

BertLMPredictionHeadImpl::BertLMPredictionHeadImpl(const BertConfig &c)
{
    transform = register_module("transform", BertPredictionHeadTransform(c));
    bias = register_parameter("bias", torch::zeros({c.vocabSize}));
}

torch::Tensor BertLMPredictionHeadImpl::forward(const torch::Tensor &hidden, const torch::Tensor &wordEmbeddings)
{
    return torch::nn::functional::linear(transform(hidden), wordEmbeddings, bias);
}

BertOnlyMLMHeadImpl::BertOnlyMLMHeadImpl(const BertConfig &c)
{
    predictions = register_module("predictions", BertLMPredictionHead(c));
}

BertNetImpl::BertNetImpl(const BertConfig &c, BertHeads h) : config(c), heads(h)
{
    c.validate("model config");
    if (heads.classifier)
        heads.pooler = true;
    bert = register_module("bert", BertModel(c, heads.pooler));
    if (heads.classifier) {
        dropout = register_module("dropout", torch::nn::Dropout(c.hiddenDropoutProb));
        classifier = register_module("classifier", linear(c.hiddenSize, c.numLabels()));
    }
    if (heads.mlm)
        cls = register_module("cls", BertOnlyMLMHead(c));
    initWeights();
}

torch::Tensor BertNetImpl::classify(const torch::Tensor &inputIds, const torch::Tensor &tokenTypeIds,
                                    const torch::Tensor &attentionMask)
{
    TORCH_CHECK(heads.classifier, "this model has no classification head");
    auto sequence = bert(inputIds, tokenTypeIds, attentionMask);
    return classifier(dropout(bert->pooler(sequence)));
}

torch::Tensor BertNetImpl::mlmLogits(const torch::Tensor &inputIds, const torch::Tensor &tokenTypeIds,
                                     const torch::Tensor &attentionMask, const torch::Tensor &mlmPositions)
{
    TORCH_CHECK(heads.mlm, "this model has no masked-LM head");
    auto sequence = bert(inputIds, tokenTypeIds, attentionMask);
    auto picked = sequence.index({mlmPositions});
    return cls->predictions(picked, bert->embeddings->word_embeddings->weight);
}

void BertNetImpl::initWeights()
{
    torch::NoGradGuard noGrad;
    const double std = config.initializerRange;
    for (auto &module : modules(/*include_self=*/false)) {
        if (auto *l = module->as<torch::nn::LinearImpl>()) {
            l->weight.normal_(0.0, std);
            if (l->bias.defined())
                l->bias.zero_();
        } else if (auto *e = module->as<torch::nn::EmbeddingImpl>()) {
            e->weight.normal_(0.0, std);
            if (e->options.padding_idx())
                e->weight[*e->options.padding_idx()].zero_();
        } else if (auto *n = module->as<torch::nn::LayerNormImpl>()) {
            n->weight.fill_(1.0);
            n->bias.zero_();
        }
    }
    if (heads.mlm)
        cls->predictions->bias.zero_();
}

} // namespace tl
