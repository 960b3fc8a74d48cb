#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tl {

/// Hugging Face BertConfig (config.json). Unknown keys are kept and written back, so a
/// checkpoint's config survives a load/save round trip.
struct BertConfig
{
    int64_t vocabSize = 30522;
    int64_t hiddenSize = 768;
    int64_t numHiddenLayers = 12;
    int64_t numAttentionHeads = 12;
    int64_t intermediateSize = 3072;
    std::string hiddenAct = "gelu"; ///< gelu, gelu_new, relu
    int64_t maxPositionEmbeddings = 512;
    int64_t typeVocabSize = 2;
    double layerNormEps = 1e-12;
    double hiddenDropoutProb = 0.1;
    double attentionProbsDropoutProb = 0.1;
    double initializerRange = 0.02;
    int64_t padTokenId = 0;
    /// Task head: label names in class order (id2label); regression means one output.
    std::vector<std::string> id2label = {"LABEL_0", "LABEL_1"};
    bool regression = false;
    /// Hugging Face's pruned_heads: per layer, the (original) indices of the attention heads
    /// removed from a compacted model; its Q/K/V rows and attention-output columns hold only
    /// the others, in order. Empty: every layer has numAttentionHeads heads.
    std::map<int64_t, std::vector<int64_t>> prunedHeads;
    /// TicketLab's extension intermediate_sizes: per layer, the FFN width of a compacted model
    /// whose neurons were removed. Empty: intermediateSize in every layer.
    std::vector<int64_t> intermediateSizes;
    nlohmann::json extra = nlohmann::json::object();

    int64_t headsIn(int64_t layer) const;                ///< heads left in a layer
    std::vector<int64_t> keptHeads(int64_t layer) const; ///< their original indices, ascending
    int64_t intermediateSizeOf(int64_t layer) const;
    bool compacted() const { return !prunedHeads.empty() || !intermediateSizes.empty(); }

    int64_t numLabels() const { return regression ? 1 : static_cast<int64_t>(id2label.size()); }
    int64_t headDim() const { return hiddenSize / numAttentionHeads; }
    void setNumLabels(int64_t n); ///< LABEL_0..LABEL_{n-1}, or regression when n == 1

    /// Throws tl::Error "SOURCE: key 'name': reason" for wrong types and impossible values
    /// (hidden size not divisible by heads, unknown activation, non-absolute position
    /// embeddings, ...).
    static BertConfig fromJson(const nlohmann::json &json, const std::string &source);
    static BertConfig load(const std::string &path);
    nlohmann::json toJson() const;
    void save(const std::string &path) const;
    void validate(const std::string &source) const;

    /// Named sizes: tiny (2 layers/128/2 heads/512), mini (4/256/4/1024),
    /// small (4/512/8/2048), medium (8/512/8/2048), base (12/768/12/3072), large (24/1024/16/4096).
    static BertConfig preset(const std::string &name);
    static std::vector<std::string> presetNames();
};

} // namespace tl
