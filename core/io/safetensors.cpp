#include "io/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/fileio.h"

namespace tl {

namespace {

using nlohmann::json;

// A header this large is a corrupt length, not a real model; refuse before parsing it.
constexpr uint64_t kMaxHeaderSize = 100ull * 1024 * 1024;

struct DTypeEntry
{
    DType dtype;
    const char *name;
    size_t size;
};

constexpr DTypeEntry kDTypes[] = {
    {DType::F32, "F32", 4}, {DType::F16, "F16", 2},   {DType::BF16, "BF16", 2}, {DType::F64, "F64", 8},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4},   {DType::I16, "I16", 2},   {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::Bool, "BOOL", 1},
};

const DTypeEntry *dtypeFromName(const std::string &name)
{
    for (const DTypeEntry &e : kDTypes) {
        if (name == e.name)
            return &e;
    }
    return nullptr;
}

template <typename T> T loadAt(const char *base, int64_t i)
{
    // memcpy because tensor data inside the file need not be aligned for T.
    T v;
    std::memcpy(&v, base + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    return v;
}

// numel x elemSize with overflow checks (dims already non-negative); false when too big.
bool checkedByteSize(const std::vector<int64_t> &shape, size_t elemSize, size_t &bytes)
{
    bytes = 0;
    // A zero dimension anywhere makes the tensor empty even if other dims would overflow.
    if (std::find(shape.begin(), shape.end(), 0) != shape.end())
        return true;
    int64_t n = 1;
    for (int64_t d : shape) {
        if (__builtin_mul_overflow(n, d, &n))
            return false;
    }
    return !__builtin_mul_overflow(static_cast<uint64_t>(n), static_cast<uint64_t>(elemSize), &bytes);
}

float floatFromBits(uint32_t bits)
{
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

uint32_t bitsOfFloat(float f)
{
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits;
}

std::string quoteName(const std::string &s)
{
    return "'" + s + "'";
}

// nlohmann keeps only one of two equal keys, which would hide a corrupt or ambiguous header,
// so the parser callback records every key per object and remembers the first repeat.
struct DuplicateKeyFinder
{
    struct Level
    {
        std::set<std::string> keys;
        std::string owner; // the key this object is the value of ("" at top level)
    };
    std::vector<Level> stack;
    std::string lastKey;
    std::string message; // empty while no duplicate was seen

    bool operator()(int /*depth*/, json::parse_event_t event, json &parsed)
    {
        switch (event) {
        case json::parse_event_t::object_start:
            stack.push_back({{}, stack.empty() ? std::string() : lastKey});
            break;
        case json::parse_event_t::object_end:
            if (!stack.empty())
                stack.pop_back();
            break;
        case json::parse_event_t::key:
            lastKey = parsed.get<std::string>();
            if (!stack.empty() && !stack.back().keys.insert(lastKey).second && message.empty()) {
                if (stack.size() == 1)
                    message = "duplicate tensor name " + quoteName(lastKey);
                else
                    message = "tensor " + quoteName(stack[1].owner) + ": duplicate key " + quoteName(lastKey);
            }
            break;
        default:
            break;
        }
        return true;
    }
};

const DTypeEntry &dtypeEntry(DType dtype)
{
    for (const DTypeEntry &e : kDTypes) {
        if (e.dtype == dtype)
            return e;
    }
    static const DTypeEntry unknown{DType::F32, "?", 0};
    return unknown;
}

// Every element as Out: integers are cast, floating values (widened to double, which is
// exact for F32/F16/BF16) go through fromFloat so toInt64 can refuse NaN and overflow.
template <typename Out, typename FromFloat>
std::vector<Out> convertElements(const SafeTensorInfo &t, const char *p, FromFloat fromFloat)
{
    std::vector<Out> out(static_cast<size_t>(t.numel()));
    for (size_t k = 0; k < out.size(); ++k) {
        const auto i = static_cast<int64_t>(k);
        switch (t.dtype) {
        case DType::F32:
            out[k] = fromFloat(loadAt<float>(p, i), i);
            break;
        case DType::F16:
            out[k] = fromFloat(halfToFloat(loadAt<uint16_t>(p, i)), i);
            break;
        case DType::BF16:
            out[k] = fromFloat(bfloat16ToFloat(loadAt<uint16_t>(p, i)), i);
            break;
        case DType::F64:
            out[k] = fromFloat(loadAt<double>(p, i), i);
            break;
        case DType::I64:
            out[k] = static_cast<Out>(loadAt<int64_t>(p, i));
            break;
        case DType::I32:
            out[k] = static_cast<Out>(loadAt<int32_t>(p, i));
            break;
        case DType::I16:
            out[k] = static_cast<Out>(loadAt<int16_t>(p, i));
            break;
        case DType::I8:
            out[k] = static_cast<Out>(loadAt<int8_t>(p, i));
            break;
        case DType::U8:
            out[k] = static_cast<Out>(loadAt<uint8_t>(p, i));
            break;
        case DType::Bool:
            out[k] = static_cast<Out>(loadAt<uint8_t>(p, i) != 0 ? 1 : 0);
            break;
        }
    }
    return out;
}

std::vector<SafeTensorInfo>::const_iterator findTensor(const std::vector<SafeTensorInfo> &tensors,
                                                       const std::string &name)
{
    auto it = std::lower_bound(tensors.begin(), tensors.end(), name,
                               [](const SafeTensorInfo &t, const std::string &n) { return t.name < n; });
    return it != tensors.end() && it->name == name ? it : tensors.end();
}

} // namespace

const char *dtypeName(DType dtype)
{
    return dtypeEntry(dtype).name;
}
size_t dtypeSize(DType dtype)
{
    return dtypeEntry(dtype).size;
}

int64_t SafeTensorInfo::numel() const
{
    // Checked first so [huge, huge, 0] (valid and empty) never overflows the product.
    if (std::find(shape.begin(), shape.end(), 0) != shape.end())
        return 0;
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return n;
}

SafetensorsFile SafetensorsFile::read(const std::string &path)
{
    return parse(readFileBytes(path), path);
}

SafetensorsFile SafetensorsFile::parse(std::vector<char> bytes, const std::string &nameForErrors)
{
    const std::string &file = nameForErrors;
    auto fail = [&file](const std::string &what) -> Error { return Error(file + ": safetensors: " + what); };
    auto failTensor = [&file](const std::string &name, const std::string &what) -> Error {
        return Error(file + ": safetensors: tensor " + quoteName(name) + ": " + what);
    };

    if (bytes.size() < 8)
        throw fail("file is " + std::to_string(bytes.size()) + " bytes, shorter than the 8-byte header length");
    uint64_t headerSize = 0; // little-endian on disk and, by assumption, on the host
    std::memcpy(&headerSize, bytes.data(), 8);
    if (headerSize > bytes.size() - 8)
        throw fail("header length " + std::to_string(headerSize) + " goes beyond the file (" +
                   std::to_string(bytes.size()) + " bytes)");
    if (headerSize > kMaxHeaderSize)
        throw fail("header length " + std::to_string(headerSize) + " is absurdly large");

    const char *headerBegin = bytes.data() + 8;
    DuplicateKeyFinder dups;
    json header;
    try {
        header = json::parse(headerBegin, headerBegin + headerSize, std::ref(dups));
    } catch (const json::exception &e) {
        throw fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!header.is_object())
        throw fail("header is not a JSON object");
    if (!dups.message.empty())
        throw fail(dups.message);

    SafetensorsFile result;
    result.m_path = file;
    result.m_dataStart = 8 + static_cast<size_t>(headerSize);
    const size_t dataSize = bytes.size() - result.m_dataStart;

    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string &name = it.key();
        const json &entry = it.value();
        if (name == "__metadata__") {
            if (!entry.is_object())
                throw fail("__metadata__ is not an object");
            for (auto m = entry.begin(); m != entry.end(); ++m) {
                if (!m.value().is_string())
                    throw fail("__metadata__ value " + quoteName(m.key()) + " is not a string");
                result.m_metadata[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        if (!entry.is_object())
            throw failTensor(name, "entry is not an object");
        for (const char *key : {"dtype", "shape", "data_offsets"}) {
            if (!entry.contains(key))
                throw failTensor(name, std::string("missing \"") + key + "\"");
        }

        SafeTensorInfo info;
        info.name = name;
        const json &dtype = entry["dtype"];
        if (!dtype.is_string())
            throw failTensor(name, "\"dtype\" is not a string");
        const DTypeEntry *known = dtypeFromName(dtype.get<std::string>());
        if (!known)
            throw failTensor(name, "unknown dtype " + quoteName(dtype.get<std::string>()));
        info.dtype = known->dtype;

        const json &shape = entry["shape"];
        if (!shape.is_array())
            throw failTensor(name, "\"shape\" is not an array");
        for (const json &d : shape) {
            // nlohmann stores non-negative integers as unsigned, negative ones as signed.
            if (d.is_number_unsigned()) {
                const uint64_t v = d.get<uint64_t>();
                if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                    throw failTensor(name, "dimension " + std::to_string(v) + " is too large");
                info.shape.push_back(static_cast<int64_t>(v));
            } else if (d.is_number_integer()) {
                throw failTensor(name, "negative dimension " + std::to_string(d.get<int64_t>()));
            } else {
                throw failTensor(name, "\"shape\" holds a non-integer " + d.dump());
            }
        }

        const json &offsets = entry["data_offsets"];
        if (!offsets.is_array() || offsets.size() != 2)
            throw failTensor(name, "\"data_offsets\" is not an array of two integers");
        uint64_t off[2];
        for (size_t i = 0; i < 2; ++i) {
            if (!offsets[i].is_number_unsigned())
                throw failTensor(name, "\"data_offsets\" holds " + offsets[i].dump() + ", not a non-negative integer");
            off[i] = offsets[i].get<uint64_t>();
        }
        if (off[0] > off[1])
            throw failTensor(name, "data_offsets begin " + std::to_string(off[0]) + " is after end " +
                                       std::to_string(off[1]));
        if (off[1] > dataSize)
            throw failTensor(name, "data_offsets end " + std::to_string(off[1]) + " is beyond the data section (" +
                                       std::to_string(dataSize) + " bytes)");
        info.begin = static_cast<size_t>(off[0]);
        info.end = static_cast<size_t>(off[1]);

        size_t expected = 0;
        if (!checkedByteSize(info.shape, dtypeSize(info.dtype), expected))
            throw failTensor(name, "shape x dtype size overflows");
        if (info.end - info.begin != expected)
            throw failTensor(name, "holds " + std::to_string(info.end - info.begin) + " bytes but shape x " +
                                       dtypeName(info.dtype) + " needs " + std::to_string(expected));
        result.m_tensors.push_back(std::move(info));
    }

    // The tensors must tile the data section exactly, as safetensors itself demands: an
    // overlap means two tensors alias, a hole or tail means bytes nobody accounts for.
    std::vector<const SafeTensorInfo *> byOffset;
    for (const SafeTensorInfo &t : result.m_tensors)
        byOffset.push_back(&t);
    std::sort(byOffset.begin(), byOffset.end(),
              [](const auto *a, const auto *b) { return std::tie(a->begin, a->end) < std::tie(b->begin, b->end); });
    size_t cursor = 0;
    const SafeTensorInfo *previous = nullptr;
    for (const SafeTensorInfo *t : byOffset) {
        if (t->begin < cursor)
            throw failTensor(t->name, "overlaps tensor " + quoteName(previous->name));
        if (t->begin > cursor)
            throw failTensor(t->name, "leaves a hole of " + std::to_string(t->begin - cursor) +
                                          " bytes before it in the data section");
        cursor = t->end;
        previous = t;
    }
    if (cursor != dataSize)
        throw fail("data section is " + std::to_string(dataSize) + " bytes but tensors cover " +
                   std::to_string(cursor));

    // nlohmann objects iterate in key order, so m_tensors is sorted by name for lookups.
    result.m_bytes = std::move(bytes);
    return result;
}

bool SafetensorsFile::contains(const std::string &name) const
{
    return findTensor(m_tensors, name) != m_tensors.end();
}

const SafeTensorInfo &SafetensorsFile::info(const std::string &name) const
{
    auto it = findTensor(m_tensors, name);
    if (it == m_tensors.end())
        throw Error(m_path + ": safetensors: no tensor " + quoteName(name));
    return *it;
}

std::vector<float> SafetensorsFile::toFloat(const std::string &name) const
{
    const SafeTensorInfo &t = info(name);
    return convertElements<float>(t, data(t), [](double d, int64_t) { return static_cast<float>(d); });
}

std::vector<int64_t> SafetensorsFile::toInt64(const std::string &name) const
{
    const SafeTensorInfo &t = info(name);
    // Casting NaN or an out-of-range double to int64 is undefined, so floats are checked.
    return convertElements<int64_t>(t, data(t), [&](double d, int64_t i) {
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
            throw Error(m_path + ": safetensors: tensor " + quoteName(name) + ": element " + std::to_string(i) + " (" +
                        std::to_string(d) + ") is not an integer");
        return static_cast<int64_t>(d);
    });
}

void writeSafetensors(const std::string &path, const std::vector<SafeTensorOut> &tensors,
                      const std::map<std::string, std::string> &metadata)
{
    auto fail = [&path](const std::string &what) -> Error { return Error(path + ": safetensors: " + what); };
    std::vector<const SafeTensorOut *> sorted;
    for (const SafeTensorOut &t : tensors)
        sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(), [](const auto *a, const auto *b) { return a->name < b->name; });

    // ordered_json keeps Hugging Face's layout: __metadata__ first, then dtype, shape,
    // data_offsets per tensor, so files diff cleanly against ones written by safetensors.
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) {
        nlohmann::ordered_json meta = nlohmann::ordered_json::object();
        for (const auto &[k, v] : metadata)
            meta[k] = v;
        header["__metadata__"] = std::move(meta);
    }
    std::vector<size_t> sizes;
    size_t offset = 0;
    for (size_t i = 0; i < sorted.size(); ++i) {
        const SafeTensorOut &t = *sorted[i];
        if (t.name == "__metadata__")
            throw fail("tensor name '__metadata__' is reserved");
        if (i > 0 && sorted[i - 1]->name == t.name)
            throw fail("duplicate tensor name " + quoteName(t.name));
        for (int64_t d : t.shape) {
            if (d < 0)
                throw fail("tensor " + quoteName(t.name) + ": negative dimension " + std::to_string(d));
        }
        size_t bytes = 0;
        if (!checkedByteSize(t.shape, dtypeSize(t.dtype), bytes))
            throw fail("tensor " + quoteName(t.name) + ": shape x dtype size overflows");
        if (bytes > 0 && !t.data)
            throw fail("tensor " + quoteName(t.name) + ": no data");
        header[t.name] = {
            {"dtype", dtypeName(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        sizes.push_back(bytes);
        offset += bytes;
    }

    std::string headerText;
    try {
        headerText = header.dump();
    } catch (const nlohmann::json::exception &e) {
        throw fail(std::string("cannot encode header: ") + e.what());
    }
    // Pad so the data section starts 8-byte aligned, letting readers map it in place.
    headerText.append((8 - headerText.size() % 8) % 8, ' ');

    std::vector<char> out(8 + headerText.size() + offset);
    const uint64_t headerSize = headerText.size(); // little-endian host assumed
    std::memcpy(out.data(), &headerSize, 8);
    std::memcpy(out.data() + 8, headerText.data(), headerText.size());
    char *dst = out.data() + 8 + headerText.size();
    for (size_t i = 0; i < sorted.size(); ++i) {
        if (sizes[i] > 0)
            std::memcpy(dst, sorted[i]->data, sizes[i]);
        dst += sizes[i];
    }
    writeFileAtomic(path, out.data(), out.size());
}

float halfToFloat(uint16_t h)
{
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    const uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0) {
        // Zero or subnormal: mantissa x 2^-24 is exact in float.
        const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
        return sign ? -magnitude : magnitude;
    }
    if (exponent == 31) // inf, or NaN keeping its payload
        return floatFromBits(sign | 0x7f800000u | (mantissa << 13));
    return floatFromBits(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

float bfloat16ToFloat(uint16_t h)
{
    return floatFromBits(static_cast<uint32_t>(h) << 16);
}

uint16_t floatToHalf(float f)
{
    const uint32_t x = bitsOfFloat(f);
    const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
    const uint32_t absx = x & 0x7fffffffu;
    if (absx > 0x7f800000u) // NaN: stay NaN (quiet bit set so a payload of 0 is not inf)
        return static_cast<uint16_t>(sign | 0x7e00u | ((absx >> 13) & 0x3ffu));
    if (absx >= 0x477ff000u) // >= 65520 rounds past 65504 (odd mantissa) to inf
        return static_cast<uint16_t>(sign | 0x7c00u);
    if (absx < 0x38800000u) {
        // Below 2^-14: half subnormal, value = round(mantissa x 2^(e-126)).
        const uint32_t e = absx >> 23;
        const uint32_t shift = 126 - e;
        if (e == 0 || shift > 24)
            return sign; // under half the smallest subnormal
        const uint32_t m = (absx & 0x7fffffu) | 0x800000u;
        uint32_t q = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1);
        const uint32_t halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (q & 1u)))
            ++q; // may carry into the smallest normal, whose bits follow on naturally
        return static_cast<uint16_t>(sign | q);
    }
    uint32_t bits = (((absx >> 23) - 112) << 10) | ((absx >> 13) & 0x3ffu);
    const uint32_t rem = absx & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (bits & 1u)))
        ++bits; // a mantissa carry correctly bumps the exponent
    return static_cast<uint16_t>(sign | bits);
}

uint16_t floatToBfloat16(float f)
{
    uint32_t x = bitsOfFloat(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) // NaN: truncating could clear the payload into inf
        return static_cast<uint16_t>((x >> 16) | 0x0040u);
    // Round to nearest even: adding 0x7fff plus the lowest kept bit carries exactly on ties.
    x += 0x7fffu + ((x >> 16) & 1u);
    return static_cast<uint16_t>(x >> 16);
}

} // namespace tl
