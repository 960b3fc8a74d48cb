#pragma once

#include <functional>
#include <string>
#include <vector>

namespace tl {

/// Whole file as bytes; throws tl::Error naming the path.
std::vector<char> readFileBytes(const std::string &path);
std::string readFileText(const std::string &path);

/// Writes through a temporary file in the same folder, fsyncs it, renames it over path and
/// fsyncs the folder, so a crash leaves either the old file or the new one, never half of one,
/// and once it returns the new one survives a power loss.
void writeFileAtomic(const std::string &path, const char *data, size_t size);
inline void writeFileAtomic(const std::string &path, const std::string &text)
{
    writeFileAtomic(path, text.data(), text.size());
}

/// An exclusive advisory lock (flock) on a lock file, held until destruction; the kernel drops
/// it when the process dies, however it dies. Processes that must not do the same work at once
/// (two runs of one spec and seed) take the same lock file.
class FileLock
{
public:
    /// Creates path (and its folder) if needed and takes the lock; waits while another process
    /// holds it, calling onWait once first and then poll() every pollMs: when poll returns false
    /// it gives up and returns an unlocked FileLock. Throws tl::Error when the file cannot be made.
    static FileLock acquire(const std::string &path, const std::function<void()> &onWait,
                            const std::function<bool()> &poll, int pollMs = 200);
    FileLock(FileLock &&other) noexcept;
    FileLock &operator=(FileLock &&other) noexcept;
    FileLock(const FileLock &) = delete;
    FileLock &operator=(const FileLock &) = delete;
    ~FileLock();
    bool locked() const { return m_fd >= 0; }

private:
    explicit FileLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

} // namespace tl
