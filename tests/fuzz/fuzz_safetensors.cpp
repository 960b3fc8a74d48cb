// Safetensors: header (length, JSON, dtypes, offsets) and data (every tensor converted).
#include "fuzz_common.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    TLFUZZ_EXPECT_ONLY_TL_ERRORS({
        const tl::SafetensorsFile file =
            tl::SafetensorsFile::parse(std::vector<char>(data, data + size), "fuzz.safetensors");
        for (const tl::SafeTensorInfo &t : file.tensors()) {
            if (t.dtype == tl::DType::I64 || t.dtype == tl::DType::I32)
                (void)file.toInt64(t.name);
            else
                (void)file.toFloat(t.name);
        }
    });
    return 0;
}
