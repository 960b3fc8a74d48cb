#include "util/fileio.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
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
    // The rename lives in the folder: sync it too, or a power loss can bring the old file back.
    std::string folder = std::filesystem::path(path).parent_path().string();
    if (folder.empty())
        folder = ".";
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0 || ::fsync(dir) != 0) {
        const std::string why = std::strerror(errno);
        if (dir >= 0)
            ::close(dir);
        throw Error(path + ": fsync of its folder failed: " + why);
    }
    ::close(dir);
}

FileLock FileLock::acquire(const std::string &path, const std::function<void()> &onWait,
                           const std::function<bool()> &poll, int pollMs)
{
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!folder.empty())
        std::filesystem::create_directories(folder, ec);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        throw Error(path + ": cannot create the lock file: " + std::strerror(errno));
    bool waited = false;
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK) {
            const std::string why = std::strerror(errno);
            ::close(fd);
            throw Error(path + ": cannot lock: " + why);
        }
        if (!waited && onWait)
            onWait();
        waited = true;
        if (poll && !poll()) {
            ::close(fd);
            return FileLock(-1);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(pollMs));
    }
    return FileLock(fd);
}

FileLock::FileLock(FileLock &&other) noexcept : m_fd(other.m_fd)
{
    other.m_fd = -1;
}

FileLock &FileLock::operator=(FileLock &&other) noexcept
{
    if (this != &other) {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = other.m_fd;
        other.m_fd = -1;
    }
    return *this;
}

FileLock::~FileLock()
{
    if (m_fd >= 0)
        ::close(m_fd); // closing the last descriptor drops the flock
}

} // namespace tl
