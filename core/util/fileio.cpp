#include "util/fileio.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "util/error.h"

namespace tl {

std::vector<char> readFileBytes(const std::string &path)
{
    // One read of the known size: checkpoints run to gigabytes, where stream iterators crawl.
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (!f)
        throw Error(path + ": cannot open: " + std::strerror(errno));
    std::vector<char> bytes;
    if (std::fseek(f, 0, SEEK_END) == 0) {
        const long size = std::ftell(f);
        if (size > 0)
            bytes.resize(static_cast<size_t>(size));
        std::rewind(f);
    }
    const size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    if (failed || got != bytes.size())
        throw Error(path + ": read failed");
    return bytes;
}

std::string readFileText(const std::string &path)
{
    const std::vector<char> bytes = readFileBytes(path);
    return std::string(bytes.begin(), bytes.end());
}

void writeFileAtomic(const std::string &path, const char *data, size_t size)
{
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        throw Error(path + ": cannot write: " + std::strerror(errno));
    size_t done = 0;
    while (done < size) {
        const ssize_t n = ::write(fd, data + done, size - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            const std::string why = std::strerror(errno);
            ::close(fd);
            ::unlink(tmp.c_str());
            throw Error(path + ": write failed: " + why);
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw Error(path + ": fsync failed: " + why);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw Error(path + ": rename failed: " + why);
    }
}

} // namespace tl
