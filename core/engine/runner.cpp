#include "engine/runner.h"

#include <chrono>
#include <filesystem>
#include <optional>

#include "engine/run_spec.h"
#include "engine/run_context.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "prune/mask_io.h"
#include "prune/mask_set.h"
#include "prune/prune_order.h"
#include "prune/pruner.h"
#include "store/experiment_store.h"
#include "train/device.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace tl {

uint64_t roundSeed(uint64_t runSeed, int round)
{
    // splitmix64 of (seed, round): well mixed, and the same on every platform.
    uint64_t z = runSeed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(round) + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFFull;
}

namespace {

/// The sparsity of every round: round 0 dense, then the schedule.
std::vector<double> roundSparsities(const RunSpec &spec, const std::optional<PruneOrder> &source, int sourceRound)
{
    if (spec.kind == "full")
        return {0.0};
    if (spec.kind == "transfer")
        return {};
    if ((spec.kind == "reinit" || spec.kind == "shuffle") && source) {
        std::vector<double> s;
        for (int r = 0; r <= source->rounds(); ++r)
            s.push_back(source->maskAt(r).sparsity());
        return s;
    }
    std::vector<double> s{0.0};
    for (double x : spec.prune.sparsities())
        s.push_back(x);
    return s;
}

class SeedRun
{
public:
    SeedRun(const RunSpec &spec, uint64_t seed, ExperimentStore &store, const RunEventFn &onEvent)
        : m_spec(spec), m_seed(seed), m_store(store), m_onEvent(onEvent), m_ctx(spec)
    {
    }

    /// Returns false when cancelled.
    bool execute(int64_t &runId);

private:
    bool emit(RunEvent e)
    {
        e.runId = m_runId;
        e.seed = m_seed;
        return !m_onEvent || m_onEvent(e);
    }
    std::string checkpointPath(int round) const;
    void loadSource();
    MaskSet maskForRound(int round, const std::vector<double> &sparsities);
    void initialiseWeights(int round, int previousRound);
    void saveHead(int round);
    void loadHead(int round);

    const RunSpec &m_spec;
    uint64_t m_seed;
    ExperimentStore &m_store;
    const RunEventFn &m_onEvent;
    RunContext m_ctx;
    int64_t m_runId = 0;
    std::optional<PruneOrder> m_order;
    std::optional<PruneOrder> m_source;  ///< the IMP run whose masks reinit / shuffle / transfer use
    std::optional<MaskSet> m_sourceMask; ///< transfer from a mask file or one round
    int m_sourceRound = 0;
};

std::string SeedRun::checkpointPath(int round) const
{
    // Beside the database: <db>.checkpoints/run-<id>-round-<k>.safetensors
    const fs::path dir = fs::path(m_store.path() + ".checkpoints");
    return (dir / ("run-" + std::to_string(m_runId) + "-round-" + std::to_string(round) + ".safetensors")).string();
}

void SeedRun::loadSource()
{
    if (!m_spec.source)
        return;
    const SourceSpec &src = *m_spec.source;
    ParamShapes expected;
    for (const auto &[name, t] : m_ctx.prunable())
        expected.emplace_back(name, t.sizes().vec());
    if (src.fromFile()) {
        m_sourceMask = alignMask(readMaskFile(src.maskFile), expected, src.maskFile);
        return;
    }
    const auto blob = m_store.pruneOrder(src.run);
    if (!blob)
        throw Error(m_store.path() + ": run " + std::to_string(src.run) + " has no stored masks");
    m_source = decodePruneOrder(*blob, "run " + std::to_string(src.run));
    m_sourceRound = src.round;
    if (m_spec.kind == "transfer") {
        if (src.round < 0 || src.round > m_source->rounds())
            throw Error("source round " + std::to_string(src.round) + " does not exist in run "
                        + std::to_string(src.run) + " (rounds 0.." + std::to_string(m_source->rounds()) + ")");
        m_sourceMask = alignMask(m_source->maskAt(src.round), expected, "run " + std::to_string(src.run));
    }
    validateMask(m_source->maskAt(0), expected, "run " + std::to_string(src.run));
}

MaskSet SeedRun::maskForRound(int round, const std::vector<double> &sparsities)
{
    if (m_sourceMask)
        return *m_sourceMask;
    if (m_source)
        return m_source->maskAt(round);
    if (round == 0)
        return denseMask(m_ctx.prunable());
    const std::string &kind = m_spec.kind;
    if (kind == "imp" || kind == "random") {
        // Recorded when the previous round ended (from its trained weights for IMP).
        return m_order->maskAt(round);
    }
    // oneshot / standard: all masks come from one set of weights, computed in round order.
    MaskSet prev = m_order->maskAt(round - 1);
    const PruneMethod method = pruneMethodFromName(m_spec.prune.method);
    return prune(kind == "standard" ? m_ctx.fineTunedWeights() : m_ctx.pretrainedPrunable(), prev,
                 sparsities[static_cast<size_t>(round)], method, roundSeed(m_seed, round));
}

void SeedRun::initialiseWeights(int round, int previousRound)
{
    m_ctx.restorePretrained(m_spec.rewind); // θ0, or the rewind step's weights
    if (m_spec.kind == "reinit")
        m_ctx.reinitialisePrunable(roundSeed(m_seed, 1000 + round));
    else if (m_spec.kind == "shuffle")
        m_ctx.shufflePrunable(roundSeed(m_seed, 2000 + round));
    if (previousRound >= 0 && m_spec.head == "keep")
        loadHead(previousRound);
    else
        m_ctx.resetHead();
}

void SeedRun::saveHead(int round) { m_ctx.saveHead(checkpointPath(round)); }

void SeedRun::loadHead(int round)
{
    const std::string path = checkpointPath(round);
    if (!fs::exists(path))
        throw Error(path + ": checkpoint of round " + std::to_string(round)
                    + " is missing; cannot resume this run exactly (delete the run or start a new database)");
    m_ctx.loadHead(path);
}

bool SeedRun::execute(int64_t &runIdOut)
{
    m_ctx.prepare(m_seed);
    const std::string specHash = m_spec.hash();
    RunEvent start;
    start.type = "run_start";
    if (auto existing = m_store.findResumableRun(specHash, m_seed)) {
        m_runId = existing->id;
        start.resumed = true;
        m_store.setRunStatus(m_runId, "running");
    } else {
        RunRecord r;
        r.kind = m_spec.kind;
        r.status = "running";
        r.specJson = m_spec.toJson().dump();
        r.specHash = specHash;
        r.seed = m_seed;
        r.task = m_ctx.taskName();
        r.modelId = m_store.upsertModel(m_ctx.modelRecord());
        r.datasetId = m_store.upsertDataset(m_ctx.datasetRecord());
        r.ticketlabVersion = TICKETLAB_VERSION;
        r.device = m_spec.device;
        r.threads = m_spec.threads;
        m_runId = m_store.createRun(r);
        if (m_spec.kind == "transfer" && m_spec.source) {
            TransferRecord t;
            t.runId = m_runId;
            t.sourceRunId = m_spec.source->fromFile() ? 0 : m_spec.source->run;
            t.sourceRound = m_spec.source->round;
            t.targetTask = m_ctx.taskName();
            t.maskFile = m_spec.source->maskFile;
            m_store.recordTransfer(t);
        }
    }
    runIdOut = m_runId;
    fs::create_directories(m_store.path() + ".checkpoints");
    m_ctx.setRewindFile(checkpointPath(0) + ".rewind");
    loadSource();

    std::vector<double> sparsities = roundSparsities(m_spec, m_source, m_sourceRound);
    std::vector<int> roundIndexes;
    if (m_spec.kind == "transfer") {
        roundIndexes = {m_sourceMask ? (m_spec.source->fromFile() ? 0 : m_spec.source->round) : 0};
        sparsities.assign(static_cast<size_t>(roundIndexes[0]) + 1, m_sourceMask->sparsity());
    } else {
        for (int r = 0; r < static_cast<int>(sparsities.size()); ++r)
            roundIndexes.push_back(r);
    }
    start.rounds = roundIndexes.back();
    if (!emit(start))
        return false;

    if (const auto blob = m_store.pruneOrder(m_runId))
        m_order = decodePruneOrder(*blob, m_store.path() + " run " + std::to_string(m_runId));
    else
        m_order = PruneOrder::fromMask(denseMask(m_ctx.prunable()));
    std::map<int, bool> done;
    for (const RoundRecord &r : m_store.rounds(m_runId))
        done[r.round] = true;

    int previous = -1; // the round whose trained head this one starts from
    for (int round : roundIndexes) {
        if (done.count(round)) {
            previous = round;
            continue;
        }
        const double sparsity = sparsities[static_cast<size_t>(round)];
        RunEvent rs;
        rs.type = "round_start";
        rs.round = round;
        rs.rounds = roundIndexes.back();
        rs.sparsity = sparsity;
        if (!emit(rs))
            return false;
        if (m_spec.kind == "standard" && round > 0)
            m_ctx.ensureFineTunedWeights(checkpointPath(0) + ".finetuned", roundSeed(m_seed, 0));
        const MaskSet mask = maskForRound(round, sparsities);
        if (round > 0)
            m_order->record(mask, round);
        initialiseWeights(round, previous);
        RoundResult result = m_ctx.trainRound(mask, roundSeed(m_seed, round), round == 0, [&](const TrainProgressLite &p) {
            RunEvent e;
            e.type = p.tick ? "tick" : "progress";
            e.round = round;
            e.rounds = roundIndexes.back();
            e.sparsity = sparsity;
            e.step = p.step;
            e.totalSteps = p.totalSteps;
            e.loss = p.loss;
            e.lr = p.lr;
            e.tokensPerSecond = p.tokensPerSecond;
            e.etaSeconds = p.etaSeconds;
            return emit(e);
        });
        if (result.cancelled)
            return false;
        if (m_spec.kind == "standard" && round == 0)
            m_ctx.keepFineTunedWeights(checkpointPath(0) + ".finetuned");
        // The next IMP / random mask comes from this round's trained weights; storing it with
        // this round makes a resumed run take exactly the same path.
        const size_t next = static_cast<size_t>(round) + 1;
        if ((m_spec.kind == "imp" || m_spec.kind == "random") && next < sparsities.size()) {
            PruneMethod method = pruneMethodFromName(m_spec.prune.method);
            if (m_spec.kind == "random")
                method = method == PruneMethod::TensorMagnitude || method == PruneMethod::TensorRandom
                             ? PruneMethod::TensorRandom
                             : PruneMethod::GlobalRandom;
            m_order->record(prune(m_ctx.prunable(), mask, sparsities[next], method, roundSeed(m_seed, round + 1)),
                            static_cast<int>(next));
        }
        saveHead(round);
        RoundRecord rec;
        rec.runId = m_runId;
        rec.round = round;
        rec.sparsity = mask.sparsity();
        rec.devMetricsJson = nlohmann::json(result.dev).dump();
        rec.trainMetricsJson = nlohmann::json(result.train).dump();
        rec.trainSeconds = result.trainSeconds;
        rec.evalSeconds = result.evalSeconds;
        rec.steps = result.steps;
        std::vector<CurvePoint> curve;
        for (const auto &[step, loss, lr] : result.curve)
            curve.push_back({round, step, loss, lr});
        const std::vector<char> blob = encodePruneOrder(*m_order);
        m_store.commitRound(rec, curve, &blob);
        if (round >= 2) // the head of round k-1 is all a resume needs
            fs::remove(checkpointPath(round - 2));
        RunEvent rd;
        rd.type = "round_done";
        rd.round = round;
        rd.rounds = roundIndexes.back();
        rd.sparsity = rec.sparsity;
        rd.metrics = result.dev;
        if (!emit(rd))
            return false;
        previous = round;
    }
    m_store.setRunStatus(m_runId, "done");
    RunEvent end;
    end.type = "run_done";
    end.rounds = roundIndexes.back();
    emit(end);
    return true;
}

} // namespace

RunOutcome executeRunSpec(const RunSpec &spec, const std::string &dbPath, const RunEventFn &onEvent)
{
    auto store = ExperimentStore::open(dbPath);
    setThreads(spec.threads);
    RunOutcome outcome;
    for (uint64_t seed : spec.seeds) {
        SeedRun run(spec, seed, *store, onEvent);
        int64_t runId = 0;
        bool finished = false;
        try {
            finished = run.execute(runId);
        } catch (const std::exception &e) {
            if (runId)
                store->setRunStatus(runId, "failed", e.what());
            throw;
        }
        outcome.runIds.push_back(runId);
        if (!finished) {
            store->setRunStatus(runId, "cancelled");
            outcome.cancelled = true;
            break;
        }
    }
    return outcome;
}

} // namespace tl
