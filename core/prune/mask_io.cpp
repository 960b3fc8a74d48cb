#include "prune/mask_io.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <cstdint>
#include <iterator>
#include <set>

#include "io/safetensors.h"
#include "io/torch_pickle.h"
#include "io/zip_reader.h"
#include "io/zip_writer.h"
#include "util/error.h"
#include "util/fileio.h"

namespace tl {

namespace {

const std::string kSuffix = "_mask";

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

bool endsWith(const std::string &s, const std::string &tail)
{
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Writers take any MaskSet a caller built, so check it cannot produce a file we would refuse.
void checkWritable(const MaskSet &mask, const std::string &path)
{
    std::set<std::string> names;
    for (const MaskTensor &t : mask.tensors) {
        if (t.name.empty() || !names.insert(t.name).second)
            throw Error(path + ": mask name '" + t.name + "' is empty or appears twice");
        for (int64_t d : t.shape) {
            if (d < 0)
                throw Error(path + ": mask '" + t.name + "' has a negative dimension");
        }
        if (int64_t(t.keep.size()) != t.numel())
            throw Error(path + ": mask '" + t.name + "' holds " + std::to_string(t.keep.size()) + " values for shape " +
                        shapeToString(t.shape));
    }
}

void keepAsFloat(const MaskTensor &t, std::vector<float> &out)
{
    out.resize(t.keep.size());
    std::transform(t.keep.begin(), t.keep.end(), out.begin(), [](uint8_t k) { return k ? 1.0f : 0.0f; });
}

// --- torch.save (pickle protocol 2, as torch.save writes it, minus the memo) -------------

class Pickler
{
public:
    void op(char c) { m_out.push_back(c); }
    void ops(const char *codes) { m_out += codes; }
    void global(const char *module, const char *name)
    {
        op('c');
        m_out += std::string(module) + "\n" + name + "\n";
    }
    void str(const std::string &s)
    {
        op('X'); // BINUNICODE
        le(s.size(), 4);
        m_out += s;
    }
    void integer(int64_t v)
    {
        if (v >= 0 && v < 256) {
            op('K'); // BININT1
            le(uint64_t(v), 1);
        } else if (v >= 0 && v < 65536) {
            op('M'); // BININT2
            le(uint64_t(v), 2);
        } else if (v >= INT32_MIN && v <= INT32_MAX) {
            op('J'); // BININT
            le(uint64_t(v), 4);
        } else {
            op('\x8a'); // LONG1: 8 bytes of two's complement always suffice
            le(8, 1);
            le(uint64_t(v), 8);
        }
    }
    void intTuple(const std::vector<int64_t> &values)
    {
        op('(');
        for (int64_t v : values)
            integer(v);
        op('t');
    }
    std::string take() { return std::move(m_out); }

private:
    void le(uint64_t v, int width)
    {
        for (int i = 0; i < width; ++i)
            m_out.push_back(char((v >> (8 * i)) & 0xff));
    }
    std::string m_out;
};

void writePt(const MaskSet &mask, const std::string &path)
{
    // OrderedDict(name -> _rebuild_tensor_v2((storage pid), 0, shape, stride, False, OrderedDict()))
    Pickler p;
    p.ops("\x80\x02"); // PROTO 2
    p.global("collections", "OrderedDict");
    p.ops(")R("); // OrderedDict(), MARK
    for (size_t i = 0; i < mask.tensors.size(); ++i) {
        const MaskTensor &t = mask.tensors[i];
        p.str(t.name + kSuffix);
        p.global("torch._utils", "_rebuild_tensor_v2");
        p.ops("((");
        p.str("storage");
        p.global("torch", "FloatStorage");
        p.str(std::to_string(i));
        p.str("cpu");
        p.integer(t.numel());
        p.ops("tQ"); // TUPLE, BINPERSID
        p.integer(0);
        p.intTuple(t.shape);
        std::vector<int64_t> stride(t.shape.size(), 1);
        for (size_t d = t.shape.size(); d-- > 1;)
            stride[d - 1] = stride[d] * t.shape[d];
        p.intTuple(stride);
        p.op('\x89'); // NEWFALSE: requires_grad
        p.global("collections", "OrderedDict");
        p.ops(")RtR"); // backward hooks, the arguments tuple, the rebuild call
    }
    p.ops("u."); // SETITEMS, STOP

    // Member data, headers with alignment padding, central directory entries.
    size_t estimate = 4096 + size_t(mask.total()) * sizeof(float);
    for (const MaskTensor &t : mask.tensors)
        estimate += 256 + t.name.size();
    ZipWriter zip;
    zip.reserve(estimate);
    zip.add("archive/data.pkl", p.take());
    zip.add("archive/byteorder", std::string("little"));
    std::vector<float> values; // one buffer for all tensors: fresh memory is slow to touch
    for (size_t i = 0; i < mask.tensors.size(); ++i) {
        keepAsFloat(mask.tensors[i], values);
        zip.add("archive/data/" + std::to_string(i), values.data(), values.size() * sizeof(float));
    }
    zip.add("archive/version", std::string("3\n"));
    const std::vector<char> bytes = zip.finish();
    writeFileAtomic(path, bytes.data(), bytes.size());
}

// --- NumPy ---------------------------------------------------------------------------------

std::string npyHeader(const std::vector<int64_t> &shape)
{
    std::string dims;
    for (int64_t d : shape)
        dims += std::to_string(d) + ", ";
    if (shape.size() > 1)
        dims.erase(dims.size() - 2); // (768, 3072), but (768,) for one dimension
    else if (shape.size() == 1)
        dims.pop_back();
    std::string dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (" + dims + "), }";
    // Magic (6), version (2), length (2), then the dict padded with spaces to a newline that
    // ends on a 64-byte boundary, as NumPy pads it, so the array data is aligned.
    const size_t total = (10 + dict.size() + 1 + 63) / 64 * 64;
    dict.append(total - 10 - dict.size() - 1, ' ');
    dict.push_back('\n');
    std::string out("\x93NUMPY\x01\x00", 8);
    out.push_back(char(dict.size() & 0xff));
    out.push_back(char(dict.size() >> 8));
    return out + dict;
}

void writeNpz(const MaskSet &mask, const std::string &path)
{
    ZipWriter zip;
    zip.reserve(size_t(mask.total()) + mask.tensors.size() * 512 + 4096);
    std::string member;
    for (const MaskTensor &t : mask.tensors) {
        member = npyHeader(t.shape);
        const size_t header = member.size();
        member.resize(header + t.keep.size());
        for (size_t j = 0; j < t.keep.size(); ++j)
            member[header + j] = t.keep[j] ? 1 : 0;
        zip.add(t.name + ".npy", member);
    }
    const std::vector<char> bytes = zip.finish();
    writeFileAtomic(path, bytes.data(), bytes.size());
}

// --- reading -------------------------------------------------------------------------------

// Values to keep bytes; returns the index of the first value that is not exactly 0 or 1, or n.
template <typename T> size_t keepFrom(const char *p, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; ++i) {
        T v;
        std::memcpy(&v, p + i * sizeof(T), sizeof(T)); // file data need not be aligned for T
        if (!(v == T(0) || v == T(1)))
            return i;
        out[i] = v == T(1) ? 1 : 0;
    }
    return n;
}

// Half floats compare by bits: +0, -0 and 1.0 (0x3C00 in F16, 0x3F80 in BF16).
template <uint16_t One> size_t keepFromHalf(const char *p, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; ++i) {
        uint16_t bits;
        std::memcpy(&bits, p + 2 * i, 2);
        if ((bits & 0x7fff) != 0 && bits != One)
            return i;
        out[i] = bits == One ? 1 : 0;
    }
    return n;
}

using KeepFn = size_t (*)(const char *, size_t, uint8_t *);
const std::pair<DType, KeepFn> kKeepFns[] = {{DType::F32, keepFrom<float>},      {DType::F64, keepFrom<double>},
                                             {DType::F16, keepFromHalf<0x3C00>}, {DType::BF16, keepFromHalf<0x3F80>},
                                             {DType::I64, keepFrom<int64_t>},    {DType::I32, keepFrom<int32_t>},
                                             {DType::I16, keepFrom<int16_t>},    {DType::I8, keepFrom<int8_t>},
                                             {DType::U8, keepFrom<uint8_t>},     {DType::Bool, keepFrom<uint8_t>}};

// Raw little-endian values of any dtype to keep bytes; anything but 0 or 1 is an error naming
// the key (where).
std::vector<uint8_t> toKeep(DType dtype, const char *p, size_t n, const std::string &where)
{
    std::vector<uint8_t> keep(n);
    const auto fn = std::find_if(std::begin(kKeepFns), std::end(kKeepFns), [&](auto &f) { return f.first == dtype; });
    if (fn == std::end(kKeepFns))
        throw Error(where + ": dtype " + dtypeName(dtype) + " is not supported in a mask");
    const size_t bad = fn->second(p, n, keep.data());
    if (bad != n)
        throw Error(where + ": value at index " + std::to_string(bad) + " is not 0 or 1; not a mask");
    return keep;
}

// Appends a tensor under its parameter name; a file holding both "x" and "x_mask" is ambiguous.
void addTensor(MaskSet &mask, std::set<std::string> &seen, const std::string &key, std::vector<int64_t> shape,
               std::vector<uint8_t> keep, const std::string &path)
{
    MaskTensor t;
    t.name = endsWith(key, kSuffix) ? key.substr(0, key.size() - kSuffix.size()) : key;
    if (t.name.empty() || !seen.insert(t.name).second)
        throw Error(path + ": mask key '" + key + "' names parameter '" + t.name + "' twice");
    t.shape = std::move(shape);
    t.keep = std::move(keep);
    mask.tensors.push_back(std::move(t));
}

MaskSet readPt(std::vector<char> bytes, const std::string &path)
{
    MaskSet mask;
    std::set<std::string> seen;
    // The reader converts every storage type to float32, exactly for 0 and 1. Each tensor's
    // floats are released once converted, so the peak is one float copy, not two.
    for (auto &[key, tensor] : parseTorchStateDict(std::move(bytes), path)) {
        std::vector<uint8_t> keep = toKeep(DType::F32, reinterpret_cast<const char *>(tensor.values.data()),
                                           tensor.values.size(), path + ": mask '" + key + "'");
        std::vector<float>().swap(tensor.values);
        addTensor(mask, seen, key, tensor.shape, std::move(keep), path);
    }
    return mask;
}

MaskSet readSafetensors(std::vector<char> bytes, const std::string &path)
{
    SafetensorsFile file;
    try {
        file = SafetensorsFile::parse(std::move(bytes), path);
    } catch (const Error &e) {
        throw Error(path + ": not a mask file (expected safetensors, a torch.save .pt or a NumPy .npz): " + e.what());
    }
    MaskSet mask;
    std::set<std::string> seen;
    for (const SafeTensorInfo &t : file.tensors()) {
        std::vector<uint8_t> keep = toKeep(t.dtype, file.data(t), size_t(t.numel()), path + ": mask '" + t.name + "'");
        addTensor(mask, seen, t.name, t.shape, std::move(keep), path);
    }
    return mask;
}

struct NpyDtype
{
    const char *descr;
    DType dtype;
};
constexpr NpyDtype kNpyDtypes[] = {
    {"|u1", DType::U8},  {"|b1", DType::Bool}, {"|i1", DType::I8},  {"<i2", DType::I16}, {"<i4", DType::I32},
    {"<i8", DType::I64}, {"<f2", DType::F16},  {"<f4", DType::F32}, {"<f8", DType::F64},
};

// The header is a Python dict literal; NumPy always writes these three keys and nothing
// nested but the shape tuple, so a targeted scan is enough (and refuses anything else).
std::string npyField(const std::string &dict, const std::string &key, const std::string &where)
{
    const size_t at = dict.find("'" + key + "':");
    if (at == std::string::npos)
        throw Error(where + ": NPY header has no '" + key + "'");
    size_t p = at + key.size() + 3;
    while (p < dict.size() && dict[p] == ' ')
        ++p;
    const size_t end = dict.find_first_of(dict[p] == '(' ? ")" : ",}", p);
    if (end == std::string::npos)
        throw Error(where + ": NPY header's '" + key + "' is malformed");
    return dict.substr(p, end - p + (dict[p] == '(' ? 1 : 0));
}

MaskTensor readNpy(const ZipReader &zip, const ZipEntry &entry, const std::string &path)
{
    const std::string key = entry.name.substr(0, entry.name.size() - 4);
    const std::string where = path + ": mask '" + key + "'";
    const char *p = zip.data(entry);
    const uint64_t size = entry.size;
    if (size < 10 || std::memcmp(p, "\x93NUMPY", 6) != 0)
        throw Error(where + ": " + entry.name + " is not an NPY array");
    const int major = static_cast<unsigned char>(p[6]);
    const uint64_t lenBytes = major == 1 ? 2 : 4;
    if (major < 1 || major > 3 || size < 8 + lenBytes)
        throw Error(where + ": NPY version " + std::to_string(major) + " is not supported");
    uint64_t headerLen = 0;
    for (uint64_t i = lenBytes; i-- > 0;)
        headerLen = (headerLen << 8) | static_cast<unsigned char>(p[8 + i]);
    const uint64_t dataStart = 8 + lenBytes + headerLen;
    if (dataStart > size)
        throw Error(where + ": NPY header runs past the member's end");
    const std::string dict(p + 8 + lenBytes, size_t(headerLen));

    const std::string descr = npyField(dict, "descr", where);
    const NpyDtype *type = nullptr;
    for (const NpyDtype &d : kNpyDtypes) {
        if (descr == "'" + std::string(d.descr) + "'")
            type = &d;
    }
    if (!type)
        throw Error(where + ": NPY dtype " + descr + " is not supported (use uint8, bool or little-endian float)");
    if (npyField(dict, "fortran_order", where) != "False")
        throw Error(where + ": Fortran-ordered arrays are not supported");

    MaskTensor t;
    std::string dims = npyField(dict, "shape", where);
    std::replace(dims.begin(), dims.end(), ',', ' ');
    size_t pos = 1;
    uint64_t numel = 1;
    while (pos + 1 < dims.size()) {
        if (dims[pos] == ' ') {
            ++pos;
            continue;
        }
        size_t used = 0;
        long long d = -1;
        try {
            d = std::stoll(dims.substr(pos), &used);
        } catch (const std::exception &) {
        }
        if (d < 0 || (d > 0 && numel > (uint64_t(1) << 48) / uint64_t(d)))
            throw Error(where + ": NPY shape " + npyField(dict, "shape", where) + " is malformed");
        numel *= uint64_t(d);
        t.shape.push_back(d);
        pos += used;
    }
    const size_t elem = dtypeSize(type->dtype);
    if (size - dataStart != numel * elem)
        throw Error(where + ": holds " + std::to_string(size - dataStart) + " data bytes, shape " +
                    shapeToString(t.shape) + " needs " + std::to_string(numel * elem));
    t.name = key;
    t.keep = toKeep(type->dtype, p + dataStart, size_t(numel), where);
    return t;
}

MaskSet readNpz(const ZipReader &zip, const std::string &path)
{
    MaskSet mask;
    std::set<std::string> seen;
    for (const ZipEntry &e : zip.entries()) {
        if (!endsWith(e.name, ".npy"))
            throw Error(path + ": npz member '" + e.name + "' is not an .npy array");
        MaskTensor t = readNpy(zip, e, path);
        addTensor(mask, seen, t.name, std::move(t.shape), std::move(t.keep), path);
    }
    return mask;
}

} // namespace

MaskFormat maskFormatFromName(const std::string &name)
{
    const std::string n = lower(name);
    if (n == "safetensors")
        return MaskFormat::Safetensors;
    if (n == "pt" || n == "pth" || n == "torch")
        return MaskFormat::Pt;
    if (n == "npz")
        return MaskFormat::Npz;
    throw Error("unknown mask format '" + name + "' (expected safetensors, pt or npz)");
}

MaskFormat maskFormatFromPath(const std::string &path)
{
    const std::string p = lower(path);
    if (endsWith(p, ".safetensors"))
        return MaskFormat::Safetensors;
    if (endsWith(p, ".pt") || endsWith(p, ".pth") || endsWith(p, ".bin"))
        return MaskFormat::Pt;
    if (endsWith(p, ".npz"))
        return MaskFormat::Npz;
    throw Error(path + ": cannot tell the mask format from the extension (use .safetensors, .pt or .npz)");
}

const char *maskFormatName(MaskFormat format)
{
    static const char *const kNames[] = {"safetensors", "pt", "npz"}; // in MaskFormat's order
    return kNames[static_cast<int>(format)];
}

void writeMaskFile(const MaskSet &mask, const std::string &path, MaskFormat format)
{
    checkWritable(mask, path);
    if (format == MaskFormat::Pt)
        return writePt(mask, path);
    if (format == MaskFormat::Npz)
        return writeNpz(mask, path);
    std::vector<std::vector<float>> values;
    std::vector<SafeTensorOut> out;
    values.reserve(mask.tensors.size()); // SafeTensorOut points into these
    for (const MaskTensor &t : mask.tensors) {
        keepAsFloat(t, values.emplace_back());
        out.push_back({t.name + kSuffix, DType::F32, t.shape, values.back().data()});
    }
    writeSafetensors(path, out, {{"format", "pt"}}); // "pt" as Hugging Face marks torch-made files
}

MaskSet readMaskFile(const std::string &path)
{
    std::vector<char> bytes = readFileBytes(path);
    const bool zip = bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K' &&
                     ((bytes[2] == 3 && bytes[3] == 4) || (bytes[2] == 5 && bytes[3] == 6));
    if (!bytes.empty() && static_cast<unsigned char>(bytes[0]) == 0x80)
        return readPt(std::move(bytes), path); // legacy torch.save: the reader explains what to do
    if (!zip)
        return readSafetensors(std::move(bytes), path);
    // torch.save always writes <name>/data.pkl first; going straight to its reader saves
    // reading a model-sized file twice.
    if (bytes.size() >= 30 && bytes[2] == 3) {
        const size_t len = size_t(uint8_t(bytes[26])) | size_t(uint8_t(bytes[27])) << 8;
        if (30 + len <= bytes.size() && endsWith(std::string(bytes.data() + 30, len), "/data.pkl"))
            return readPt(std::move(bytes), path);
    }
    {
        const ZipReader archive = ZipReader::parse(std::move(bytes), path);
        const auto &entries = archive.entries();
        if (std::any_of(entries.begin(), entries.end(), [](const ZipEntry &e) { return endsWith(e.name, ".npy"); }))
            return readNpz(archive, path);
        if (std::none_of(entries.begin(), entries.end(),
                         [](const ZipEntry &e) { return endsWith(e.name, "/data.pkl"); }))
            throw Error(path + ": a zip archive but neither a NumPy .npz nor a torch.save file; not a mask file");
    }
    // Another writer's member order: the archive took the bytes, so read them again.
    return readPt(readFileBytes(path), path);
}

} // namespace tl
