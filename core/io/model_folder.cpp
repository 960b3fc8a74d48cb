#include "io/model_folder.h"

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

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

} // namespace tl
