#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tl {

/// The CRC-32 of ZIP, zlib and PNG (IEEE 802.3, reflected 0xEDB88320); pass the previous
/// result as crc to continue over more bytes. Slicing-by-8, about 2 GB/s: torch.load checks
/// it over every member, so writing a mask for a large model must not crawl here.
uint32_t crc32(const void *data, size_t size, uint32_t crc = 0);

/// Builds a ZIP archive in memory with STORED (uncompressed) members, the way torch.save and
/// numpy.savez lay theirs out: every member's data starts at a multiple of alignment (padding
/// goes into an extra field, as PyTorch does, so readers can map tensors in place). ZIP64
/// records are added only when a size or offset outgrows 32 bits.
class ZipWriter
{
public:
    explicit ZipWriter(size_t alignment = 64);

    /// Room for members of about this many bytes in all, so large archives are not copied
    /// again at every growth of the buffer.
    void reserve(size_t bytes) { m_bytes.reserve(bytes); }
    void add(const std::string &name, const void *data, size_t size);
    void add(const std::string &name, const std::string &text) { add(name, text.data(), text.size()); }
    /// Appends the central directory and returns the archive; the writer is empty afterwards.
    std::vector<char> finish();

private:
    struct Member
    {
        std::string name;
        uint64_t offset = 0; ///< of the local header
        uint64_t size = 0;
        uint32_t crc = 0;
    };
    size_t m_alignment;
    std::vector<char> m_bytes;
    std::vector<Member> m_members;
};

} // namespace tl
