// A torch.save() file (pytorch_model.bin): the zip archive, the pickle, the storages and views.
#include "fuzz_common.h"
#include "io/torch_pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    TLFUZZ_EXPECT_ONLY_TL_ERRORS(
        (void)tl::parseTorchStateDict(std::vector<char>(data, data + size), "fuzz/pytorch_model.bin"));
    return 0;
}
