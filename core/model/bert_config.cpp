#include "model/bert_config.h"

#include <algorithm>
#include <map>

#include "util/error.h"
#include "util/fileio.h"
#include "util/json_fields.h"

namespace tl {
namespace {

using nlohmann::json;

class Reader
{
public:
    Reader(const json &j, const std::string &source) : m_json(j), m_source(source) {}

    [[noreturn]] void fail(const std::string &key, const std::string &why) const
    {
        throw Error(m_source + ": key '" + key + "': " + why);
    }

    void integer(const char *key, int64_t &out, int64_t minimum) const
    {
        auto it = m_json.find(key);
        if (it == m_json.end() || it->is_null())
            return;
        if (!it->is_number_integer())
            fail(key, "expected an integer, got " + it->dump());
        out = it->get<int64_t>();
        if (out < minimum)
            fail(key, "must be at least " + std::to_string(minimum) + ", got " + std::to_string(out));
    }

    void number(const char *key, double &out, double lo, double hi) const
    {
        auto it = m_json.find(key);
        if (it == m_json.end() || it->is_null())
            return;
        if (!it->is_number())
            fail(key, "expected a number, got " + it->dump());
        out = it->get<double>();
        if (out < lo || out > hi)
            fail(key, "must lie in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + it->dump());
    }

    void string(const char *key, std::string &out) const
    {
        auto it = m_json.find(key);
        if (it == m_json.end() || it->is_null())
            return;
        if (!it->is_string())
            fail(key, "expected a string, got " + it->dump());
        out = it->get<std::string>();
    }

private:
    const json &m_json;
    const std::string &m_source;
};

// Keys this struct owns; every other key of config.json travels in `extra`.
const char *const kOwnedKeys[] = {"vocab_size",
                                  "hidden_size",
                                  "num_hidden_layers",
                                  "num_attention_heads",
                                  "intermediate_size",
                                  "hidden_act",
                                  "max_position_embeddings",
                                  "type_vocab_size",
                                  "layer_norm_eps",
                                  "hidden_dropout_prob",
                                  "attention_probs_dropout_prob",
                                  "initializer_range",
                                  "pad_token_id",
                                  "id2label",
                                  "label2id",
                                  "num_labels",
                                  "problem_type",
                                  "pruned_heads",
                                  "intermediate_sizes"};

} // namespace

void BertConfig::setNumLabels(int64_t n)
{
    regression = n == 1;
    id2label.clear();
    if (!regression)
        for (int64_t i = 0; i < n; ++i)
            id2label.push_back("LABEL_" + std::to_string(i));
}

BertConfig BertConfig::fromJson(const json &j, const std::string &source)
{
    if (!j.is_object())
        throw Error(source + ": expected a JSON object");
    BertConfig c;
    const Reader r(j, source);
    r.integer("vocab_size", c.vocabSize, 1);
    r.integer("hidden_size", c.hiddenSize, 1);
    r.integer("num_hidden_layers", c.numHiddenLayers, 0);
    r.integer("num_attention_heads", c.numAttentionHeads, 1);
    r.integer("intermediate_size", c.intermediateSize, 1);
    r.string("hidden_act", c.hiddenAct);
    r.integer("max_position_embeddings", c.maxPositionEmbeddings, 1);
    r.integer("type_vocab_size", c.typeVocabSize, 1);
    r.number("layer_norm_eps", c.layerNormEps, 0.0, 1.0);
    r.number("hidden_dropout_prob", c.hiddenDropoutProb, 0.0, 1.0);
    r.number("attention_probs_dropout_prob", c.attentionProbsDropoutProb, 0.0, 1.0);
    r.number("initializer_range", c.initializerRange, 0.0, 10.0);
    r.integer("pad_token_id", c.padTokenId, 0);

    std::string problemType;
    r.string("problem_type", problemType);
    if (auto it = j.find("id2label"); it != j.end() && !it->is_null()) {
        if (!it->is_object())
            r.fail("id2label", "expected an object of index -> label");
        std::map<int64_t, std::string> byIndex;
        for (auto &[k, v] : it->items()) {
            if (!v.is_string())
                r.fail("id2label", "label of '" + k + "' is not a string");
            try {
                size_t used = 0;
                const int64_t idx = std::stoll(k, &used);
                if (used != k.size() || idx < 0)
                    throw std::invalid_argument(k);
                byIndex[idx] = v.get<std::string>();
            } catch (const std::exception &) {
                r.fail("id2label", "key '" + k + "' is not a class index");
            }
        }
        c.id2label.clear();
        for (auto &[idx, label] : byIndex) {
            if (idx != static_cast<int64_t>(c.id2label.size()))
                r.fail("id2label", "class indexes must be 0..n-1 without gaps");
            c.id2label.push_back(label);
        }
    }
    int64_t numLabels = static_cast<int64_t>(c.id2label.size());
    r.integer("num_labels", numLabels, 1);
    if (numLabels != static_cast<int64_t>(c.id2label.size()))
        c.setNumLabels(numLabels);
    c.regression = problemType == "regression" || numLabels == 1;
    if (c.regression)
        c.id2label.clear();

    if (auto it = j.find("pruned_heads"); it != j.end() && !it->is_null()) {
        if (!it->is_object())
            r.fail("pruned_heads", "expected an object of layer -> [head, ...]");
        for (auto &[k, v] : it->items()) {
            int64_t layer = -1;
            try {
                size_t used = 0;
                layer = std::stoll(k, &used);
                if (used != k.size() || layer < 0)
                    throw std::invalid_argument(k);
            } catch (const std::exception &) {
                r.fail("pruned_heads", "key '" + k + "' is not a layer index");
            }
            if (!v.is_array())
                r.fail("pruned_heads", "layer " + k + ": expected an array of head indices, got " + v.dump());
            std::vector<int64_t> heads;
            for (const auto &h : v) {
                if (!h.is_number_integer() || h.get<int64_t>() < 0)
                    r.fail("pruned_heads", "layer " + k + ": " + h.dump() + " is not a head index");
                heads.push_back(h.get<int64_t>());
            }
            std::sort(heads.begin(), heads.end());
            if (std::adjacent_find(heads.begin(), heads.end()) != heads.end())
                r.fail("pruned_heads", "layer " + k + " lists a head twice");
            if (!heads.empty())
                c.prunedHeads[layer] = heads;
        }
    }
    if (auto it = j.find("intermediate_sizes"); it != j.end() && !it->is_null()) {
        if (!it->is_array())
            r.fail("intermediate_sizes", "expected an array of per-layer FFN sizes");
        for (const auto &v : *it) {
            if (!v.is_number_integer() || v.get<int64_t>() < 0)
                r.fail("intermediate_sizes", v.dump() + " is not an FFN size");
            c.intermediateSizes.push_back(v.get<int64_t>());
        }
    }
    for (auto &[k, v] : j.items())
        if (std::find(std::begin(kOwnedKeys), std::end(kOwnedKeys), k) == std::end(kOwnedKeys))
            c.extra[k] = v;
    c.validate(source);
    return c;
}

void BertConfig::validate(const std::string &source) const
{
    auto fail = [&](const std::string &key, const std::string &why) {
        throw Error(source + ": key '" + key + "': " + why);
    };
    // Sane bounds before anything is allocated: the largest BERTs have 48 layers, hidden 4096,
    // FFN 16384 and a few hundred thousand tokens; these limits are far above and far below
    // what would exhaust memory or hang building layers.
    auto bound = [&](const char *key, int64_t value, int64_t lo, int64_t hi) {
        if (value < lo || value > hi)
            fail(key,
                 "must lie in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(value));
    };
    bound("num_hidden_layers", numHiddenLayers, 1, 256);
    bound("hidden_size", hiddenSize, 1, 65536);
    bound("num_attention_heads", numAttentionHeads, 1, 1024);
    bound("intermediate_size", intermediateSize, 1, 262144);
    bound("vocab_size", vocabSize, 1, 4000000);
    bound("max_position_embeddings", maxPositionEmbeddings, 1, 1 << 20);
    bound("type_vocab_size", typeVocabSize, 1, 1024);
    if (hiddenSize % numAttentionHeads != 0)
        fail("hidden_size", "hidden_size " + std::to_string(hiddenSize) + " is not a multiple of num_attention_heads " +
                                std::to_string(numAttentionHeads));
    if (hiddenAct != "gelu" && hiddenAct != "gelu_new" && hiddenAct != "relu" && hiddenAct != "gelu_pytorch_tanh")
        fail("hidden_act", "unsupported activation '" + hiddenAct + "' (gelu, gelu_new, relu)");
    if (padTokenId >= vocabSize)
        fail("pad_token_id", "beyond vocab_size");
    for (const auto &[layer, heads] : prunedHeads) {
        if (layer >= numHiddenLayers)
            fail("pruned_heads",
                 "layer " + std::to_string(layer) + " does not exist (" + std::to_string(numHiddenLayers) + " layers)");
        for (int64_t h : heads)
            if (h >= numAttentionHeads)
                fail("pruned_heads", "layer " + std::to_string(layer) + ": head " + std::to_string(h) +
                                         " does not exist (" + std::to_string(numAttentionHeads) + " heads)");
    }
    if (!intermediateSizes.empty() && static_cast<int64_t>(intermediateSizes.size()) != numHiddenLayers)
        fail("intermediate_sizes", "has " + std::to_string(intermediateSizes.size()) + " entries for " +
                                       std::to_string(numHiddenLayers) + " layers");
    for (int64_t size : intermediateSizes)
        if (size > intermediateSize)
            fail("intermediate_sizes",
                 std::to_string(size) + " is larger than intermediate_size " + std::to_string(intermediateSize));
    if (auto it = extra.find("position_embedding_type");
        it != extra.end() && it->is_string() && it->get<std::string>() != "absolute")
        fail("position_embedding_type", "only \"absolute\" position embeddings are supported");
    if (auto it = extra.find("model_type"); it != extra.end() && it->is_string() && it->get<std::string>() != "bert")
        fail("model_type", "expected \"bert\", got " + it->dump());
}

BertConfig BertConfig::load(const std::string &path)
{
    return fromJson(readJsonFile(path), path);
}

int64_t BertConfig::headsIn(int64_t layer) const
{
    const auto it = prunedHeads.find(layer);
    return numAttentionHeads - (it == prunedHeads.end() ? 0 : static_cast<int64_t>(it->second.size()));
}

std::vector<int64_t> BertConfig::keptHeads(int64_t layer) const
{
    const auto it = prunedHeads.find(layer);
    std::vector<int64_t> out;
    for (int64_t h = 0; h < numAttentionHeads; ++h)
        if (it == prunedHeads.end() || !std::binary_search(it->second.begin(), it->second.end(), h))
            out.push_back(h);
    return out;
}

int64_t BertConfig::intermediateSizeOf(int64_t layer) const
{
    return intermediateSizes.empty() ? intermediateSize : intermediateSizes.at(static_cast<size_t>(layer));
}

json BertConfig::toJson() const
{
    json j = extra;
    if (!prunedHeads.empty()) {
        json p = json::object();
        for (const auto &[layer, heads] : prunedHeads)
            p[std::to_string(layer)] = heads;
        j["pruned_heads"] = p;
    }
    if (!intermediateSizes.empty())
        j["intermediate_sizes"] = intermediateSizes;
    j["model_type"] = "bert";
    j["vocab_size"] = vocabSize;
    j["hidden_size"] = hiddenSize;
    j["num_hidden_layers"] = numHiddenLayers;
    j["num_attention_heads"] = numAttentionHeads;
    j["intermediate_size"] = intermediateSize;
    j["hidden_act"] = hiddenAct;
    j["max_position_embeddings"] = maxPositionEmbeddings;
    j["type_vocab_size"] = typeVocabSize;
    j["layer_norm_eps"] = layerNormEps;
    j["hidden_dropout_prob"] = hiddenDropoutProb;
    j["attention_probs_dropout_prob"] = attentionProbsDropoutProb;
    j["initializer_range"] = initializerRange;
    j["pad_token_id"] = padTokenId;
    if (regression) {
        j["num_labels"] = 1;
        j["problem_type"] = "regression";
        j["id2label"] = json{{"0", "LABEL_0"}};
        j["label2id"] = json{{"LABEL_0", 0}};
    } else {
        json id2 = json::object(), l2i = json::object();
        for (size_t i = 0; i < id2label.size(); ++i) {
            id2[std::to_string(i)] = id2label[i];
            l2i[id2label[i]] = i;
        }
        j["id2label"] = id2;
        j["label2id"] = l2i;
    }
    return j;
}

void BertConfig::save(const std::string &path) const
{
    writeFileAtomic(path, toJson().dump(2) + "\n");
}

BertConfig BertConfig::preset(const std::string &name)
{
    struct Shape
    {
        const char *name;
        int64_t layers, hidden, heads, inter;
    };
    static const Shape kShapes[] = {{"tiny", 2, 128, 2, 512},    {"mini", 4, 256, 4, 1024},
                                    {"small", 4, 512, 8, 2048},  {"medium", 8, 512, 8, 2048},
                                    {"base", 12, 768, 12, 3072}, {"large", 24, 1024, 16, 4096}};
    for (const Shape &s : kShapes) {
        if (name == s.name) {
            BertConfig c;
            c.numHiddenLayers = s.layers;
            c.hiddenSize = s.hidden;
            c.numAttentionHeads = s.heads;
            c.intermediateSize = s.inter;
            return c;
        }
    }
    std::string known;
    for (const std::string &n : presetNames())
        known += (known.empty() ? "" : ", ") + n;
    throw Error("unknown preset '" + name + "' (known: " + known + ")");
}

std::vector<std::string> BertConfig::presetNames()
{
    return {"tiny", "mini", "small", "medium", "base", "large"};
}

} // namespace tl
