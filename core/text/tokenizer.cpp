#include "text/tokenizer.h"

#include <algorithm>
#include <utility>

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include "util/error.h"

// Every rule below mirrors a line of Hugging Face's slow BertTokenizer
// (PreTrainedTokenizer.tokenize, BasicTokenizer, WordpieceTokenizer, truncate_sequences),
// because the model weights were trained on exactly that segmentation.

namespace tl {
namespace {

using Text = std::u32string;

// WordpieceTokenizer.max_input_chars_per_word.
constexpr size_t kMaxWordChars = 100;
const char *const kUnkToken = "[UNK]";

// Ill-formed bytes become U+FFFD, which _clean_text then drops like a real U+FFFD.
Text decodeUtf8(const std::string &s)
{
    Text out;
    out.reserve(s.size());
    const auto *bytes = reinterpret_cast<const uint8_t *>(s.data());
    const int64_t length = static_cast<int64_t>(s.size());
    int64_t i = 0;
    while (i < length) {
        UChar32 c;
        U8_NEXT_OR_FFFD(bytes, i, length, c);
        out.push_back(static_cast<char32_t>(c));
    }
    return out;
}

void appendUtf8(char32_t c, std::string &out)
{
    uint8_t buf[U8_MAX_LENGTH];
    int32_t n = 0;
    U8_APPEND_UNSAFE(buf, n, static_cast<UChar32>(c)); // c is a scalar value by construction
    out.append(reinterpret_cast<const char *>(buf), static_cast<size_t>(n));
}

std::string encodeUtf8(const Text &t)
{
    std::string out;
    out.reserve(t.size());
    for (const char32_t c : t)
        appendUtf8(c, out);
    return out;
}

icu::UnicodeString toIcu(const Text &t)
{
    icu::UnicodeString u;
    for (const char32_t c : t)
        u.append(static_cast<UChar32>(c));
    return u;
}

void appendFromIcu(const icu::UnicodeString &u, Text &out)
{
    for (int32_t i = 0; i < u.length();) {
        const UChar32 c = u.char32At(i);
        out.push_back(static_cast<char32_t>(c));
        i += U16_LENGTH(c);
    }
}

bool allBelow(const Text &t, char32_t limit)
{
    return std::all_of(t.begin(), t.end(), [limit](char32_t c) { return c < limit; });
}

// Python's str.isspace, which whitespace_tokenize's strip() and split() use: wider than
// _is_whitespace (it also takes U+2028/U+2029, which _clean_text lets through).
bool isPySpace(char32_t c)
{
    switch (c) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F:
    case 0x20:
    case 0x85:
    case 0x2028:
    case 0x2029:
        return true;
    default:
        return c > 0x7F && u_charType(static_cast<UChar32>(c)) == U_SPACE_SEPARATOR;
    }
}

// _is_whitespace.
bool isWhitespace(char32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || u_charType(static_cast<UChar32>(c)) == U_SPACE_SEPARATOR;
}

// _is_control: any category C* (Cc Cf Cs Co Cn) except the three whitespace controls.
bool isControl(char32_t c)
{
    if (c == '\t' || c == '\n' || c == '\r')
        return false;
    switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_SURROGATE:
    case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED:
        return true;
    default:
        return false;
    }
}

// _is_punctuation: every non-alphanumeric ASCII symbol, plus Unicode P*.
bool isPunctuation(char32_t c)
{
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))
        return true;
    switch (u_charType(static_cast<UChar32>(c))) {
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
        return true;
    default:
        return false;
    }
}

// _is_chinese_char: the CJK ideograph blocks only, not kana or hangul.
bool isCjk(char32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// PreTrainedTokenizer.tokenize lower-cases with re.sub(r"(specials)|(.+?)", ...), i.e. one
// character at a time, so no context applies: a word-final capital sigma becomes σ, not ς.
Text lowerEachCodePoint(const Text &t)
{
    Text out;
    out.reserve(t.size());
    for (const char32_t c : t) {
        if (c < 0x80) {
            out.push_back(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
            continue;
        }
        icu::UnicodeString u{static_cast<UChar32>(c)};
        u.toLower(icu::Locale::getRoot()); // full mapping, locale-free, as str.lower
        appendFromIcu(u, out);
    }
    return out;
}

// str.lower() on a whole word (BasicTokenizer's own lower-casing).
Text lowerWord(const Text &t)
{
    if (allBelow(t, 0x80))
        return lowerEachCodePoint(t);
    icu::UnicodeString u = toIcu(t);
    u.toLower(icu::Locale::getRoot());
    Text out;
    appendFromIcu(u, out);
    return out;
}

const icu::Normalizer2 &normalizer(bool compose)
{
    UErrorCode err = U_ZERO_ERROR;
    const icu::Normalizer2 *n = compose ? icu::Normalizer2::getNFCInstance(err) : icu::Normalizer2::getNFDInstance(err);
    if (U_FAILURE(err) || !n)
        throw Error(std::string("ICU normalizer data unavailable: ") + u_errorName(err));
    return *n;
}

Text normalize(const Text &t, bool compose)
{
    // Below U+0300 nothing composes, and below U+00C0 nothing decomposes either.
    if (allBelow(t, compose ? 0x300 : 0xC0))
        return t;
    UErrorCode err = U_ZERO_ERROR;
    const icu::UnicodeString u = normalizer(compose).normalize(toIcu(t), err);
    if (U_FAILURE(err))
        throw Error(std::string("ICU normalization failed: ") + u_errorName(err));
    Text out;
    appendFromIcu(u, out);
    return out;
}

// _run_strip_accents: NFD, then drop nonspacing marks (Mn only; Mc and Me stay).
Text stripAccents(const Text &t)
{
    Text out;
    for (const char32_t c : normalize(t, false)) {
        if (u_charType(static_cast<UChar32>(c)) != U_NON_SPACING_MARK)
            out.push_back(c);
    }
    return out;
}

// _run_split_on_punc followed by the final whitespace_tokenize(" ".join(...)).
void splitOnPunctuation(const Text &word, std::vector<std::string> &out)
{
    Text current;
    auto flush = [&]() {
        if (!current.empty())
            out.push_back(encodeUtf8(current));
        current.clear();
    };
    for (const char32_t c : word) {
        if (isPunctuation(c)) {
            flush();
            out.push_back(encodeUtf8(Text(1, c)));
        } else if (isPySpace(c)) {
            flush();
        } else {
            current.push_back(c);
        }
    }
    flush();
}

} // namespace

BertTokenizer::BertTokenizer(Vocab vocab, bool lowerCase) : m_vocab(std::move(vocab)), m_lowerCase(lowerCase)
{
    // HF's all_special_tokens. One the vocabulary lacks has no id to map to, so it is
    // treated as ordinary text rather than split out.
    for (const char *special : {"[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"}) {
        if (m_vocab.contains(special))
            m_specials.emplace_back(special);
    }
}

std::vector<std::string> BertTokenizer::tokenize(const std::string &text) const
{
    std::vector<std::string> out;
    auto emitPiece = [&](size_t begin, size_t end) {
        if (begin == end)
            return;
        // HF's _tokenize sends never_split words through WordPiece too; a special
        // token in the vocabulary comes back whole.
        for (const std::string &word : basicTokenize(text.substr(begin, end - begin)))
            wordpiece(word, out);
    };

    // HF splits the raw text on its added tokens (exact, case-sensitive) before any
    // normalisation, so "hello[MASK]." keeps [MASK] whole. Matching bytes is safe: the
    // specials are ASCII, and no byte of a multi-byte UTF-8 sequence is ASCII.
    size_t pieceStart = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        const std::string *hit = nullptr;
        for (const std::string &special : m_specials) {
            if (text.compare(pos, special.size(), special) == 0) {
                hit = &special;
                break;
            }
        }
        if (!hit) {
            ++pos;
            continue;
        }
        emitPiece(pieceStart, pos);
        out.push_back(*hit);
        pos += hit->size();
        pieceStart = pos;
    }
    emitPiece(pieceStart, text.size());
    return out;
}

std::vector<std::string> BertTokenizer::basicTokenize(const std::string &piece) const
{
    Text text = decodeUtf8(piece);
    if (m_lowerCase)
        text = lowerEachCodePoint(text);

    // _clean_text and _tokenize_chinese_chars in one pass.
    Text cleaned;
    cleaned.reserve(text.size());
    for (const char32_t c : text) {
        if (c == 0 || c == 0xFFFD || isControl(c))
            continue;
        if (isWhitespace(c)) {
            cleaned.push_back(' ');
        } else if (isCjk(c)) {
            cleaned.push_back(' ');
            cleaned.push_back(c);
            cleaned.push_back(' ');
        } else {
            cleaned.push_back(c);
        }
    }
    // Newer HF composes here so that one character typed two ways tokenizes the same.
    cleaned = normalize(cleaned, true);

    std::vector<std::string> out;
    size_t i = 0;
    while (i < cleaned.size()) {
        if (isPySpace(cleaned[i])) {
            ++i;
            continue;
        }
        size_t end = i;
        while (end < cleaned.size() && !isPySpace(cleaned[end]))
            ++end;
        Text word = cleaned.substr(i, end - i);
        i = end;

        const std::string utf8 = encodeUtf8(word);
        if (std::find(m_specials.begin(), m_specials.end(), utf8) != m_specials.end()) {
            out.push_back(utf8); // never_split: neither lower-cased nor split
            continue;
        }
        // strip_accents=None follows do_lower_case, as in the original BERT.
        if (m_lowerCase)
            word = stripAccents(lowerWord(word));
        splitOnPunctuation(word, out);
    }
    return out;
}

void BertTokenizer::wordpiece(const std::string &word, std::vector<std::string> &out) const
{
    // Byte offset of each code point, plus the end: the length limit and every
    // candidate substring count characters, not bytes.
    std::vector<size_t> bounds;
    for (size_t i = 0; i < word.size(); ++i) {
        if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80)
            bounds.push_back(i);
    }
    bounds.push_back(word.size());
    const size_t chars = bounds.size() - 1;
    if (chars == 0)
        return;
    if (chars > kMaxWordChars) {
        out.emplace_back(kUnkToken);
        return;
    }

    std::vector<std::string> pieces;
    std::string candidate;
    size_t start = 0;
    while (start < chars) {
        size_t end = chars;
        bool found = false;
        while (start < end) {
            candidate = start > 0 ? "##" : "";
            candidate.append(word, bounds[start], bounds[end] - bounds[start]);
            if (m_vocab.contains(candidate)) {
                found = true;
                break;
            }
            --end;
        }
        if (!found) {
            out.emplace_back(kUnkToken); // one bad position spoils the whole word
            return;
        }
        pieces.push_back(candidate);
        start = end;
    }
    out.insert(out.end(), pieces.begin(), pieces.end());
}

std::vector<int64_t> BertTokenizer::tokenizeToIds(const std::string &text) const
{
    std::vector<int64_t> ids;
    for (const std::string &tok : tokenize(text)) {
        int64_t id = m_vocab.id(tok);
        if (id < 0)
            id = m_vocab.unkId();
        if (id < 0)
            throw Error("vocabulary has no [UNK] token to stand for \"" + tok + "\"");
        ids.push_back(id);
    }
    return ids;
}

Encoding BertTokenizer::encode(const std::string &a, int maxLen) const
{
    return assemble(tokenizeToIds(a), nullptr, maxLen);
}

Encoding BertTokenizer::encodePair(const std::string &a, const std::string &b, int maxLen) const
{
    const std::vector<int64_t> bIds = tokenizeToIds(b);
    return assemble(tokenizeToIds(a), &bIds, maxLen);
}

Encoding BertTokenizer::assemble(std::vector<int64_t> a, const std::vector<int64_t> *b, int maxLen) const
{
    if (m_vocab.clsId() < 0 || m_vocab.sepId() < 0)
        throw Error("vocabulary has no [CLS] or [SEP] token to build model inputs with");
    std::vector<int64_t> second = b ? *b : std::vector<int64_t>();

    const int64_t lenA = static_cast<int64_t>(a.size());
    const int64_t lenB = static_cast<int64_t>(second.size());
    const int64_t total = lenA + lenB + (b ? 3 : 2);
    if (maxLen > 0 && total > maxLen) {
        const int64_t remove = total - maxLen;
        if (!b) {
            // HF only logs an error and leaves the sequence whole when it cannot be cut
            // far enough (maxLen <= 2); the same here.
            if (lenA > remove)
                a.resize(static_cast<size_t>(lenA - remove));
        } else {
            // truncate_sequences' closed form of "one token at a time from the longer
            // side, from the second on a tie".
            const int64_t first = std::min(lenA > lenB ? lenA - lenB : lenB - lenA, remove);
            const int64_t rest = remove - first;
            const int64_t cutA = lenA > lenB ? first + rest / 2 : rest / 2;
            const int64_t cutB = lenA > lenB ? rest - rest / 2 : first + rest - rest / 2;
            a.resize(static_cast<size_t>(std::max<int64_t>(0, lenA - cutA)));
            second.resize(static_cast<size_t>(std::max<int64_t>(0, lenB - cutB)));
        }
    }

    Encoding enc;
    enc.inputIds.reserve(a.size() + second.size() + 3);
    enc.inputIds.push_back(m_vocab.clsId());
    enc.inputIds.insert(enc.inputIds.end(), a.begin(), a.end());
    enc.inputIds.push_back(m_vocab.sepId());
    enc.tokenTypeIds.assign(enc.inputIds.size(), 0);
    if (b) {
        enc.inputIds.insert(enc.inputIds.end(), second.begin(), second.end());
        enc.inputIds.push_back(m_vocab.sepId());
        enc.tokenTypeIds.resize(enc.inputIds.size(), 1);
    }
    return enc;
}

} // namespace tl
