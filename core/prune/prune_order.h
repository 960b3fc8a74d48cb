#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "prune/mask_set.h"

namespace tl {

/// The prune order of an iterative-pruning run: for every prunable weight, the round at which
/// it was pruned (0 = survives so far). One byte array holds every round's mask, since masks
/// only shrink: mask_k = (order == 0) || (order > k). Storing this instead of one mask per
/// round costs a fraction of a single mask on disk.
struct PruneOrder
{
    std::vector<std::string> names;
    std::vector<std::vector<int64_t>> shapes;
    std::vector<uint8_t> order; ///< concatenated in names order; rounds up to 255

    /// All zero, layout (names, shapes, order) from the mask, which must be dense: a weight
    /// pruned before round 1 has no round to record.
    static PruneOrder fromMask(const MaskSet &dense);
    /// Weights kept before but not in this mask get `round` (1..255, not below rounds(), so
    /// re-recording the last round after a resume is harmless). The mask must cover exactly
    /// these parameters with these shapes (any tensor order). A weight that comes back is an
    /// error: masks only shrink.
    void record(const MaskSet &maskAfterRound, int round);
    MaskSet maskAt(int round) const;
    int rounds() const; ///< highest round recorded (the largest order value)
    int64_t total() const { return int64_t(order.size()); }
};

/// Self-describing bytes: magic, version, names, shapes, then the order packed several
/// rounds to a byte (mixed radix, base rounds()+1) and zstd-compressed, and a CRC-32 over
/// everything. Throws tl::Error when names, shapes and order disagree.
std::vector<char> encodePruneOrder(const PruneOrder &order);
/// The highest round (PruneOrder::rounds()) from the header alone, without decompressing:
/// cheap enough to call for every run of a lab. Throws tl::Error for a truncated or foreign
/// header; the rest of the bytes is not checked (decodePruneOrder does that).
int pruneOrderRounds(const std::vector<char> &bytes, const std::string &source);
/// Strict: any truncation, corruption or inconsistency is a tl::Error naming source.
PruneOrder decodePruneOrder(const std::vector<char> &bytes, const std::string &source);
/// Shannon entropy of the order values (order-0, i.i.d. model) times their count, in bytes:
/// the bound an encoder that ignores position can approach.
double pruneOrderEntropyBytes(const PruneOrder &order);

} // namespace tl
