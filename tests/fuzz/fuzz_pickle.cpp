// The pickle stack machine alone (the data.pkl member of a torch.save archive), so the
// fuzzer mutates opcodes without having to keep a zip archive intact around them.
#include "fuzz_common.h"
#include "io/torch_unpickler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    TLFUZZ_EXPECT_ONLY_TL_ERRORS({
        tl::TorchUnpickler unpickler(reinterpret_cast<const char *>(data), size, "fuzz/data.pkl");
        (void)unpickler.run();
    });
    return 0;
}
