#pragma once

#include <string>
#include <vector>

namespace tl {

/// Whole file as bytes; throws tl::Error naming the path.
std::vector<char> readFileBytes(const std::string &path);
std::string readFileText(const std::string &path);

/// Writes through a temporary file in the same folder, fsyncs it and renames it over
/// path, so a crash leaves either the old file or the new one, never half of one.
void writeFileAtomic(const std::string &path, const char *data, size_t size);
inline void writeFileAtomic(const std::string &path, const std::string &text)
{
    writeFileAtomic(path, text.data(), text.size());
}

} // namespace tl
