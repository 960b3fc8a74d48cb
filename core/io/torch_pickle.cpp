#include "io/torch_pickle.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "io/safetensors.h"
#include "io/torch_unpickler.h"
#include "io/zip_reader.h"
#include "util/error.h"
#include "util/fileio.h"

namespace tl {

namespace {

using Kind = PickleValue::Kind;

// A real state dict's pickle is kilobytes (a few MiB for 50k tensors); refuse absurd
// sizes rather than let corrupt input eat memory (the unpickler caps its objects too).
constexpr size_t kMaxPickleSize = 16ull * 1024 * 1024;
// Stride-0 views may legitimately expand a storage, but not into gigabytes of floats.
constexpr int64_t kMaxExpandedNumel = int64_t(1) << 26;

// Checked a * b and a + b for a >= 0 (sizes) and any b (strides); false on overflow.
bool mulChecked(int64_t a, int64_t b, int64_t &out)
{
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
    if (a != 0 && (b > kMax / a || b < kMin / a))
        return false;
    out = a * b;
    return true;
}
bool addChecked(int64_t a, int64_t b, int64_t &out)
{
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
    if ((b > 0 && a > kMax - b) || (b < 0 && a < kMin - b))
        return false;
    out = a + b;
    return true;
}

template <typename T> T loadAt(const char *base, int64_t i)
{
    T v; // storage bytes inside the zip need not be aligned for T
    std::memcpy(&v, base + i * int64_t(sizeof(T)), sizeof(T));
    return v;
}

// Walks the view in row-major order: a tight loop over the innermost dimension, an
// odometer over the outer ones (no recursion). Dimensions of size 1 were dropped first, so
// every stride here is bounded by the storage size and the position arithmetic cannot overflow.
template <typename T, typename Conv>
void gather(const char *src, int64_t offset, const std::vector<int64_t> &shape, const std::vector<int64_t> &stride,
            float *out, int64_t numel, Conv conv)
{
    const size_t nd = shape.size();
    if (nd == 0) {
        out[0] = conv(loadAt<T>(src, offset));
        return;
    }
    const int64_t inner = shape[nd - 1];
    const int64_t innerStride = stride[nd - 1];
    std::vector<int64_t> idx(nd - 1, 0);
    int64_t pos = offset;
    for (int64_t n = 0; n < numel; n += inner) {
        int64_t p = pos;
        for (int64_t k = 0; k < inner; ++k, p += innerStride)
            out[n + k] = conv(loadAt<T>(src, p));
        for (size_t d = nd - 1; d-- > 0;) {
            pos += stride[d];
            if (++idx[d] < shape[d])
                break;
            pos -= stride[d] * shape[d];
            idx[d] = 0;
        }
    }
}

PickledTensor convertTensor(const PickleValue &t, const ZipReader &zip, const std::string &prefix,
                            const std::string &name, uint64_t &budget)
{
    const std::string where = zip.nameForErrors() + ": tensor '" + name + "': ";
    const PickleValue &st = *t.storage;
    const ZipEntry *entry = zip.find(prefix + "data/" + st.s);
    if (!entry)
        throw Error(where + "storage '" + st.s + "' (" + prefix + "data/" + st.s + ") is not in the archive");
    const char *src = zip.data(*entry);
    const int64_t elem = int64_t(dtypeSize(st.dtype));
    if (uint64_t(st.i) > entry->size / uint64_t(elem))
        throw Error(where + "storage '" + st.s + "' claims " + std::to_string(st.i) + " elements but holds " +
                    std::to_string(entry->size) + " bytes");

    PickledTensor out;
    out.shape = t.shape;
    int64_t numel = 1;
    for (int64_t n : t.shape) {
        if (!mulChecked(numel, n, numel))
            throw Error(where + "element count overflows");
    }
    if (numel == 0)
        return out;
    // The lowest and highest storage element the view touches must lie inside the storage.
    // Size-1 dimensions never move the position, so they are dropped (with any wild stride).
    std::vector<int64_t> shape, stride;
    int64_t lo = t.offset, hi = t.offset, span = 0;
    bool ok = t.offset >= 0;
    for (size_t d = 0; ok && d < t.shape.size(); ++d) {
        if (t.shape[d] == 1)
            continue;
        shape.push_back(t.shape[d]);
        stride.push_back(t.stride[d]);
        ok = mulChecked(t.shape[d] - 1, t.stride[d], span) &&
             (span < 0 ? addChecked(lo, span, lo) : addChecked(hi, span, hi));
    }
    if (!ok || lo < 0 || hi >= st.i)
        throw Error(where + "view (storage offset " + std::to_string(t.offset) + ") reaches outside its storage '" +
                    st.s + "' of " + std::to_string(st.i) + " elements");
    if (numel > st.i && numel > kMaxExpandedNumel)
        throw Error(where + "view of " + std::to_string(numel) + " elements expands a storage of " +
                    std::to_string(st.i) + "; refusing so large an allocation");
    if (uint64_t(numel) > budget)
        throw Error(where + "tensors expand to far more floats than the file holds; refusing");
    budget -= uint64_t(numel);

    out.values.resize(size_t(numel));
    float *dst = out.values.data();
    auto same = [](auto v) { return static_cast<float>(v); };
    switch (st.dtype) {
    case DType::F32:
        gather<float>(src, t.offset, shape, stride, dst, numel, same);
        break;
    case DType::F64:
        gather<double>(src, t.offset, shape, stride, dst, numel, same);
        break;
    case DType::F16:
        gather<uint16_t>(src, t.offset, shape, stride, dst, numel, halfToFloat);
        break;
    case DType::BF16:
        gather<uint16_t>(src, t.offset, shape, stride, dst, numel, bfloat16ToFloat);
        break;
    case DType::I64:
        gather<int64_t>(src, t.offset, shape, stride, dst, numel, same);
        break;
    case DType::I32:
        gather<int32_t>(src, t.offset, shape, stride, dst, numel, same);
        break;
    case DType::I16:
        gather<int16_t>(src, t.offset, shape, stride, dst, numel, same);
        break;
    case DType::I8:
        gather<int8_t>(src, t.offset, shape, stride, dst, numel, same);
        break;
    case DType::U8:
        gather<uint8_t>(src, t.offset, shape, stride, dst, numel, same);
        break;
    case DType::Bool:
        gather<uint8_t>(src, t.offset, shape, stride, dst, numel, [](uint8_t v) { return v ? 1.0f : 0.0f; });
        break;
    }
    return out;
}

} // namespace

std::map<std::string, PickledTensor> parseTorchStateDict(std::vector<char> bytes, const std::string &nameForErrors)
{
    const std::string &file = nameForErrors;
    // A legacy (pre-1.6) torch.save file is a bare pickle stream: protocol opcode first.
    if (!bytes.empty() && static_cast<unsigned char>(bytes[0]) == 0x80)
        throw Error(file + ": legacy (non-zip) torch.save format is not supported; re-save it with "
                           "PyTorch >= 1.6: torch.save(torch.load(path), path), or convert it to safetensors");
    const ZipReader zip = ZipReader::parse(std::move(bytes), file);

    // The top folder is named after the file torch.save wrote ("archive", "pytorch_model");
    // prefer a top-level <name>/data.pkl over one nested deeper.
    const std::string suffix = "/data.pkl";
    const ZipEntry *pkl = nullptr;
    for (const ZipEntry &e : zip.entries()) {
        const size_t n = e.name.size();
        if (n <= suffix.size() || e.name.compare(n - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        if (!pkl || (pkl->name.find('/') != pkl->name.size() - suffix.size() && e.name.find('/') == n - suffix.size()))
            pkl = &e;
    }
    if (!pkl)
        throw Error(file + ": zip archive has no <name>/data.pkl entry; not a torch.save file");
    const std::string prefix = pkl->name.substr(0, pkl->name.size() - suffix.size() + 1); // keeps '/'

    // Storages are raw bytes in the writer's byte order; torch only writes this entry since
    // 1.13ish, and older files were all little-endian.
    if (const ZipEntry *order = zip.find(prefix + "byteorder")) {
        std::string value(zip.data(*order), std::min<uint64_t>(order->size, 16));
        value.erase(value.find_last_not_of(" \r\n\t") + 1);
        if (value != "little")
            throw Error(file + ": storages are stored '" + value +
                        "'-endian; only little-endian torch.save files are supported");
    }
    if (pkl->size > kMaxPickleSize)
        throw Error(file + ": " + pkl->name + " is " + std::to_string(pkl->size) +
                    " bytes, too large for a state dict's pickle");

    TorchUnpickler unpickler(zip.data(*pkl), size_t(pkl->size), file + ": " + pkl->name);
    const PickleValue *root = unpickler.run();
    if (root->kind != Kind::Dict)
        throw Error(file + ": holds a " + std::string(pickleKindName(root->kind)) + ", not a dict of tensors");

    // Shared storages and stride-0 views can legitimately expand a little; a corrupt file
    // must not make us allocate without bound, so cap the total at a multiple of the file.
    uint64_t budget = 4 * uint64_t(zip.archiveSize()) + (uint64_t(1) << 26);
    std::map<std::string, PickledTensor> out;
    for (size_t k = 0; k + 1 < root->items.size(); k += 2) {
        const PickleValue &key = *root->items[k];
        const PickleValue &value = *root->items[k + 1];
        if (key.kind != Kind::Str)
            throw Error(file + ": state dict key is a " + std::string(pickleKindName(key.kind)) + ", not a str");
        if (key.s.size() > 65536) // a name, not data: refuse rather than copy megabytes per entry
            throw Error(file + ": state dict key of " + std::to_string(key.s.size()) + " bytes");
        if (value.kind != Kind::Tensor)
            throw Error(file + ": value of '" + key.s + "' is a " + pickleKindName(value.kind) +
                        ", not a tensor (nested state dicts are not supported)");
        out[key.s] = convertTensor(value, zip, prefix, key.s, budget);
    }
    return out;
}

std::map<std::string, PickledTensor> readTorchStateDict(const std::string &path)
{
    return parseTorchStateDict(readFileBytes(path), path);
}

} // namespace tl
