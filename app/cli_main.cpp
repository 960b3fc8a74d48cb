// ticketlab-cli: the headless front end of the TicketLab engine, for servers and clusters.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli_common.h"
#include "libtorch/train/device.h"
#include "util/error.h"

#include <c10/util/Exception.h>

namespace {

/// Settings that libraries read only when they load, before main(): set them here and
/// re-execute once when one is missing. Settings the user made are respected.
/// - OpenMP threads that spin after each parallel region steal the cores OpenBLAS needs for
///   the next matrix product: measured here, training runs 1.25-1.75x faster with a passive
///   wait policy (OMP_WAIT_POLICY).
/// - OpenBLAS kernels: on CPUs its version does not know, OpenBLAS picks its slowest kernels
///   (betterBlasCore(): 2-3x slower training); OPENBLAS_CORETYPE names the right ones.
void setLoadTimeEnvironment(char **argv)
{
    bool changed = false;
    if (!std::getenv("OMP_WAIT_POLICY")) {
        ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
        changed = true;
    }
    if (const std::string core = tl::betterBlasCore(); !core.empty()) {
        ::setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
        changed = true;
    }
    if (changed)
        ::execv("/proc/self/exe", argv); // returns only on failure: carry on as we are
}

} // namespace

int main(int argc, char **argv)
{
    setLoadTimeEnvironment(argv);
    // Over a file-size limit (ulimit -f) a write fails with EFBIG, as on a full disk, and the
    // run reports it, instead of the process being killed by SIGXFSZ mid-commit.
    std::signal(SIGXFSZ, SIG_IGN);
    tl::tuneAllocatorForTraining();
    CLI::App app{"TicketLab: lottery tickets in pre-trained BERT (headless engine)", "ticketlab-cli"};
    app.set_version_flag("--version", std::string("ticketlab-cli ") + TICKETLAB_VERSION);
    app.require_subcommand(1);
    tl::cli::addTextCommands(app);
    tl::cli::addTrainCommands(app);
    tl::cli::addDemoCommands(app);
    tl::cli::addRunCommands(app);
    tl::cli::addAnalyzeCommands(app);
    tl::cli::addStudyCommands(app);
    tl::cli::addMergeCommand(app);
    tl::cli::addCompactCommand(app);
    bool verbose = false;
    app.add_flag("--verbose", verbose, "On an error inside LibTorch, print its full message and stack frames");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e);
    } catch (const tl::Error &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    } catch (const c10::Error &e) {
        // LibTorch's own message: one line for the user; its frames only on request.
        std::string message = e.what_without_backtrace();
        if (!verbose && message.find('\n') != std::string::npos)
            message = message.substr(0, message.find('\n'));
        std::fprintf(stderr, "error: LibTorch: %s%s\n", verbose ? e.what() : message.c_str(),
                     verbose ? "" : " (--verbose for details)");
        return 1;
    } catch (const std::bad_alloc &) {
        std::fprintf(stderr, "error: out of memory\n");
        return 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
