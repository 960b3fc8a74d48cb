// A model folder's config.json, read the way every command reads it.
#include "fuzz_common.h"
#include "model/bert_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = tlfuzz::writeInput(data, size, ".json");
    TLFUZZ_EXPECT_ONLY_TL_ERRORS({
        const tl::BertConfig config = tl::BertConfig::load(path);
        (void)config.toJson().dump();
    });
    return 0;
}
