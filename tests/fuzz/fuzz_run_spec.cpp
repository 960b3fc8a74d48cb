// A run spec file: parse, then the round plan and hash every run derives from it.
#include "fuzz_common.h"
#include "engine/run_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = tlfuzz::writeInput(data, size, ".json");
    TLFUZZ_EXPECT_ONLY_TL_ERRORS({
        const tl::RunSpec spec = tl::RunSpec::load(path);
        (void)spec.prune.sparsities();
        (void)spec.hash();
        (void)tl::RunSpec::fromJson(spec.toJson(), "round trip");
    });
    return 0;
}
