#include "prune/prune_order.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <new>

#include <zstd.h>

#if __has_include(<sys/mman.h>)
#include <sys/mman.h>
#endif

#include "io/zip_writer.h"
#include "util/error.h"

namespace tl {

namespace {

constexpr char kMagic[4] = {'T', 'L', 'P', 'O'};
constexpr uint32_t kVersion = 1;
// Bounds that no real model reaches; they keep a crafted header from making us allocate
// without limit before the CRC (which comes last) can be checked.
constexpr uint32_t kMaxTensors = 1u << 20;
constexpr uint32_t kMaxNameLen = 1u << 16;
constexpr uint32_t kMaxDims = 16;
constexpr uint64_t kMaxWeights = uint64_t(1) << 36;
// Level 1 measured best, not just fastest, on packed orders: uniform rounds came out 1.010x the
// entropy at levels 1, 3, 9 and 19 alike, a 90%-zero round 1.07x at level 1 but 1.17x at 3 and
// 1.15x at 9 (spurious short matches), and only level 19 beat it (1.03x) at ~100x the time.
constexpr int kZstdLevel = 1;
constexpr size_t kChunk = size_t(1) << 20; // packed bytes per step: stays in cache

// Rounds packed per byte for values 0..base-1: the most k with base^k <= 256. Packing lets
// zstd's Huffman literal coder (at least one bit per byte) approach the entropy of skewed
// early-round distributions: 90% zeros is 0.47 bits per weight, and 2.1x that unpacked.
int digitsPerByte(int base)
{
    if (base <= 1)
        return 0; // every value is 0: nothing to store
    int k = 0;
    for (int p = 1; p * base <= 256; p *= base)
        ++k;
    return k;
}

uint64_t packedSize(uint64_t count, int k)
{
    return k == 0 ? 0 : (count + uint64_t(k) - 1) / uint64_t(k);
}

// Reserves without touching. First touch of fresh memory costs a page fault per 4 KiB page,
// which on VMs outweighs all the coding here (85 MB: 0.34 s measured, 0.014 s in 2 MiB pages),
// so ask for transparent huge pages; only a hint, ignored where unsupported.
template <typename V> void reserveLarge(V &v, size_t n)
{
    v.reserve(n);
#ifdef MADV_HUGEPAGE
    constexpr uintptr_t kHuge = uintptr_t(1) << 21;
    const auto base = reinterpret_cast<uintptr_t>(v.data());
    const uintptr_t begin = (base + kHuge - 1) & ~(kHuge - 1);
    const uintptr_t end = (base + v.capacity()) & ~(kHuge - 1);
    if (end > begin)
        ::madvise(reinterpret_cast<void *>(begin), end - begin, MADV_HUGEPAGE);
#endif
}

void put(std::vector<char> &out, uint64_t value, int width)
{
    for (int i = 0; i < width; ++i)
        out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// Bounds-checked little-endian reads; truncation is an error at the byte it happens.
class Reader
{
public:
    Reader(const std::vector<char> &bytes, size_t end, const std::string &source)
        : m_bytes(bytes), m_end(end), m_source(source)
    {
    }
    [[noreturn]] void fail(const std::string &what) const { throw Error(m_source + ": prune order: " + what); }
    const char *take(uint64_t n, const char *what)
    {
        if (n > m_end - m_pos)
            fail(std::string("truncated in ") + what + " (byte " + std::to_string(m_pos) + ")");
        const char *p = m_bytes.data() + m_pos;
        m_pos += size_t(n);
        return p;
    }
    uint64_t get(int width, const char *what)
    {
        const char *p = take(uint64_t(width), what);
        uint64_t v = 0;
        for (int i = width - 1; i >= 0; --i)
            v = (v << 8) | static_cast<unsigned char>(p[i]);
        return v;
    }
    size_t pos() const { return m_pos; }

private:
    const std::vector<char> &m_bytes;
    size_t m_end;
    const std::string &m_source;
    size_t m_pos = 0;
};

int64_t numelChecked(const std::vector<int64_t> &shape, const std::string &name)
{
    uint64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0 || (d > 0 && n > kMaxWeights / uint64_t(d)))
            throw Error("prune order: tensor '" + name + "' has a bad or too large shape " + shapeToString(shape));
        n *= uint64_t(d);
    }
    return int64_t(n);
}

} // namespace

PruneOrder PruneOrder::fromMask(const MaskSet &dense)
{
    PruneOrder po;
    for (const MaskTensor &t : dense.tensors) {
        if (int64_t(t.keep.size()) != t.numel())
            throw Error("prune order: mask '" + t.name + "' holds " + std::to_string(t.keep.size()) +
                        " values for shape " + shapeToString(t.shape));
        if (std::find(t.keep.begin(), t.keep.end(), 0) != t.keep.end())
            throw Error("prune order: mask '" + t.name + "' is not dense; a prune order starts from the full model");
        po.names.push_back(t.name);
        po.shapes.push_back(t.shape);
    }
    po.order.assign(size_t(dense.total()), 0);
    return po;
}

void PruneOrder::record(const MaskSet &mask, int round)
{
    if (round < 1 || round > 255)
        throw Error("prune order: round " + std::to_string(round) + " is outside 1..255");
    const int last = rounds();
    if (round < last)
        throw Error("prune order: round " + std::to_string(round) + " recorded after round " + std::to_string(last));
    if (mask.tensors.size() != names.size())
        throw Error("prune order: mask has " + std::to_string(mask.tensors.size()) + " tensors, the order " +
                    std::to_string(names.size()));
    std::map<std::string, const MaskTensor *> byName;
    for (const MaskTensor &t : mask.tensors)
        byName[t.name] = &t;

    // Check everything before writing anything, so a bad mask leaves the order untouched.
    std::vector<const MaskTensor *> src(names.size());
    size_t offset = 0;
    for (size_t i = 0; i < names.size(); ++i) {
        const auto it = byName.find(names[i]);
        if (it == byName.end())
            throw Error("prune order: mask for '" + names[i] + "' is missing");
        const MaskTensor &t = *it->second;
        if (t.shape != shapes[i] || int64_t(t.keep.size()) != t.numel())
            throw Error("prune order: mask '" + t.name + "' has shape " + shapeToString(t.shape) + ", expected " +
                        shapeToString(shapes[i]));
        const uint8_t *o = order.data() + offset;
        for (size_t j = 0; j < t.keep.size(); ++j) {
            if (t.keep[j] != 0 && o[j] != 0)
                throw Error("prune order: mask '" + t.name + "' keeps weight " + std::to_string(j) +
                            ", pruned at round " + std::to_string(o[j]) + "; masks only shrink");
        }
        src[i] = &t;
        offset += t.keep.size();
    }
    offset = 0;
    const auto r = static_cast<uint8_t>(round);
    for (const MaskTensor *t : src) {
        uint8_t *o = order.data() + offset;
        for (size_t j = 0; j < t->keep.size(); ++j)
            o[j] = (t->keep[j] == 0 && o[j] == 0) ? r : o[j];
        offset += t->keep.size();
    }
}

MaskSet PruneOrder::maskAt(int round) const
{
    MaskSet mask;
    size_t offset = 0;
    for (size_t i = 0; i < names.size(); ++i) {
        MaskTensor t;
        t.name = names[i];
        t.shape = shapes[i];
        const size_t n = size_t(t.numel());
        if (offset + n > order.size())
            throw Error("prune order: holds fewer values than its shapes need");
        t.keep.resize(n);
        const uint8_t *o = order.data() + offset;
        for (size_t j = 0; j < n; ++j)
            t.keep[j] = (o[j] == 0 || int(o[j]) > round) ? 1 : 0;
        offset += n;
        mask.tensors.push_back(std::move(t));
    }
    return mask;
}

int PruneOrder::rounds() const
{
    return order.empty() ? 0 : int(*std::max_element(order.begin(), order.end()));
}

std::vector<char> encodePruneOrder(const PruneOrder &po)
{
    if (po.names.size() != po.shapes.size())
        throw Error("prune order: " + std::to_string(po.names.size()) + " names but " +
                    std::to_string(po.shapes.size()) + " shapes");
    uint64_t total = 0;
    std::vector<char> out(kMagic, kMagic + 4);
    put(out, kVersion, 4);
    put(out, po.names.size(), 4);
    for (size_t i = 0; i < po.names.size(); ++i) {
        if (po.names[i].size() > kMaxNameLen || po.shapes[i].size() > kMaxDims)
            throw Error("prune order: tensor '" + po.names[i] + "' has too long a name or too many dimensions");
        total += uint64_t(numelChecked(po.shapes[i], po.names[i]));
        put(out, po.names[i].size(), 4);
        out.insert(out.end(), po.names[i].begin(), po.names[i].end());
        put(out, po.shapes[i].size(), 4);
        for (int64_t d : po.shapes[i])
            put(out, uint64_t(d), 8);
    }
    if (total != po.order.size())
        throw Error("prune order: holds " + std::to_string(po.order.size()) + " values for " + std::to_string(total) +
                    " weights");
    const int base = po.rounds() + 1;
    const int k = digitsPerByte(base);
    const uint64_t packedBytes = packedSize(total, k);
    put(out, total, 8);
    put(out, uint64_t(base - 1), 1); // highest round: the packing base less one
    put(out, uint64_t(k), 1);
    put(out, 0, 2); // reserved
    const size_t sizeAt = out.size();
    put(out, 0, 8); // payload size, known once compressed
    const size_t payloadAt = out.size();
    reserveLarge(out, payloadAt + ZSTD_compressBound(size_t(packedBytes)) + 4);

    // Pack and compress a chunk at a time: whole-array intermediate buffers would cost more in
    // page faults on fresh memory than packing and compressing them does.
    std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx *)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    if (!cctx || ZSTD_isError(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, kZstdLevel)) ||
        ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx.get(), packedBytes)))
        throw Error("prune order: cannot set up zstd");
    std::vector<uint8_t> chunk(kChunk);
    std::vector<char> zout(ZSTD_CStreamOutSize());
    uint64_t packedDone = 0;
    size_t i = 0;
    for (bool last = false; !last;) {
        const size_t n = size_t(std::min<uint64_t>(kChunk, packedBytes - packedDone));
        for (size_t j = 0; j < n; ++j) {
            unsigned v = 0, scale = 1;
            for (int d = 0; d < k && i < total; ++d, ++i, scale *= unsigned(base))
                v += po.order[i] * scale;
            chunk[j] = static_cast<uint8_t>(v);
        }
        packedDone += n;
        last = packedDone == packedBytes;
        ZSTD_inBuffer in{chunk.data(), n, 0};
        for (size_t left = 1; left != 0;) {
            ZSTD_outBuffer o{zout.data(), zout.size(), 0};
            left = ZSTD_compressStream2(cctx.get(), &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(left))
                throw Error(std::string("prune order: zstd failed: ") + ZSTD_getErrorName(left));
            out.insert(out.end(), zout.data(), zout.data() + o.pos);
            if (!last && in.pos == in.size)
                break; // more input to come; zstd keeps the rest buffered
        }
    }
    const uint64_t payloadSize = out.size() - payloadAt;
    for (int b = 0; b < 8; ++b)
        out[sizeAt + size_t(b)] = static_cast<char>((payloadSize >> (8 * b)) & 0xff);
    put(out, crc32(out.data(), out.size()), 4);
    return out;
}

namespace {

/// Reads the magic, version, names and shapes into po; returns the weight count they imply.
/// Leaves `in` at the stored weight count.
uint64_t readLayout(Reader &in, PruneOrder &po)
{
    in.take(4, "magic");
    const uint64_t version = in.get(4, "version");
    if (version != kVersion)
        in.fail("version " + std::to_string(version) + " is not supported (expected " + std::to_string(kVersion) + ")");
    const uint64_t count = in.get(4, "tensor count");
    if (count > kMaxTensors)
        in.fail("tensor count " + std::to_string(count) + " is implausible");
    uint64_t total = 0;
    for (uint64_t i = 0; i < count; ++i) {
        const uint64_t len = in.get(4, "a name length");
        if (len > kMaxNameLen)
            in.fail("name length " + std::to_string(len) + " of tensor " + std::to_string(i) + " is implausible");
        std::string name(in.take(len, "a name"), size_t(len));
        const uint64_t dims = in.get(4, "a dimension count");
        if (dims > kMaxDims)
            in.fail("tensor '" + name + "' has " + std::to_string(dims) + " dimensions");
        std::vector<int64_t> shape;
        for (uint64_t d = 0; d < dims; ++d)
            shape.push_back(int64_t(in.get(8, "a shape")));
        try {
            total += uint64_t(numelChecked(shape, name));
        } catch (const Error &e) {
            in.fail(e.what());
        }
        if (total > kMaxWeights)
            in.fail("more than " + std::to_string(kMaxWeights) + " weights");
        po.names.push_back(std::move(name));
        po.shapes.push_back(std::move(shape));
    }
    return total;
}

void checkMagic(const std::vector<char> &bytes, const std::string &source)
{
    if (bytes.size() < 8 || std::memcmp(bytes.data(), kMagic, 4) != 0)
        throw Error(source + ": not a prune order file (no TLPO magic)");
}

} // namespace

int pruneOrderRounds(const std::vector<char> &bytes, const std::string &source)
{
    checkMagic(bytes, source);
    Reader in(bytes, bytes.size() - 4, source);
    PruneOrder layout;
    readLayout(in, layout);
    in.get(8, "the weight count");
    return int(in.get(1, "the round count"));
}

PruneOrder decodePruneOrder(const std::vector<char> &bytes, const std::string &source)
{
    checkMagic(bytes, source);
    // The CRC comes last and covers everything, so corruption anywhere (a name, a window size
    // zstd would not notice) is caught; structure is still checked for crafted files.
    Reader in(bytes, bytes.size() - 4, source);
    PruneOrder po;
    const uint64_t total = readLayout(in, po);
    const uint64_t storedTotal = in.get(8, "the weight count");
    const int maxRound = int(in.get(1, "the round count"));
    const int k = int(in.get(1, "the packing"));
    const uint64_t reserved = in.get(2, "the packing");
    const uint64_t payloadSize = in.get(8, "the payload size");
    if (storedTotal != total)
        in.fail("weight count " + std::to_string(storedTotal) + " differs from the shapes' " + std::to_string(total));
    const int base = maxRound + 1;
    if (k != digitsPerByte(base) || reserved != 0)
        in.fail("packing " + std::to_string(k) + " does not fit rounds 0.." + std::to_string(maxRound));
    const char *payload = in.take(payloadSize, "the compressed order");
    if (in.pos() != bytes.size() - 4)
        in.fail(std::to_string(bytes.size() - 4 - in.pos()) + " unexpected bytes after the compressed order");
    uint32_t storedCrc = 0;
    for (int i = 3; i >= 0; --i)
        storedCrc = (storedCrc << 8) | static_cast<unsigned char>(bytes[bytes.size() - 4 + size_t(i)]);
    if (crc32(bytes.data(), bytes.size() - 4) != storedCrc)
        in.fail("checksum mismatch: the file is corrupt");

    const uint64_t packedBytes = packedSize(total, k);
    if (ZSTD_findFrameCompressedSize(payload, payloadSize) != payloadSize ||
        ZSTD_getFrameContentSize(payload, payloadSize) != packedBytes)
        in.fail("compressed order is not one zstd frame of " + std::to_string(packedBytes) + " bytes");
    try {
        reserveLarge(po.order, size_t(total) + 16);
        po.order.resize(size_t(total) + 16); // spare bytes: unpacking copies whole 8-byte table rows
    } catch (const std::bad_alloc &) {
        in.fail("cannot hold " + std::to_string(total) + " weights in memory");
    }

    // One table row of k digits per byte value; rows past base^k mark invalid bytes.
    std::array<std::array<uint8_t, 8>, 256> table{};
    std::array<bool, 256> valid{};
    for (unsigned v = 0; v < 256 && k > 0; ++v) {
        unsigned rest = v;
        for (int d = 0; d < k; ++d, rest /= unsigned(base))
            table[v][size_t(d)] = static_cast<uint8_t>(rest % unsigned(base));
        valid[v] = rest == 0;
    }
    // Decompress a chunk at a time straight into the unpacker (see encodePruneOrder).
    std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx *)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!dctx)
        in.fail("cannot set up zstd");
    std::vector<uint8_t> chunk(kChunk);
    ZSTD_inBuffer zin{payload, size_t(payloadSize), 0};
    uint8_t *dst = po.order.data();
    uint64_t produced = 0;
    for (size_t left = 1; left != 0;) {
        ZSTD_outBuffer o{chunk.data(), chunk.size(), 0};
        left = ZSTD_decompressStream(dctx.get(), &o, &zin);
        if (ZSTD_isError(left))
            in.fail(std::string("cannot decompress the order: ") + ZSTD_getErrorName(left));
        if (o.pos > packedBytes - produced)
            in.fail("compressed order holds more than " + std::to_string(packedBytes) + " bytes");
        for (size_t j = 0; j < o.pos; ++j) {
            const uint8_t b = chunk[j];
            if (!valid[b])
                in.fail("packed byte " + std::to_string(produced + j) + " holds a round above " +
                        std::to_string(maxRound));
            std::memcpy(dst + (produced + j) * uint64_t(k), table[b].data(), 8);
        }
        produced += o.pos;
        if (left != 0 && zin.pos == zin.size && o.pos < o.size)
            in.fail("compressed order is truncated");
    }
    if (produced != packedBytes)
        in.fail("compressed order holds " + std::to_string(produced) + " bytes, expected " +
                std::to_string(packedBytes));
    // Digits past the last weight must be zero, or two files would mean the same order.
    for (uint64_t i = total; i < packedBytes * uint64_t(k); ++i) {
        if (po.order[size_t(i)] != 0)
            in.fail("padding after the last weight is not zero");
    }
    po.order.resize(size_t(total));
    return po;
}

double pruneOrderEntropyBytes(const PruneOrder &po)
{
    std::array<uint64_t, 256> counts{};
    for (uint8_t v : po.order)
        ++counts[v];
    const double n = double(po.order.size());
    double bits = 0;
    for (uint64_t c : counts) {
        if (c > 0)
            bits -= double(c) * std::log2(double(c) / n);
    }
    return bits / 8.0;
}

} // namespace tl
