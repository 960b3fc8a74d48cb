#pragma once

// 64-bit FNV-1a: the one hash behind spec hashes (RunSpec::hash) and content hashes of model
// and data files (contentHash). Not cryptographic: it tells "the same bytes" apart from
// "different bytes" for experiment bookkeeping.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace tl {

class Fnv1a
{
public:
    void update(const void *data, size_t n)
    {
        const auto *p = static_cast<const unsigned char *>(data);
        for (size_t i = 0; i < n; ++i)
            m_h = (m_h ^ p[i]) * 0x100000001b3ull;
    }
    void update(unsigned char byte) { update(&byte, 1); }
    uint64_t value() const { return m_h; }
    /// 16 lowercase hex digits.
    std::string hex() const
    {
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(m_h));
        return buf;
    }

private:
    uint64_t m_h = 0xcbf29ce484222325ull;
};

} // namespace tl
