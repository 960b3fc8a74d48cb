#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace tl {

/// A WordPiece vocabulary (one token a line, id = line index), as Hugging Face's vocab.txt.
class Vocab
{
public:
    Vocab() = default;
    explicit Vocab(std::vector<std::string> tokens);

    /// Reads vocab.txt. Throws tl::Error naming the file when it cannot be read, is empty
    /// or lacks one of [PAD] [UNK] [CLS] [SEP] [MASK].
    static Vocab load(const std::string &path);
    void save(const std::string &path) const;

    /// -1 when absent.
    int64_t id(const std::string &token) const;
    bool contains(const std::string &token) const { return id(token) >= 0; }
    const std::string &token(int64_t id) const { return m_tokens.at(static_cast<size_t>(id)); }
    int64_t size() const { return static_cast<int64_t>(m_tokens.size()); }
    const std::vector<std::string> &tokens() const { return m_tokens; }

    int64_t padId() const { return m_pad; }
    int64_t unkId() const { return m_unk; }
    int64_t clsId() const { return m_cls; }
    int64_t sepId() const { return m_sep; }
    int64_t maskId() const { return m_mask; }

private:
    std::vector<std::string> m_tokens;
    std::unordered_map<std::string, int64_t> m_ids;
    int64_t m_pad = -1, m_unk = -1, m_cls = -1, m_sep = -1, m_mask = -1;
};

} // namespace tl
