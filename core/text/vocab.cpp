#include "text/vocab.h"

#include <utility>

#include "util/error.h"
#include "util/fileio.h"

namespace tl {

Vocab::Vocab(std::vector<std::string> tokens) : m_tokens(std::move(tokens))
{
    m_ids.reserve(m_tokens.size());
    // Plain assignment so a duplicated token maps to its last line, as HF's load_vocab
    // (a dict filled in file order) does.
    for (size_t i = 0; i < m_tokens.size(); ++i)
        m_ids[m_tokens[i]] = static_cast<int64_t>(i);
    m_pad = id("[PAD]");
    m_unk = id("[UNK]");
    m_cls = id("[CLS]");
    m_sep = id("[SEP]");
    m_mask = id("[MASK]");
}

Vocab Vocab::load(const std::string &path)
{
    const std::string text = readFileText(path);
    if (text.empty())
        throw Error(path + ": vocabulary file is empty");

    std::vector<std::string> tokens;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        const size_t next = end == std::string::npos ? text.size() : end + 1;
        if (end == std::string::npos)
            end = text.size();
        // HF strips only "\n"; a trailing "\r" is dropped too so that a vocab.txt saved
        // with Windows line ends still matches (no real token ends in a carriage return).
        if (end > start && text[end - 1] == '\r')
            --end;
        tokens.emplace_back(text, start, end - start);
        start = next;
    }

    Vocab vocab(std::move(tokens));
    const std::pair<const char *, int64_t> required[] = {{"[PAD]", vocab.m_pad},
                                                         {"[UNK]", vocab.m_unk},
                                                         {"[CLS]", vocab.m_cls},
                                                         {"[SEP]", vocab.m_sep},
                                                         {"[MASK]", vocab.m_mask}};
    for (const auto &[name, tokenId] : required) {
        if (tokenId < 0)
            throw Error(path + ": vocabulary lacks the special token " + name);
    }
    return vocab;
}

void Vocab::save(const std::string &path) const
{
    std::string text;
    for (size_t i = 0; i < m_tokens.size(); ++i) {
        const std::string &tok = m_tokens[i];
        // A line break inside a token would shift every later id on reload.
        if (tok.find('\n') != std::string::npos)
            throw Error(path + ": token " + std::to_string(i) + " contains a line break");
        text += tok;
        text += '\n';
    }
    writeFileAtomic(path, text);
}

int64_t Vocab::id(const std::string &token) const
{
    const auto it = m_ids.find(token);
    return it == m_ids.end() ? -1 : it->second;
}

} // namespace tl
