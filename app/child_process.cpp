#include "child_process.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/error.h"

extern char **environ;

namespace tl::cli {

ChildProcess::ChildProcess(const std::vector<std::string> &argv)
{
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
        throw Error(std::string("pipe: ") + std::strerror(errno));
    if (::pipe2(err, O_CLOEXEC) != 0) {
        ::close(out[0]);
        ::close(out[1]);
        throw Error(std::string("pipe: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    // The child must not die of a SIGINT meant for the parent's terminal before it can stop
    // cleanly: the parent forwards SIGTERM itself. A new process group keeps Ctrl-C away.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    std::vector<char *> args;
    for (const std::string &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    const int rc = ::posix_spawn(&m_pid, argv.front().c_str(), &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    ::close(err[1]);
    if (rc != 0) {
        ::close(out[0]);
        ::close(err[0]);
        throw Error(argv.front() + ": cannot start: " + std::strerror(rc));
    }
    m_out = out[0];
    m_err = err[0];
    ::fcntl(m_out, F_SETFL, ::fcntl(m_out, F_GETFL) | O_NONBLOCK);
    ::fcntl(m_err, F_SETFL, ::fcntl(m_err, F_GETFL) | O_NONBLOCK);
}

ChildProcess::~ChildProcess()
{
    if (!m_exited && m_pid > 0) {
        ::kill(m_pid, SIGKILL);
        ::waitpid(m_pid, nullptr, 0);
    }
    if (m_out >= 0)
        ::close(m_out);
    if (m_err >= 0)
        ::close(m_err);
}

bool ChildProcess::readAvailable(int fd, std::vector<std::string> &lines)
{
    if (fd < 0)
        return false;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            if (fd == m_out) {
                m_outBuffer.append(buf, static_cast<size_t>(n));
                size_t nl;
                while ((nl = m_outBuffer.find('\n')) != std::string::npos) {
                    lines.push_back(m_outBuffer.substr(0, nl));
                    m_outBuffer.erase(0, nl + 1);
                }
            } else {
                m_errTail.append(buf, static_cast<size_t>(n));
                if (m_errTail.size() > 16384)
                    m_errTail.erase(0, m_errTail.size() - 16384);
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        // End of file (or a read error): close our end.
        if (fd == m_out) {
            if (!m_outBuffer.empty())
                lines.push_back(std::move(m_outBuffer));
            m_outBuffer.clear();
            ::close(m_out);
            m_out = -1;
        } else {
            ::close(m_err);
            m_err = -1;
        }
        return false;
    }
}

bool ChildProcess::poll()
{
    if (m_exited)
        return true;
    int status = 0;
    const pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r != m_pid)
        return false;
    m_exited = true;
    if (WIFEXITED(status))
        m_exitCode = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        m_signal = WTERMSIG(status);
    return true;
}

void ChildProcess::terminate()
{
    if (!m_exited)
        ::kill(m_pid, SIGTERM);
}

void ChildProcess::kill()
{
    if (!m_exited)
        ::kill(m_pid, SIGKILL);
}

std::string ChildProcess::lastError() const
{
    size_t end = m_errTail.find_last_not_of(" \r\n\t");
    if (end != std::string::npos) {
        const size_t start = m_errTail.rfind('\n', end);
        std::string line = m_errTail.substr(start == std::string::npos ? 0 : start + 1,
                                            end + 1 - (start == std::string::npos ? 0 : start + 1));
        if (line.rfind("error: ", 0) == 0)
            line.erase(0, 7);
        return line;
    }
    if (m_signal)
        return std::string("killed by signal ") + std::to_string(m_signal) + " (" + ::strsignal(m_signal) + ")";
    return "exited with code " + std::to_string(m_exitCode);
}

void waitForOutput(const std::vector<ChildProcess *> &children, int timeoutMs)
{
    std::vector<pollfd> fds;
    for (ChildProcess *c : children) {
        if (c->stdoutFd() >= 0)
            fds.push_back({c->stdoutFd(), POLLIN, 0});
        if (c->stderrFd() >= 0)
            fds.push_back({c->stderrFd(), POLLIN, 0});
    }
    if (fds.empty()) {
        ::usleep(static_cast<useconds_t>(timeoutMs) * 1000);
        return;
    }
    ::poll(fds.data(), fds.size(), timeoutMs);
}

std::string selfExecutable()
{
    std::error_code ec;
    const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string("ticketlab-cli") : p.string();
}

} // namespace tl::cli
