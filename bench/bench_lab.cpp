// bench-lab: what a 500-run study costs outside training. Prints, then one JSON line:
//   - the planner: planStudy() + planStatuses() for a study of --runs runs;
//   - SLURM-style stores: --runs store files, each one finished IMP run of BERT-base shape (10
//     rounds; its prune order is the real encoding of 85,524,480 weights, about 35 MB), written;
//   - merge: every store into one lab (mergeStore, one transaction per run), and a second merge
//     (idempotent: nothing added);
//   - opening the lab: the store-level reads the desktop app does to list it (runs, rounds,
//     round counts from the prune-order headers) with this process's resident memory before and
//     after (VmRSS), which must not grow with the prune orders it has not drawn.
//
//   bench-lab --out DIR [--runs 500] [--keep]
// DIR needs room for twice --runs x 35 MB (17.5 GB at 500). The files are removed unless --keep.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bert_base_mask.h"
#include "analysis/analysis.h"
#include "prune/prune_order.h"
#include "store/experiment_store.h"
#include "store/merge.h"
#include "study/study.h"

namespace fs = std::filesystem;

namespace {

double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

long rssKb()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::atol(line.c_str() + 6);
    return -1;
}

/// Ten rounds of random 10%-of-the-original pruning: the order has IMP's entropy.
std::vector<char> bertBasePruneOrder()
{
    tl::MaskSet mask = bench::bertBaseDenseMask();
    tl::PruneOrder order = tl::PruneOrder::fromMask(mask);
    uint64_t s = 12345;
    auto next = [&] {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        return s >> 33;
    };
    for (int round = 1; round <= 9; ++round) {
        // Each kept weight goes with probability 1 / (remaining rounds to 10) of the original.
        const double p = 1.0 / double(11 - round);
        for (tl::MaskTensor &t : mask.tensors)
            for (auto &k : t.keep)
                if (k && double(next() % 1000000) / 1e6 < p)
                    k = 0;
        order.record(mask, round);
    }
    return tl::encodePruneOrder(order);
}

} // namespace

int main(int argc, char **argv)
{
    std::string out;
    int runs = 500;
    bool keep = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--keep"))
            keep = true;
        else {
            std::fprintf(stderr, "usage: bench-lab --out DIR [--runs 500] [--keep]\n");
            return 2;
        }
    }
    if (out.empty() || runs < 1) {
        std::fprintf(stderr, "usage: bench-lab --out DIR [--runs 500] [--keep]\n");
        return 2;
    }
    try {
        fs::create_directories(fs::path(out) / "stores");

        // A study of about `runs` runs: tasks x seeds x (IMP + 4 baselines) = 10 x ceil(runs/50) x 5.
        const int seeds = std::max(1, (runs + 49) / 50);
        nlohmann::json j = {{"name", "bench"},
                            {"model", "/models/bert-base"},
                            {"seeds", nlohmann::json::array()},
                            {"tasks", nlohmann::json::object()}};
        for (int s = 0; s < seeds; ++s)
            j["seeds"].push_back(s);
        for (const char *t : {"CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI", "MNLI-MM"})
            j["tasks"][t] = std::string("/glue/") + t;
        double t0 = now();
        const tl::StudySpec study = tl::StudySpec::fromJson(j, "bench");
        const auto plan = tl::planStudy(study);
        const double planSeconds = now() - t0;

        std::printf("encoding a BERT-base prune order (85,524,480 weights, 9 rounds)...\n");
        std::fflush(stdout);
        const std::vector<char> blob = bertBasePruneOrder();
        std::printf("prune order: %.1f MB\n", blob.size() / 1e6);

        t0 = now();
        const int n = std::min<int>(runs, static_cast<int>(plan.size()));
        std::vector<std::string> files;
        for (int i = 0; i < n; ++i) {
            const tl::PlannedRun &p = plan[size_t(i)];
            const std::string file = (fs::path(out) / "stores" / (tl::keyFileName(p.key) + ".db")).string();
            fs::remove(file);
            auto store = tl::ExperimentStore::open(file);
            tl::RunRecord r;
            r.kind = p.kind == tl::RunKind::Transfer ? tl::RunKind::Imp : p.kind; // stores hold no source runs here
            r.status = "running";
            r.specJson = p.spec.toJson().dump();
            r.specHash = p.spec.hash();
            r.seed = p.seed;
            r.task = p.task;
            r.device = "cpu";
            r.modelId = store->upsertModel({0, "/models/bert-base", R"({"num_attention_heads": 12})", "b"});
            const int64_t id = store->createRun(r);
            for (int k = 0; k <= 9; ++k) {
                tl::RoundRecord round;
                round.runId = id;
                round.round = k;
                round.sparsity = 0.1 * k;
                round.devMetricsJson =
                    nlohmann::json{{"accuracy", 0.8 - 0.01 * k}, {tl::kMainMetric, 0.8 - 0.01 * k}}.dump();
                std::vector<tl::CurvePoint> curve;
                for (int step = 0; step < 100; ++step)
                    curve.push_back({k, step * 10, 0.7, 2e-5});
                store->commitRound(round, curve, k == 9 ? &blob : nullptr);
            }
            store->setRunStatus(id, "done");
            files.push_back(file);
            if ((i + 1) % 50 == 0) {
                std::printf("  %d stores written\n", i + 1);
                std::fflush(stdout);
            }
        }
        const double writeSeconds = now() - t0;

        const std::string labPath = (fs::path(out) / "lab.db").string();
        fs::remove(labPath);
        t0 = now();
        tl::MergeReport first;
        {
            auto lab = tl::ExperimentStore::open(labPath);
            for (const std::string &f : files) {
                auto from = tl::ExperimentStore::open(f);
                const tl::MergeReport r = tl::mergeStore(*lab, *from);
                first.added += r.added;
            }
        }
        const double mergeSeconds = now() - t0;
        t0 = now();
        tl::MergeReport second;
        {
            auto lab = tl::ExperimentStore::open(labPath);
            for (const std::string &f : files) {
                auto from = tl::ExperimentStore::open(f);
                const tl::MergeReport r = tl::mergeStore(*lab, *from);
                second.added += r.added;
                second.identical += r.identical;
            }
        }
        const double remergeSeconds = now() - t0;

        double statusSeconds = 0;
        {
            auto lab = tl::ExperimentStore::open(labPath);
            t0 = now();
            const auto status = tl::planStatuses(*lab, plan);
            statusSeconds = now() - t0;
        }

        // What the app does to list a lab: runs, rounds, round counts from the prune-order headers.
        const long rssBefore = rssKb();
        t0 = now();
        size_t rounds = 0;
        int maxRounds = 0;
        {
            auto lab = tl::ExperimentStore::open(labPath);
            t0 = now();
            const auto all = lab->runs();
            for (const tl::RunRecord &r : all) {
                rounds += lab->rounds(r.id).size();
                maxRounds = std::max(maxRounds, tl::storedMaskRounds(*lab, r.id));
            }
        }
        const double openSeconds = now() - t0;
        const long rssAfter = rssKb();
        const double labGb = double(fs::file_size(labPath)) / 1e9;

        std::printf("planner: %zu runs planned in %.3f s; their status in the merged lab in %.3f s\n", plan.size(),
                    planSeconds, statusSeconds);
        std::printf("stores: %d written in %.1f s\n", n, writeSeconds);
        std::printf("merge: %d runs in %.1f s (%.2f s/run); again: %d added, %d identical in %.1f s; lab %.2f GB\n",
                    first.added, mergeSeconds, mergeSeconds / n, second.added, second.identical, remergeSeconds, labGb);
        std::printf("open (list runs, rounds and round counts): %.2f s, %zu rounds, RSS %.0f -> %.0f MB\n", openSeconds,
                    rounds, rssBefore / 1024.0, rssAfter / 1024.0);
        std::printf("%s\n", nlohmann::json{{"planned", plan.size()},
                                           {"plan_s", planSeconds},
                                           {"status_s", statusSeconds},
                                           {"stores", n},
                                           {"prune_order_mb", blob.size() / 1e6},
                                           {"merge_s", mergeSeconds},
                                           {"remerge_s", remergeSeconds},
                                           {"remerge_added", second.added},
                                           {"lab_gb", labGb},
                                           {"open_s", openSeconds},
                                           {"open_rss_mb_before", rssBefore / 1024.0},
                                           {"open_rss_mb_after", rssAfter / 1024.0}}
                                .dump()
                                .c_str());
        if (!keep)
            fs::remove_all(out);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "bench-lab: %s\n", e.what());
        return 1;
    }
    return 0;
}
