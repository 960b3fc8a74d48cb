#include "libtorch/io/checkpoint.h"

#include <filesystem>
#include <set>

#include "io/model_folder.h"
#include "io/safetensors.h"
#include "io/torch_pickle.h"
#include "util/error.h"
#include "util/fileio.h"

namespace fs = std::filesystem;

namespace tl {
namespace {

bool endsWith(const std::string &s, const std::string &suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool startsWith(const std::string &s, const std::string &prefix)
{
    return s.rfind(prefix, 0) == 0;
}

/// Canonical HF name of a checkpoint key, or "" for keys that carry no parameter; a legacy
/// LayerNorm name is reported.
std::string canonicalKey(const std::string &key, LoadReport *report)
{
    bool legacy = false;
    std::string name = canonicalWeightKey(key, &legacy);
    if (legacy && report)
        report->legacyRenamed.push_back(key);
    return name;
}

torch::Tensor toTensor(const SafetensorsFile &file, const SafeTensorInfo &info)
{
    std::vector<float> values = file.toFloat(info.name);
    return torch::from_blob(values.data(), info.shape, torch::kFloat).clone();
}

std::map<std::string, torch::Tensor> readPickled(const std::string &path)
{
    // torch::pickle_load cannot read the OrderedDict that torch.save writes for a state dict,
    // so the torch-free reader does the parsing.
    std::map<std::string, PickledTensor> state;
    try {
        state = readTorchStateDict(path);
    } catch (const Error &e) {
        throw Error(std::string(e.what()) +
                    "\nIf the file loads in Python, converting it to model.safetensors always works:\n"
                    "  python3 -c \"import torch, safetensors.torch as s; "
                    "s.save_file({k: v.contiguous() for k, v in torch.load('pytorch_model.bin').items()}, "
                    "'model.safetensors', metadata={'format': 'pt'})\"");
    }
    std::map<std::string, torch::Tensor> out;
    for (auto &[name, t] : state)
        out[name] = torch::from_blob(t.values.data(), t.shape, torch::kFloat).clone();
    return out;
}

} // namespace

std::map<std::string, torch::Tensor> readStateDict(const std::string &weightsFile, LoadReport *report)
{
    std::map<std::string, torch::Tensor> raw;
    if (endsWith(weightsFile, ".safetensors")) {
        const SafetensorsFile file = SafetensorsFile::read(weightsFile);
        for (const SafeTensorInfo &info : file.tensors())
            raw[info.name] = toTensor(file, info);
    } else {
        raw = readPickled(weightsFile);
    }
    std::map<std::string, torch::Tensor> out;
    torch::Tensor decoderBias;
    for (auto &[key, tensor] : raw) {
        if (key == "cls.predictions.decoder.bias") {
            decoderBias = tensor;
            continue;
        }
        const std::string name = canonicalKey(key, report);
        if (name.empty())
            continue;
        if (out.count(name))
            throw Error(weightsFile + ": key '" + key + "' appears twice (once as '" + name + "')");
        out[name] = tensor;
    }
    if (decoderBias.defined() && !out.count("cls.predictions.bias"))
        out["cls.predictions.bias"] = decoderBias;
    if (report)
        report->weightsFile = weightsFile;
    return out;
}

void loadStateDict(BertNet &net, const std::map<std::string, torch::Tensor> &state, LoadReport *report)
{
    torch::NoGradGuard noGrad;
    LoadReport local;
    LoadReport &r = report ? *report : local;
    std::set<std::string> used;
    for (auto &item : net->named_parameters()) {
        const std::string &name = item.key();
        auto it = state.find(name);
        if (it == state.end()) {
            r.missingKeys.push_back(name);
            continue;
        }
        used.insert(name);
        torch::Tensor &param = item.value();
        if (param.sizes() != it->second.sizes()) {
            if (startsWith(name, "classifier.")) {
                r.reinitialised.push_back(name); // another label count: keep the fresh head
                continue;
            }
            throw Error((r.weightsFile.empty() ? std::string("checkpoint") : r.weightsFile) + ": key '" + name +
                        "' has shape " + c10::str(it->second.sizes()) + " but the config asks for " +
                        c10::str(param.sizes()));
        }
        param.copy_(it->second);
    }
    for (auto &[name, tensor] : state)
        if (!used.count(name))
            r.unusedKeys.push_back(name);
}

void checkConfigAgainstCheckpoint(const BertConfig &cfg, const std::map<std::string, torch::Tensor> &state,
                                  const std::string &configSource, const std::string &weightsFile)
{
    auto text = [](const std::vector<int64_t> &shape) { return c10::str(c10::IntArrayRef(shape)); };
    auto expect = [&](const char *keys, const std::string &tensor, const std::vector<int64_t> &shape) {
        auto it = state.find(tensor);
        if (it == state.end())
            return;
        const std::vector<int64_t> actual = it->second.sizes().vec();
        if (actual != shape)
            throw Error(configSource + ": " + keys + " give '" + tensor + "' the shape " + text(shape) + ", but " +
                        weightsFile + " holds " + text(actual) + ": the config does not belong to this checkpoint");
    };
    const int64_t h = cfg.hiddenSize;
    expect("keys 'vocab_size' and 'hidden_size'", "bert.embeddings.word_embeddings.weight", {cfg.vocabSize, h});
    expect("keys 'max_position_embeddings' and 'hidden_size'", "bert.embeddings.position_embeddings.weight",
           {cfg.maxPositionEmbeddings, h});
    expect("keys 'type_vocab_size' and 'hidden_size'", "bert.embeddings.token_type_embeddings.weight",
           {cfg.typeVocabSize, h});
    // A compacted model (pruned_heads, intermediate_sizes) has layers of its own sizes.
    for (int64_t l = 0; l < cfg.numHiddenLayers; ++l) {
        const std::string layer = "bert.encoder.layer." + std::to_string(l) + ".";
        expect(cfg.compacted() ? "keys 'hidden_size', 'num_attention_heads' and 'pruned_heads'" : "key 'hidden_size'",
               layer + "attention.self.query.weight", {cfg.headsIn(l) * cfg.headDim(), h});
        expect(cfg.compacted() ? "keys 'intermediate_size', 'intermediate_sizes' and 'hidden_size'"
                               : "keys 'intermediate_size' and 'hidden_size'",
               layer + "intermediate.dense.weight", {cfg.intermediateSizeOf(l), h});
        if (!cfg.compacted())
            break; // layer 0 says it all for a uniform model
    }
    // Layers: the checkpoint's encoder.layer.N indexes, when it has any.
    int64_t layers = 0;
    const std::string prefix = "bert.encoder.layer.";
    for (const auto &[name, tensor] : state)
        if (startsWith(name, prefix))
            layers = std::max<int64_t>(layers, std::atoll(name.c_str() + prefix.size()) + 1);
    if (layers > 0 && layers != cfg.numHiddenLayers)
        throw Error(configSource + ": key 'num_hidden_layers' is " + std::to_string(cfg.numHiddenLayers) + ", but " +
                    weightsFile + " holds " + std::to_string(layers) + " encoder layers (bert.encoder.layer.0.." +
                    std::to_string(layers - 1) + "): the config does not belong to this checkpoint");
}

BertNet loadBert(const std::string &dir, BertHeads heads, LoadReport *report, const BertConfig *config)
{
    const std::string configPath = (fs::path(dir) / "config.json").string();
    const BertConfig cfg = config ? *config : BertConfig::load(configPath);
    LoadReport local;
    LoadReport &r = report ? *report : local;
    const std::string weightsFile = findWeightsFile(dir);
    const auto state = readStateDict(weightsFile, &r);
    // Before anything is allocated: a config that disagrees with its weights would otherwise
    // build a model of its own size (hanging on 100000 layers, dying in the allocator on a
    // hidden size of 10^9) before the shapes are compared.
    checkConfigAgainstCheckpoint(cfg, state, config ? "config" : configPath, weightsFile);
    BertNet net(cfg, heads);
    loadStateDict(net, state, &r);
    return net;
}

void saveTensors(const std::string &path, const std::vector<std::pair<std::string, torch::Tensor>> &tensors,
                 const std::map<std::string, std::string> &metadata)
{
    std::vector<torch::Tensor> keep; // owns the CPU float copies while they are written
    std::vector<SafeTensorOut> out;
    for (const auto &[name, tensor] : tensors) {
        torch::Tensor t = tensor.detach().to(torch::kCPU, torch::kFloat).contiguous();
        keep.push_back(t);
        out.push_back({name, DType::F32, t.sizes().vec(), t.data_ptr()});
    }
    writeSafetensors(path, out, metadata);
}

void saveBert(BertNet &net, const std::string &dir, const std::string &vocabFile)
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw Error(dir + ": cannot create folder: " + ec.message());
    std::vector<std::pair<std::string, torch::Tensor>> params;
    for (auto &item : net->named_parameters())
        params.emplace_back(item.key(), item.value());
    saveTensors((fs::path(dir) / "model.safetensors").string(), params, {{"format", "pt"}});
    BertConfig cfg = net->config;
    cfg.extra["architectures"] = {net->heads.mlm ? "BertForMaskedLM" : "BertForSequenceClassification"};
    cfg.save((fs::path(dir) / "config.json").string());
    if (!vocabFile.empty()) {
        const fs::path target = fs::path(dir) / "vocab.txt";
        if (!fs::exists(target) || !fs::equivalent(vocabFile, target))
            writeFileAtomic(target.string(), readFileText(vocabFile));
    }
}

std::string describe(const LoadReport &r)
{
    std::string s;
    auto list = [&](const char *what, const std::vector<std::string> &keys) {
        if (keys.empty())
            return;
        s += std::string(what) + " (" + std::to_string(keys.size()) + "):";
        for (size_t i = 0; i < keys.size() && i < 8; ++i)
            s += " " + keys[i];
        if (keys.size() > 8)
            s += " ...";
        s += "\n";
    };
    list("newly initialised", r.missingKeys);
    list("unused checkpoint keys", r.unusedKeys);
    list("re-initialised task head (label count changed)", r.reinitialised);
    list("legacy LayerNorm names read", r.legacyRenamed);
    return s;
}

} // namespace tl
