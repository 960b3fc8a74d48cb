// Mask files in any of the three formats (safetensors, torch.save, npz), told apart by
// content as `import-mask` does.
#include "fuzz_common.h"
#include "prune/mask_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = tlfuzz::writeInput(data, size, ".mask");
    TLFUZZ_EXPECT_ONLY_TL_ERRORS({
        const tl::MaskSet mask = tl::readMaskFile(path);
        (void)mask.sparsity();
    });
    return 0;
}
