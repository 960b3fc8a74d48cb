#include "io/zip_writer.h"

#include <array>
#include <cstring>

#include "util/error.h"

namespace tl {

namespace {

constexpr uint32_t kMax32 = 0xffffffffu;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kPaddingExtraId = 0x4246; // "FB", PyTorch's alignment padding
constexpr uint16_t kVersion = 20;            // 2.0: stored members, folders
constexpr uint16_t kVersionZip64 = 45;
// 1980-01-01 00:00, the DOS epoch: a fixed stamp so identical masks give identical files.
constexpr uint32_t kDosTimeDate = uint32_t(0x21) << 16;

using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

CrcTables makeCrcTables()
{
    CrcTables t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
        for (size_t s = 1; s < 8; ++s)
            t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
    return t;
}

void put(std::vector<char> &out, uint64_t value, int width)
{
    for (int i = 0; i < width; ++i)
        out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

} // namespace

uint32_t crc32(const void *data, size_t size, uint32_t crc)
{
    static const CrcTables t = makeCrcTables();
    const auto *p = static_cast<const unsigned char *>(data);
    crc = ~crc;
    // Eight bytes per step (little-endian host assumed, as everywhere in our formats).
    while (size >= 8) {
        uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][hi & 0xff] ^
              t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
        p += 8;
        size -= 8;
    }
    while (size--)
        crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

ZipWriter::ZipWriter(size_t alignment) : m_alignment(alignment ? alignment : 1) {}

void ZipWriter::add(const std::string &name, const void *data, size_t size)
{
    if (name.empty() || name.size() > 0xffff)
        throw Error("zip: member name '" + name + "' is empty or too long");
    Member m;
    m.name = name;
    m.offset = m_bytes.size();
    m.size = size;
    m.crc = crc32(data, size);
    const bool zip64 = size >= kMax32;

    // Sizes go in the local header (no data descriptor): we know them before the data.
    std::vector<char> extra;
    if (zip64) {
        put(extra, kZip64ExtraId, 2);
        put(extra, 16, 2);
        put(extra, size, 8);
        put(extra, size, 8);
    }
    const uint64_t unpadded = m.offset + 30 + name.size() + extra.size() + 4;
    const uint64_t pad = (m_alignment - unpadded % m_alignment) % m_alignment;
    put(extra, kPaddingExtraId, 2);
    put(extra, pad, 2);
    extra.insert(extra.end(), size_t(pad), 'Z');

    put(m_bytes, 0x04034b50, 4);
    put(m_bytes, zip64 ? kVersionZip64 : kVersion, 2);
    put(m_bytes, 0, 2); // flags
    put(m_bytes, 0, 2); // method: STORED
    put(m_bytes, kDosTimeDate, 4);
    put(m_bytes, m.crc, 4);
    put(m_bytes, zip64 ? kMax32 : size, 4);
    put(m_bytes, zip64 ? kMax32 : size, 4);
    put(m_bytes, name.size(), 2);
    put(m_bytes, extra.size(), 2);
    m_bytes.insert(m_bytes.end(), name.begin(), name.end());
    m_bytes.insert(m_bytes.end(), extra.begin(), extra.end());
    const auto *p = static_cast<const char *>(data);
    if (size > 0)
        m_bytes.insert(m_bytes.end(), p, p + size);
    m_members.push_back(std::move(m));
}

std::vector<char> ZipWriter::finish()
{
    const uint64_t cdOffset = m_bytes.size();
    bool anyZip64 = false;
    for (const Member &m : m_members) {
        const bool bigSize = m.size >= kMax32;
        const bool bigOffset = m.offset >= kMax32;
        std::vector<char> extra;
        if (bigSize || bigOffset) {
            anyZip64 = true;
            put(extra, kZip64ExtraId, 2);
            put(extra, (bigSize ? 16 : 0) + (bigOffset ? 8 : 0), 2);
            if (bigSize) {
                put(extra, m.size, 8);
                put(extra, m.size, 8);
            }
            if (bigOffset)
                put(extra, m.offset, 8);
        }
        const uint16_t version = extra.empty() ? kVersion : kVersionZip64;
        put(m_bytes, 0x02014b50, 4);
        put(m_bytes, version, 2); // made by
        put(m_bytes, version, 2); // needed to extract
        put(m_bytes, 0, 2);       // flags
        put(m_bytes, 0, 2);       // method
        put(m_bytes, kDosTimeDate, 4);
        put(m_bytes, m.crc, 4);
        put(m_bytes, bigSize ? kMax32 : m.size, 4);
        put(m_bytes, bigSize ? kMax32 : m.size, 4);
        put(m_bytes, m.name.size(), 2);
        put(m_bytes, extra.size(), 2);
        put(m_bytes, 0, 2); // comment length
        put(m_bytes, 0, 2); // disk
        put(m_bytes, 0, 2); // internal attributes
        put(m_bytes, 0, 4); // external attributes
        put(m_bytes, bigOffset ? kMax32 : m.offset, 4);
        m_bytes.insert(m_bytes.end(), m.name.begin(), m.name.end());
        m_bytes.insert(m_bytes.end(), extra.begin(), extra.end());
    }
    const uint64_t cdSize = m_bytes.size() - cdOffset;
    const uint64_t count = m_members.size();
    anyZip64 = anyZip64 || count >= 0xffff || cdOffset >= kMax32 || cdSize >= kMax32;
    if (anyZip64) {
        const uint64_t recordOffset = m_bytes.size();
        put(m_bytes, 0x06064b50, 4);
        put(m_bytes, 44, 8); // size of the rest of this record
        put(m_bytes, kVersionZip64, 2);
        put(m_bytes, kVersionZip64, 2);
        put(m_bytes, 0, 8); // this disk, disk with the central directory
        put(m_bytes, count, 8);
        put(m_bytes, count, 8);
        put(m_bytes, cdSize, 8);
        put(m_bytes, cdOffset, 8);
        put(m_bytes, 0x07064b50, 4); // locator
        put(m_bytes, 0, 4);
        put(m_bytes, recordOffset, 8);
        put(m_bytes, 1, 4); // total disks
    }
    put(m_bytes, 0x06054b50, 4);
    put(m_bytes, 0, 4); // disks
    put(m_bytes, anyZip64 ? 0xffff : count, 2);
    put(m_bytes, anyZip64 ? 0xffff : count, 2);
    put(m_bytes, anyZip64 ? kMax32 : cdSize, 4);
    put(m_bytes, anyZip64 ? kMax32 : cdOffset, 4);
    put(m_bytes, 0, 2); // comment length
    m_members.clear();
    std::vector<char> out;
    out.swap(m_bytes);
    return out;
}

} // namespace tl
