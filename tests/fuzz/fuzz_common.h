#pragma once

// Shared by the libFuzzer harnesses (tests/fuzz). A harness feeds the fuzzer's bytes to one
// parser the way the CLI and the app do; a tl::Error (bad input, named) is the expected
// outcome for almost every input. Anything else escaping -- another exception type, a crash,
// a sanitizer report, a hang or an allocation beyond the fuzzer's limit -- is a finding.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "util/error.h"

namespace tlfuzz {

/// Parsers that only take a path get the input through this one file, rewritten for every
/// input: in TMPDIR when set, else in /dev/shm (2.5x the executions per second of a disk
/// folder), else /tmp; one folder per process.
inline std::string writeInput(const uint8_t *data, size_t size, const char *extension)
{
    static const std::string dir = [] {
        const char *tmp = std::getenv("TMPDIR");
        const std::string base = tmp && *tmp ? tmp : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        std::string pattern = base + "/tlfuzz-XXXXXX";
        if (!mkdtemp(pattern.data()))
            std::abort();
        return pattern;
    }();
    const std::string path = dir + "/input" + extension;
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f)
        std::abort();
    if (size && std::fwrite(data, 1, size, f) != size)
        std::abort();
    std::fclose(f);
    return path;
}

inline std::string asString(const uint8_t *data, size_t size)
{
    return std::string(reinterpret_cast<const char *>(data), size);
}

} // namespace tlfuzz

/// The body of LLVMFuzzerTestOneInput: runs `body`, accepting tl::Error only.
#define TLFUZZ_EXPECT_ONLY_TL_ERRORS(body)                                                                             \
    try {                                                                                                              \
        body;                                                                                                          \
    } catch (const tl::Error &) {                                                                                      \
    }
