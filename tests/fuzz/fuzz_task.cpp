// Task files: the first byte picks the reader (the six GLUE layouts, generic TSV, generic
// JSONL), the rest is the file.
#include "fuzz_common.h"
#include "text/tasks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const char *const kTasks[] = {"CoLA", "SST-2", "MRPC", "STS-B", "RTE", "WNLI", "generic", "generic"};
    const unsigned pick = data[0] % 8;
    const std::string path = tlfuzz::writeInput(data + 1, size - 1, pick == 7 ? ".jsonl" : ".tsv");
    TLFUZZ_EXPECT_ONLY_TL_ERRORS({
        tl::TaskSpec task = tl::taskByName(kTasks[pick]);
        (void)tl::readLabelledExamples(task, path);
    });
    return 0;
}
