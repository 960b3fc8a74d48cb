// bench-pruneorder: size and speed of the stored prune order for a BERT-base-sized model.
//
// Simulates iterative global magnitude pruning of BERT-base's 73 prunable tensors (85,524,480
// weights) on random weights: every round removes the smallest |w| among the kept weights
// until 10% more of the original count is gone, with the survivors' magnitudes drifting a
// little between rounds as retraining would move them. After every round it encodes the
// prune order, decodes it (checking it comes back exactly) and prints stored bytes, the
// order-0 entropy bound, their ratio, encode and decode seconds, plain zstd on the unpacked
// bytes for comparison, and finally one JSON line.
//
//   bench-pruneorder [--rounds 10] [--rate 0.1] [--drift 0.05] [--seed 1]

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zstd.h>

#include "bert_base_mask.h"
#include "prune/prune_order.h"
#include "util/error.h"

namespace {

double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// splitmix64: fast and good enough for synthetic magnitudes; std::mt19937 would dominate.
struct Rng
{
    uint64_t s;
    uint64_t next()
    {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }
};

size_t plainZstd(const std::vector<uint8_t> &bytes, int level)
{
    std::vector<char> out(ZSTD_compressBound(bytes.size()));
    const size_t n = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), level);
    return ZSTD_isError(n) ? 0 : n;
}

double argOr(int argc, char **argv, const char *name, double fallback)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0)
            return std::atof(argv[i + 1]);
    }
    return fallback;
}

} // namespace

int main(int argc, char **argv)
{
    const int rounds = int(argOr(argc, argv, "--rounds", 10));
    const double rate = argOr(argc, argv, "--rate", 0.1);
    const double drift = argOr(argc, argv, "--drift", 0.05);
    Rng rng{uint64_t(argOr(argc, argv, "--seed", 1))};
    if (rounds < 1 || rounds > 255 || rate <= 0 || rate * rounds > 1.0 + 1e-9) {
        std::fprintf(stderr, "usage: bench-pruneorder [--rounds 1..255] [--rate r, rounds * r <= 1] [--drift d]\n");
        return 2;
    }

    tl::MaskSet mask = bench::bertBaseDenseMask();
    tl::PruneOrder order = tl::PruneOrder::fromMask(mask);
    const size_t total = size_t(mask.total());
    // |w| of a normal with a per-tensor scale (BERT's weight std varies ~0.03-0.05 by matrix),
    // so global pruning takes more from some tensors than others, as it does on real BERT.
    std::vector<float> mag(total);
    std::vector<uint8_t *> keep(total);
    {
        std::normal_distribution<float> normal;
        std::mt19937_64 gen(rng.next());
        size_t i = 0;
        for (tl::MaskTensor &t : mask.tensors) {
            const float scale = float(0.03 + 0.02 * rng.uniform());
            for (uint8_t &k : t.keep) {
                mag[i] = std::abs(normal(gen)) * scale;
                keep[i++] = &k;
            }
        }
    }
    std::printf("BERT-base prunable weights: %zu in %zu tensors; %d rounds of %.1f%% of the original\n", total,
                mask.tensors.size(), rounds, rate * 100);
    std::printf("%5s %9s %12s %12s %7s %9s %9s %12s %12s\n", "round", "sparsity", "bytes", "entropy_B", "ratio",
                "encode_s", "decode_s", "zstd1_plain", "zstd3_plain");

    nlohmann::json results = nlohmann::json::array();
    double worstRatio = 0, worstEncode = 0, worstDecode = 0;
    bool exact = true;
    size_t pruned = 0;
    std::vector<float> kept;
    for (int round = 1; round <= rounds; ++round) {
        // Retraining moves the survivors a little between rounds.
        for (size_t i = 0; i < total; ++i) {
            if (*keep[i])
                mag[i] *= float(1.0 + drift * (2.0 * rng.uniform() - 1.0));
        }
        const size_t target = std::min(total, size_t(std::llround(rate * round * double(total))));
        const size_t need = target - pruned;
        kept.clear();
        for (size_t i = 0; i < total; ++i) {
            if (*keep[i])
                kept.push_back(mag[i]);
        }
        if (need > 0) {
            std::nth_element(kept.begin(), kept.begin() + std::ptrdiff_t(need - 1), kept.end());
            const float threshold = kept[need - 1];
            size_t below = 0;
            for (float v : kept)
                below += v < threshold;
            size_t atThreshold = need - below; // ties at the threshold go by position
            for (size_t i = 0; i < total; ++i) {
                if (*keep[i] && (mag[i] < threshold || (mag[i] == threshold && atThreshold-- > 0)))
                    *keep[i] = 0;
            }
        }
        pruned = target;
        order.record(mask, round);

        const double t0 = now();
        const std::vector<char> bytes = tl::encodePruneOrder(order);
        const double t1 = now();
        const tl::PruneOrder back = tl::decodePruneOrder(bytes, "bench");
        const double t2 = now();
        exact = exact && back.order == order.order && back.names == order.names && back.shapes == order.shapes;
        const double entropy = tl::pruneOrderEntropyBytes(order);
        const double ratio = entropy > 0 ? double(bytes.size()) / entropy : 0;
        const size_t z1 = plainZstd(order.order, 1), z3 = plainZstd(order.order, 3);
        const double sparsity = double(pruned) / double(total);
        std::printf("%5d %8.1f%% %12zu %12.0f %7.3f %9.3f %9.3f %12zu %12zu\n", round, sparsity * 100, bytes.size(),
                    entropy, ratio, t1 - t0, t2 - t1, z1, z3);
        std::fflush(stdout);
        worstRatio = std::max(worstRatio, ratio);
        worstEncode = std::max(worstEncode, t1 - t0);
        worstDecode = std::max(worstDecode, t2 - t1);
        results.push_back({{"round", round},
                           {"sparsity", sparsity},
                           {"bytes", bytes.size()},
                           {"entropy_bytes", entropy},
                           {"ratio", ratio},
                           {"encode_s", t1 - t0},
                           {"decode_s", t2 - t1},
                           {"plain_zstd1_bytes", z1},
                           {"plain_zstd3_bytes", z3}});
    }
    const bool pass = exact && worstRatio <= 1.2 && worstEncode < 1.0 && worstDecode < 1.0;
    std::printf("round trip exact: %s; worst ratio %.3f, encode %.3f s, decode %.3f s: %s\n", exact ? "yes" : "NO",
                worstRatio, worstEncode, worstDecode, pass ? "PASS" : "FAIL");
    const nlohmann::json summary = {
        {"bench", "pruneorder"},       {"weights", total},        {"tensors", mask.tensors.size()},
        {"rounds", results},           {"max_ratio", worstRatio}, {"max_encode_s", worstEncode},
        {"max_decode_s", worstDecode}, {"exact", exact},          {"pass", pass}};
    std::printf("%s\n", summary.dump().c_str());
    return pass ? 0 : 1;
}
