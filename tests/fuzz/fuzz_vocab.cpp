// vocab.txt, then a tokenizer built on it tokenising a fixed sentence pair.
#include "fuzz_common.h"
#include "io/model_folder.h"
#include "text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = tlfuzz::writeInput(data, size, ".txt");
    TLFUZZ_EXPECT_ONLY_TL_ERRORS({
        // loadTokenizer reads the file through Vocab::load: one read per input.
        const tl::BertTokenizer tokenizer = tl::loadTokenizer(path);
        (void)tokenizer.encodePair("The café's 3 un-affable [MASK] cats, naïvely!", "Ünïcode 東京 text.", 32);
    });
    return 0;
}
