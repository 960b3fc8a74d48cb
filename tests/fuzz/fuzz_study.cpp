// A study file: parse, then plan its runs.
#include "fuzz_common.h"
#include "study/study.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = tlfuzz::writeInput(data, size, ".json");
    TLFUZZ_EXPECT_ONLY_TL_ERRORS({
        const tl::StudySpec study = tl::StudySpec::load(path);
        (void)tl::planStudy(study);
    });
    return 0;
}
