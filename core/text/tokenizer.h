#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "text/vocab.h"

namespace tl {

/// One model input: [CLS] a [SEP] (b [SEP]), unpadded.
struct Encoding
{
    std::vector<int64_t> inputIds;
    std::vector<int64_t> tokenTypeIds;
};

/// Exactly Hugging Face's BertTokenizer (BasicTokenizer + WordpieceTokenizer):
/// clean text (drop NUL, U+FFFD and control chars, whitespace -> ' '), split out CJK
/// ideographs, lower-case and strip accents (NFD, drop Mn) when lowerCase, split on
/// punctuation (ASCII symbol ranges and Unicode P*), words longer than 100 characters
/// become [UNK], then greedy longest-match WordPiece with "##". Special tokens of the
/// vocabulary ([CLS], [SEP], [MASK], [PAD], [UNK]) written in the text stay whole.
class BertTokenizer
{
public:
    explicit BertTokenizer(Vocab vocab, bool lowerCase = true);

    const Vocab &vocab() const { return m_vocab; }

    /// WordPiece tokens of text, without special tokens added.
    std::vector<std::string> tokenize(const std::string &text) const;
    std::vector<int64_t> tokenizeToIds(const std::string &text) const;

    /// [CLS] a [SEP] or [CLS] a [SEP] b [SEP] with token types 0/1, truncated to maxLen
    /// (longest-first: one token at a time from the longer side, from b on a tie).
    /// maxLen <= 0 disables truncation.
    Encoding encode(const std::string &a, int maxLen) const;
    Encoding encodePair(const std::string &a, const std::string &b, int maxLen) const;
    /// The same from already tokenized ids.
    Encoding assemble(std::vector<int64_t> a, const std::vector<int64_t> *b, int maxLen) const;

private:
    /// HF's lower-casing of the whole text, then BasicTokenizer, on text that holds no
    /// special token.
    std::vector<std::string> basicTokenize(const std::string &text) const;
    void wordpiece(const std::string &word, std::vector<std::string> &out) const;

    Vocab m_vocab;
    bool m_lowerCase;
    /// The special tokens the vocabulary has, matched verbatim in the input text.
    std::vector<std::string> m_specials;
};

} // namespace tl
