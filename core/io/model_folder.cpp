#include "io/model_folder.h"

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "io/torch_pickle.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/hash.h"

namespace fs = std::filesystem;

namespace tl {

std::string vocabPath(const std::string &dirOrVocab)
{
    if (fs::is_directory(dirOrVocab)) {
        const fs::path p = fs::path(dirOrVocab) / "vocab.txt";
        if (!fs::exists(p))
            throw Error(dirOrVocab + ": no vocab.txt in this model folder");
        return p.string();
    }
    return dirOrVocab;
}

BertTokenizer loadTokenizer(const std::string &dirOrVocab)
{
    bool lowerCase = true;
    if (fs::is_directory(dirOrVocab)) {
        const fs::path cfg = fs::path(dirOrVocab) / "tokenizer_config.json";
        if (fs::exists(cfg)) {
            try {
                const auto j = nlohmann::json::parse(readFileText(cfg.string()));
                if (j.contains("do_lower_case") && j["do_lower_case"].is_boolean())
                    lowerCase = j["do_lower_case"].get<bool>();
            } catch (const nlohmann::json::exception &e) {
                throw Error(cfg.string() + ": invalid JSON: " + e.what());
            }
        }
    }
    return BertTokenizer(Vocab::load(vocabPath(dirOrVocab)), lowerCase);
}

std::string contentHash(const std::vector<std::string> &files)
{
    Fnv1a h;
    std::vector<char> buffer(1 << 20);
    for (const std::string &path : files) {
        std::FILE *f = std::fopen(path.c_str(), "rb");
        if (!f)
            throw Error(path + ": cannot open");
        size_t n;
        while ((n = std::fread(buffer.data(), 1, buffer.size(), f)) > 0)
            h.update(buffer.data(), n);
        std::fclose(f);
        h.update(static_cast<unsigned char>(0xff)); // file boundary
    }
    return h.hex();
}

namespace {

bool endsWith(const std::string &s, const std::string &suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool startsWith(const std::string &s, const std::string &prefix)
{
    return s.rfind(prefix, 0) == 0;
}

} // namespace

std::string findWeightsFile(const std::string &dir)
{
    for (const char *name : {"model.safetensors", "pytorch_model.bin"}) {
        const fs::path p = fs::path(dir) / name;
        if (fs::exists(p))
            return p.string();
    }
    if (fs::exists(fs::path(dir) / "model.safetensors.index.json"))
        throw Error(dir + ": sharded checkpoints (model.safetensors.index.json) are not supported yet");
    throw Error(dir + ": no model.safetensors or pytorch_model.bin in this folder");
}

std::string canonicalWeightKey(std::string key, bool *legacy)
{
    if (endsWith(key, "LayerNorm.gamma") || endsWith(key, "LayerNorm.beta")) {
        key = key.substr(0, key.rfind('.')) + (endsWith(key, "gamma") ? ".weight" : ".bias");
        if (legacy)
            *legacy = true;
    }
    // A bare BertModel checkpoint has no "bert." prefix.
    if (startsWith(key, "embeddings.") || startsWith(key, "encoder.") || startsWith(key, "pooler."))
        key = "bert." + key;
    if (key == "bert.embeddings.position_ids" || key == "cls.predictions.decoder.weight")
        return {}; // a buffer, and the decoder tied to the word embeddings
    return key;
}

std::map<std::string, FloatTensor> readWeightsFile(const std::string &weightsFile,
                                                   const std::function<bool(const std::string &)> &want)
{
    std::map<std::string, FloatTensor> out;
    if (endsWith(weightsFile, ".safetensors")) {
        const SafetensorsFile file = SafetensorsFile::read(weightsFile);
        for (const SafeTensorInfo &info : file.tensors()) {
            const std::string name = canonicalWeightKey(info.name);
            if (!name.empty() && want(name))
                out[name] = {info.shape, file.toFloat(info.name)};
        }
    } else {
        for (auto &[key, t] : readTorchStateDict(weightsFile)) {
            const std::string name = canonicalWeightKey(key);
            if (!name.empty() && want(name))
                out[name] = {t.shape, std::move(t.values)};
        }
    }
    return out;
}

} // namespace tl
