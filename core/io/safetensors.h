#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tl {

enum class DType
{
    F32,
    F16,
    BF16,
    F64,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool
};

const char *dtypeName(DType dtype);
size_t dtypeSize(DType dtype);

/// One tensor of a safetensors file.
struct SafeTensorInfo
{
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    size_t begin = 0; ///< byte offset into the data section
    size_t end = 0;
    int64_t numel() const;
};

/// A parsed safetensors file (u64 LE header length, JSON header, raw little-endian data),
/// held in memory. Validation is strict and every failure throws tl::Error naming the file
/// and the tensor: header length beyond the file, bad JSON, unknown dtype, offsets out of
/// range, overlapping or leaving holes, byte size not matching shape x dtype, duplicate names.
class SafetensorsFile
{
public:
    static SafetensorsFile read(const std::string &path);
    static SafetensorsFile parse(std::vector<char> bytes, const std::string &nameForErrors);

    const std::vector<SafeTensorInfo> &tensors() const { return m_tensors; }
    const std::map<std::string, std::string> &metadata() const { return m_metadata; }
    bool contains(const std::string &name) const;
    const SafeTensorInfo &info(const std::string &name) const; ///< throws tl::Error when absent
    const char *data(const SafeTensorInfo &t) const { return m_bytes.data() + m_dataStart + t.begin; }
    /// Any floating or integer dtype converted to float32.
    std::vector<float> toFloat(const std::string &name) const;
    std::vector<int64_t> toInt64(const std::string &name) const;

private:
    std::vector<char> m_bytes;
    size_t m_dataStart = 0;
    std::vector<SafeTensorInfo> m_tensors;
    std::map<std::string, std::string> m_metadata;
    std::string m_path;
};

/// A tensor to write: data points at numel * dtypeSize bytes, little-endian.
struct SafeTensorOut
{
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const void *data = nullptr;
};

/// Writes a safetensors file, tensors sorted by name as Hugging Face does, header padded
/// to 8 bytes. Written atomically (temporary file, fsync, rename); throws tl::Error.
void writeSafetensors(const std::string &path, const std::vector<SafeTensorOut> &tensors,
                      const std::map<std::string, std::string> &metadata = {});

/// Half-precision conversions (round to nearest even), exposed for tests.
float halfToFloat(uint16_t h);
float bfloat16ToFloat(uint16_t h);
uint16_t floatToHalf(float f);
uint16_t floatToBfloat16(float f);

} // namespace tl
