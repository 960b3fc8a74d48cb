// ticketlab-cli: the headless front end of the TicketLab engine, for servers and clusters.

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli_common.h"
#include "util/error.h"

int main(int argc, char **argv)
{
    CLI::App app{"TicketLab: lottery tickets in pre-trained BERT (headless engine)", "ticketlab-cli"};
    app.set_version_flag("--version", std::string("ticketlab-cli ") + TICKETLAB_VERSION);
    app.require_subcommand(1);
    tl::cli::addTextCommands(app);
    tl::cli::addTrainCommands(app);
    tl::cli::addDemoCommands(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e);
    } catch (const tl::Error &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
