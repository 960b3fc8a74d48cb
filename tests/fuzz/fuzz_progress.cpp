// The CLI -> GUI progress protocol: every line of the input, as the run queue reads a child's
// stdout. A line that is not the protocol is nullopt, never an exception.
#include "fuzz_common.h"
#include "engine/progress_protocol.h"

#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::istringstream in(tlfuzz::asString(data, size));
    std::string line;
    while (std::getline(in, line)) {
        if (const auto parsed = tl::parseProgressLine(line); parsed && !parsed->done)
            (void)tl::runFractionDone(parsed->event);
    }
    return 0;
}
