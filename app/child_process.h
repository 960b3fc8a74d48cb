#pragma once

// Child processes for `study run`: start ticketlab-cli children, read their stdout lines and
// the tail of their stderr without blocking, forward signals, reap them. POSIX only (the CLI
// runs on Linux servers and clusters); the desktop app uses QProcess instead.

#include <string>
#include <vector>

#include <sys/types.h>

namespace tl::cli {

class ChildProcess
{
public:
    /// Starts argv[0] (a path) with argv; stdout and stderr are piped. Throws tl::Error when it
    /// cannot be started.
    explicit ChildProcess(const std::vector<std::string> &argv);
    ~ChildProcess(); ///< kills and reaps a child still running
    ChildProcess(const ChildProcess &) = delete;
    ChildProcess &operator=(const ChildProcess &) = delete;

    pid_t pid() const { return m_pid; }
    int stdoutFd() const { return m_out; }
    int stderrFd() const { return m_err; }

    /// Reads what is available on fd (one of the two above); complete stdout lines are
    /// returned, stderr is kept as a tail. Returns false at end of file.
    bool readAvailable(int fd, std::vector<std::string> &lines);
    /// Non-blocking: true once the child exited (then exitCode() / signalled() hold).
    bool poll();
    void terminate(); ///< SIGTERM
    void kill();      ///< SIGKILL
    bool running() const { return !m_exited; }
    int exitCode() const { return m_exitCode; }
    int termSignal() const { return m_signal; }
    /// The child's last non-empty stderr line (its error message), or a description of how it
    /// ended.
    std::string lastError() const;

private:
    pid_t m_pid = -1;
    int m_out = -1, m_err = -1;
    std::string m_outBuffer, m_errTail;
    bool m_exited = false;
    int m_exitCode = -1, m_signal = 0;
};

/// Waits up to timeoutMs for output on any of the children's open pipes.
void waitForOutput(const std::vector<ChildProcess *> &children, int timeoutMs);

/// The path of this executable (/proc/self/exe), for starting more of itself.
std::string selfExecutable();

} // namespace tl::cli
