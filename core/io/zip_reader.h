#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tl {

/// One member of a ZIP archive, as its central directory describes it.
struct ZipEntry
{
    std::string name;
    uint16_t method = 0; ///< 0 = STORED; anything else is compressed
    uint16_t flags = 0;
    uint64_t size = 0;       ///< uncompressed size
    uint64_t storedSize = 0; ///< compressed size (equals size for STORED)
    uint64_t dataOffset = 0; ///< where the member's bytes start, past its local header
};

/// A read-only view of an in-memory ZIP archive, enough for PyTorch's torch.save() files:
/// STORED members only, ZIP64 supported (end-of-central-directory record and extra fields
/// in both the central directory and local headers), no encryption, no multi-disk. Every
/// offset and size is bounds-checked against the bytes held, so corrupt input throws
/// tl::Error naming nameForErrors instead of reading outside the buffer.
class ZipReader
{
public:
    static ZipReader parse(std::vector<char> bytes, const std::string &nameForErrors);

    const std::vector<ZipEntry> &entries() const { return m_entries; }
    /// nullptr when absent.
    const ZipEntry *find(const std::string &name) const;
    /// The member's bytes (entry.size of them); throws tl::Error for compressed or
    /// encrypted members, since torch.save never writes those and we cannot inflate.
    const char *data(const ZipEntry &entry) const;
    size_t archiveSize() const { return m_bytes.size(); }
    const std::string &nameForErrors() const { return m_name; }

private:
    void readCentralDirectory();
    void resolveLocalHeader(ZipEntry &entry, uint64_t localOffset) const;
    [[noreturn]] void fail(const std::string &what) const;

    std::vector<char> m_bytes;
    std::string m_name;
    std::vector<ZipEntry> m_entries;
    std::map<std::string, size_t> m_index;
};

} // namespace tl
