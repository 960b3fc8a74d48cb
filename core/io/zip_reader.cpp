#include "io/zip_reader.h"

#include <algorithm>
#include <utility>

#include "util/error.h"

namespace tl {

namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr size_t kEndSize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kZip64EndSize = 56;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kLocalHeaderSize = 30;
constexpr uint32_t kMax32 = 0xffffffffu;
constexpr uint16_t kMax16 = 0xffffu;

// Little-endian loads; callers have already checked that the bytes are there.
uint64_t le(const char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i)
        v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}
uint16_t le16(const char *p)
{
    return static_cast<uint16_t>(le(p, 2));
}
uint32_t le32(const char *p)
{
    return static_cast<uint32_t>(le(p, 4));
}
uint64_t le64(const char *p)
{
    return le(p, 8);
}

// [offset, offset + len) lies inside a buffer of size total, without overflowing.
bool inside(uint64_t offset, uint64_t len, uint64_t total)
{
    return offset <= total && len <= total - offset;
}

// The ZIP64 extended-information extra field lists, in this order, only those of
// uncompressed size, compressed size and local header offset whose 32-bit field is
// 0xffffffff. A missing or short field is corrupt input. Returns false if the field
// itself is absent.
bool readZip64Extra(const char *extra, size_t extraLen, uint64_t *usize, uint64_t *csize, uint64_t *localOffset,
                    const std::string &where, const std::string &archive)
{
    size_t pos = 0;
    while (pos + 4 <= extraLen) {
        const uint16_t id = le16(extra + pos);
        const uint16_t len = le16(extra + pos + 2);
        pos += 4;
        if (len > extraLen - pos)
            throw Error(archive + ": corrupt zip: extra field of " + where + " runs past its end");
        if (id == kZip64ExtraId) {
            size_t field = pos;
            for (uint64_t *target : {usize, csize, localOffset}) {
                if (!target || *target != kMax32)
                    continue;
                if (field + 8 > pos + len)
                    throw Error(archive + ": corrupt zip: ZIP64 extra field of " + where + " is too short");
                *target = le64(extra + field);
                field += 8;
            }
            return true;
        }
        pos += len;
    }
    return false;
}

} // namespace

void ZipReader::fail(const std::string &what) const
{
    throw Error(m_name + ": " + what);
}

ZipReader ZipReader::parse(std::vector<char> bytes, const std::string &nameForErrors)
{
    ZipReader zip;
    zip.m_bytes = std::move(bytes);
    zip.m_name = nameForErrors;
    zip.readCentralDirectory();
    return zip;
}

void ZipReader::readCentralDirectory()
{
    const char *base = m_bytes.data();
    const uint64_t total = m_bytes.size();
    if (total < kEndSize)
        fail("not a zip archive (too short for an end-of-central-directory record)");

    // The end record sits at the very end unless an archive comment (at most 64 KiB)
    // follows it; scan backwards so a comment containing the signature cannot fool us
    // into skipping the real record.
    uint64_t endPos = 0;
    bool found = false;
    const uint64_t lowest = total > kEndSize + kMax16 ? total - kEndSize - kMax16 : 0;
    for (uint64_t pos = total - kEndSize + 1; pos-- > lowest;) {
        if (le32(base + pos) == kEndSig && pos + kEndSize + le16(base + pos + 20) <= total) {
            endPos = pos;
            found = true;
            break;
        }
    }
    if (!found)
        fail("not a zip archive, or a truncated one (no end-of-central-directory record)");

    uint64_t count = le16(base + endPos + 10);
    uint64_t cdSize = le32(base + endPos + 12);
    uint64_t cdOffset = le32(base + endPos + 16);

    // PyTorch always writes the ZIP64 locator and record; other writers only when a
    // 16/32-bit field overflowed. Either way the ZIP64 values win when present.
    if (endPos >= kZip64LocatorSize && le32(base + endPos - kZip64LocatorSize) == kZip64LocatorSig) {
        const uint64_t recPos = le64(base + endPos - kZip64LocatorSize + 8);
        if (!inside(recPos, kZip64EndSize, endPos) || le32(base + recPos) != kZip64EndSig)
            fail("corrupt zip: ZIP64 end-of-central-directory record missing or out of range");
        count = le64(base + recPos + 32);
        cdSize = le64(base + recPos + 40);
        cdOffset = le64(base + recPos + 48);
    } else if (count == kMax16 || cdSize == kMax32 || cdOffset == kMax32) {
        fail("corrupt zip: ZIP64 archive without its ZIP64 end-of-central-directory locator");
    }
    if (!inside(cdOffset, cdSize, endPos))
        fail("corrupt or truncated zip: central directory lies outside the file");
    // Each header is at least 46 bytes, which bounds a corrupt count before we reserve.
    if (count > cdSize / kCentralHeaderSize)
        fail("corrupt zip: central directory too small for its " + std::to_string(count) + " entries");

    m_entries.reserve(count);
    uint64_t pos = cdOffset;
    const uint64_t cdEnd = cdOffset + cdSize;
    for (uint64_t i = 0; i < count; ++i) {
        if (!inside(pos, kCentralHeaderSize, cdEnd) || le32(base + pos) != kCentralHeaderSig)
            fail("corrupt zip: central directory entry " + std::to_string(i) + " is damaged");
        const char *h = base + pos;
        const uint16_t nameLen = le16(h + 28);
        const uint16_t extraLen = le16(h + 30);
        const uint16_t commentLen = le16(h + 32);
        const uint64_t varLen = uint64_t(nameLen) + extraLen + commentLen;
        if (!inside(pos + kCentralHeaderSize, varLen, cdEnd))
            fail("corrupt zip: central directory entry " + std::to_string(i) + " runs past its end");

        ZipEntry entry;
        entry.flags = le16(h + 8);
        entry.method = le16(h + 10);
        entry.storedSize = le32(h + 20);
        entry.size = le32(h + 24);
        entry.name.assign(h + kCentralHeaderSize, nameLen);
        uint64_t localOffset = le32(h + 42);
        readZip64Extra(h + kCentralHeaderSize + nameLen, extraLen, &entry.size, &entry.storedSize, &localOffset,
                       "'" + entry.name + "'", m_name);
        resolveLocalHeader(entry, localOffset);

        if (!m_index.emplace(entry.name, m_entries.size()).second)
            fail("corrupt zip: duplicate entry '" + entry.name + "'");
        m_entries.push_back(std::move(entry));
        pos += kCentralHeaderSize + varLen;
    }
}

void ZipReader::resolveLocalHeader(ZipEntry &entry, uint64_t localOffset) const
{
    const char *base = m_bytes.data();
    const uint64_t total = m_bytes.size();
    const std::string what = "entry '" + entry.name + "'";
    if (!inside(localOffset, kLocalHeaderSize, total) || le32(base + localOffset) != kLocalHeaderSig)
        fail("corrupt or truncated zip: local header of " + what + " missing or out of range");
    const char *h = base + localOffset;
    const uint16_t nameLen = le16(h + 26);
    const uint16_t extraLen = le16(h + 28);
    const uint64_t varStart = localOffset + kLocalHeaderSize;
    if (!inside(varStart, uint64_t(nameLen) + extraLen, total))
        fail("corrupt or truncated zip: local header of " + what + " runs past the file end");
    if (std::string(h + kLocalHeaderSize, nameLen) != entry.name)
        fail("corrupt zip: local header name differs from the central directory for " + what);

    // With bit 3 set (PyTorch sets it) the sizes follow the data in a descriptor and the
    // header holds zeros; otherwise they must agree with the central directory.
    if (!(le16(h + 6) & 0x8)) {
        uint64_t csize = le32(h + 18);
        uint64_t usize = le32(h + 22);
        readZip64Extra(h + kLocalHeaderSize + nameLen, extraLen, &usize, &csize, nullptr, "the local header of " + what,
                       m_name);
        if (csize != entry.storedSize || usize != entry.size)
            fail("corrupt zip: local header sizes of " + what + " differ from the central directory");
    }

    entry.dataOffset = varStart + nameLen + extraLen;
    if (!inside(entry.dataOffset, entry.storedSize, total))
        fail("corrupt or truncated zip: data of " + what + " lies outside the file");
}

const ZipEntry *ZipReader::find(const std::string &name) const
{
    const auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : &m_entries[it->second];
}

const char *ZipReader::data(const ZipEntry &entry) const
{
    if (entry.flags & 0x1)
        fail("entry '" + entry.name + "' is encrypted, which is not supported");
    if (entry.method != 0)
        fail("entry '" + entry.name + "' is compressed (method " + std::to_string(entry.method) +
             "); only uncompressed (STORED) members are supported, as torch.save writes them");
    if (entry.storedSize != entry.size)
        fail("corrupt zip: stored entry '" + entry.name + "' has differing sizes");
    return m_bytes.data() + entry.dataOffset;
}

} // namespace tl
