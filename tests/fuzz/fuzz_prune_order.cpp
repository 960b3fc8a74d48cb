// The prune-order blob the store keeps for every run: the header alone (as the browser reads
// it), then the whole blob and every round's mask.
#include "fuzz_common.h"
#include "prune/prune_order.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::vector<char> bytes(data, data + size);
    TLFUZZ_EXPECT_ONLY_TL_ERRORS((void)tl::pruneOrderRounds(bytes, "fuzz blob"));
    TLFUZZ_EXPECT_ONLY_TL_ERRORS({
        const tl::PruneOrder order = tl::decodePruneOrder(bytes, "fuzz blob");
        for (int round = 0; round <= order.rounds(); ++round)
            (void)order.maskAt(round).kept();
    });
    return 0;
}
