#include "engine/runner.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>

#include <dlfcn.h>

#include <ATen/Version.h>
#include <torch/version.h>

#include "engine/run_spec.h"
#include "libtorch/engine/run_context.h"
#include "libtorch/io/checkpoint.h"
#include "io/safetensors.h"
#include "prune/mask_io.h"
#include "prune/mask_set.h"
#include "prune/prune_order.h"
#include "libtorch/prune/pruner.h"
#include "analysis/structure.h"
#include "store/experiment_store.h"
#include "libtorch/train/device.h"
#include "util/error.h"
#include "util/fileio.h"

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
    if (spec.kind == RunKind::Full)
        return {0.0};
    if (spec.kind == RunKind::Transfer)
        return {};
    if ((spec.kind == RunKind::Reinit || spec.kind == RunKind::Shuffle) && source) {
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

/// The BLAS LibTorch runs on: OpenBLAS's own description when it is loaded (Debian's LibTorch
/// calls whichever libblas.so.3 the system provides), else what LibTorch was built with.
std::string blasDescription()
{
    using GetConfig = char *(*)();
    if (auto get = reinterpret_cast<GetConfig>(::dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
        std::string config = get();
        while (!config.empty() && config.back() == ' ')
            config.pop_back();
        return config;
    }
    std::istringstream lines(at::show_config());
    for (std::string line; std::getline(lines, line);) {
        const size_t at = line.find("BLAS_INFO=");
        if (at != std::string::npos)
            return line.substr(at); // "BLAS_INFO=mkl"
    }
    return "unknown";
}

/// Inputs checked before a new database is created, so that a typo leaves no file behind.
void checkInputs(const RunSpec &spec)
{
    if (!fs::is_regular_file(fs::path(spec.model) / "config.json"))
        throw Error(spec.model + ": not a model folder (no config.json)");
    if (!fs::is_directory(spec.dataDir))
        throw Error(spec.dataDir + ": data folder not found");
    if (spec.source && spec.source->fromFile() && !fs::is_regular_file(spec.source->maskFile))
        throw Error(spec.source->maskFile + ": mask file not found");
}

/// Removes a database that this process created and that holds no run, with SQLite's side
/// files and an empty checkpoint folder.
void removeEmptyDatabase(const std::string &dbPath)
{
    std::error_code ec;
    for (const char *suffix : {"", "-wal", "-shm", "-journal"})
        fs::remove(dbPath + suffix, ec);
    fs::remove_all(ExperimentStore::checkpointFolder(dbPath) + "/locks", ec); // a new lab's run locks
    fs::remove(ExperimentStore::checkpointFolder(dbPath), ec);                // only when empty
}

class SeedRun
{
public:
    SeedRun(const RunSpec &spec, uint64_t seed, ExperimentStore &store, const RunEventFn &onEvent)
        : m_spec(spec), m_seed(seed), m_store(store), m_onEvent(onEvent), m_ctx(spec)
    {
    }

    /// Runs, resumes or reuses the run of this seed (existing: what ExperimentStore::findRun
    /// found). Returns false when cancelled. runId is set as soon as the run exists.
    bool execute(const std::optional<RunRecord> &existing, int64_t &runId);

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

    /// The rounds to run (a transfer runs one, numbered as its source round) and the sparsity
    /// of each round index.
    struct RoundPlan
    {
        std::vector<int> rounds;
        std::vector<double> sparsities;
    };
    /// The run record: the existing one set running again, or a new one (with its transfer
    /// record). Returns its id.
    int64_t openRun(const std::optional<RunRecord> &existing);
    RoundPlan planRounds() const;
    void fillSkippedMasks(int round, const std::vector<double> &sparsities);
    /// Trains, evaluates and commits one round, starting from the head of round previous (-1:
    /// a fresh head). False when cancelled.
    bool runRound(int round, int previous, const RoundPlan &plan);
    /// IMP and random: the mask of the round after this one, from this round's trained weights.
    void recordNextMask(int round, const MaskSet &mask, const std::vector<double> &sparsities);
    /// Structured methods: `mask` with whole heads (and neurons) removed until `fraction` of them
    /// are gone: the least important (imp, scored on the network as trained now; the scores are
    /// kept for storing with the round) or random ones (random, seeded).
    MaskSet structuredNext(const MaskSet &mask, double fraction, uint64_t seed);
    std::optional<UnitImportance> m_importance; ///< the last scores, stored with the round that made them
    /// Stores the round (metrics, curve, prune order) in one transaction.
    RoundRecord commitRound(int round, const MaskSet &mask, const RoundResult &result);

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
    int64_t m_sourceRunId = 0; ///< the stored source run, once loadSource() resolved it
};

std::string SeedRun::checkpointPath(int round) const
{
    return m_store.checkpointFile(m_runId, round);
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
    // A study names its source by spec hash and seed (the same in every database); resolve it.
    m_sourceRunId = src.run;
    if (src.bySpec()) {
        const auto found = m_store.findRun(src.specHash, src.seed);
        if (!found || found->status != "done")
            throw Error(m_store.path() + ": the source run (spec " + src.specHash + ", seed " +
                        std::to_string(src.seed) + ") " +
                        (found ? "is " + found->status + ", not done" : "is not in this database") + "; run it first");
        m_sourceRunId = found->id;
    }
    const std::string name = "source run " + std::to_string(m_sourceRunId);
    const auto sourceRun = m_store.run(m_sourceRunId);
    if (!sourceRun)
        throw Error(m_store.path() + ": " + name + " does not exist");
    if (m_spec.kind == RunKind::Reinit || m_spec.kind == RunKind::Shuffle) {
        // They train the masks of every round of an IMP run from other weights: the figures
        // label them runKindLabel(): "IMP mask + random init" / "IMP mask + shuffled weights".
        if (sourceRun->kind != RunKind::Imp)
            throw Error(m_store.path() + ": " + name + " is a " + runKindName(sourceRun->kind) + " run; kind \"" +
                        runKindName(m_spec.kind) + "\" needs the masks of an imp run");
        if (sourceRun->status != "done")
            throw Error(m_store.path() + ": " + name + " is " + sourceRun->status + ", not done; kind \"" +
                        runKindName(m_spec.kind) +
                        "\" follows all of its rounds, so finish it first (run its spec again)");
    }
    const auto blob = m_store.pruneOrder(m_sourceRunId);
    if (!blob)
        throw Error(m_store.path() + ": run " + std::to_string(m_sourceRunId) + " has no stored masks");
    m_source = decodePruneOrder(*blob, "run " + std::to_string(m_sourceRunId));
    m_sourceRound = src.round;
    if (m_spec.kind == RunKind::Transfer) {
        if (src.round < 0 || src.round > m_source->rounds())
            throw Error("source round " + std::to_string(src.round) + " does not exist in run " +
                        std::to_string(m_sourceRunId) + " (rounds 0.." + std::to_string(m_source->rounds()) + ")");
        m_sourceMask = alignMask(m_source->maskAt(src.round), expected, "run " + std::to_string(m_sourceRunId));
    }
    validateMask(m_source->maskAt(0), expected, "run " + std::to_string(m_sourceRunId));
}

MaskSet SeedRun::maskForRound(int round, const std::vector<double> &sparsities)
{
    if (m_sourceMask)
        return *m_sourceMask;
    if (m_source)
        return m_source->maskAt(round);
    if (round == 0)
        return denseMask(m_ctx.prunable());
    const RunKind kind = m_spec.kind;
    if (kind == RunKind::Imp || kind == RunKind::Random) {
        // Recorded when the previous round ended (from its trained weights for IMP).
        return m_order->maskAt(round);
    }
    // oneshot / standard: all masks come from one set of weights, computed in round order.
    MaskSet prev = m_order->maskAt(round - 1);
    const PruneMethod method = pruneMethodFromName(m_spec.prune.method);
    return prune(kind == RunKind::Standard ? m_ctx.fineTunedWeights() : m_ctx.pretrainedPrunable(), prev,
                 sparsities[static_cast<size_t>(round)], method, roundSeed(m_seed, round));
}

void SeedRun::initialiseWeights(int round, int previousRound)
{
    m_ctx.restorePretrained(m_spec.rewind); // θ0, or the rewind step's weights
    if (m_spec.kind == RunKind::Reinit)
        m_ctx.reinitialisePrunable(roundSeed(m_seed, 1000 + round));
    else if (m_spec.kind == RunKind::Shuffle)
        m_ctx.shufflePrunable(roundSeed(m_seed, 2000 + round));
    if (previousRound >= 0 && m_spec.head == "keep")
        loadHead(previousRound);
    else
        m_ctx.resetHead();
}

void SeedRun::saveHead(int round)
{
    m_ctx.saveHead(checkpointPath(round));
}

void SeedRun::loadHead(int round)
{
    const std::string path = checkpointPath(round);
    if (!fs::exists(path))
        throw Error(path + ": checkpoint of round " + std::to_string(round) +
                    " is missing; cannot resume this run exactly (delete the run or start a new database)");
    m_ctx.loadHead(path);
}

int64_t SeedRun::openRun(const std::optional<RunRecord> &existing)
{
    if (existing) {
        m_store.setRunStatus(existing->id, "running");
        return existing->id;
    }
    RunRecord r;
    r.kind = m_spec.kind;
    r.status = "running";
    r.specJson = m_spec.toJson().dump();
    r.specHash = m_spec.hash();
    r.seed = m_seed;
    r.task = m_ctx.taskName();
    r.modelId = m_store.upsertModel(m_ctx.modelRecord());
    r.datasetId = m_store.upsertDataset(m_ctx.datasetRecord());
    r.ticketlabVersion = TICKETLAB_VERSION;
    r.device = m_spec.device;
    r.threads = torch::get_num_threads(); // what the run uses, also when the spec left it to LibTorch
    r.repetition = m_spec.repeat;
    r.torchVersion = TORCH_VERSION;
    r.blas = blasDescription();
    const int64_t id = m_store.createRun(r);
    if (m_spec.kind == RunKind::Transfer && m_spec.source) {
        TransferRecord t;
        t.runId = id;
        t.sourceRunId = m_spec.source->fromFile() ? 0 : m_sourceRunId;
        t.sourceRound = m_spec.source->round;
        t.targetTask = m_ctx.taskName();
        t.maskFile = m_spec.source->maskFile;
        m_store.recordTransfer(t);
    }
    return id;
}

SeedRun::RoundPlan SeedRun::planRounds() const
{
    RoundPlan plan;
    plan.sparsities = roundSparsities(m_spec, m_source, m_sourceRound);
    if (m_spec.kind == RunKind::Transfer) {
        // One round, numbered as the source round; a mask file counts as round 1, as
        // import-mask stores it, so that the prune order records the mask (round 0 is dense
        // by definition there).
        plan.rounds = {m_spec.source->fromFile() ? 1 : m_spec.source->round};
        plan.sparsities.assign(static_cast<size_t>(plan.rounds[0]) + 1, m_sourceMask->sparsity());
    } else if (!m_spec.at.empty()) {
        // Only the round nearest each listed sparsity (and the dense round that "standard"
        // prunes from); the masks in between are still computed, in fillSkippedMasks().
        std::set<int> chosen;
        if (m_spec.kind == RunKind::Standard)
            chosen.insert(0);
        for (double target : m_spec.at) {
            int best = 1;
            for (int r = 1; r < static_cast<int>(plan.sparsities.size()); ++r)
                if (std::abs(plan.sparsities[size_t(r)] - target) < std::abs(plan.sparsities[size_t(best)] - target))
                    best = r;
            if (best < static_cast<int>(plan.sparsities.size()))
                chosen.insert(best);
        }
        plan.rounds.assign(chosen.begin(), chosen.end());
    } else {
        for (int r = 0; r < static_cast<int>(plan.sparsities.size()); ++r)
            plan.rounds.push_back(r);
    }
    return plan;
}

void SeedRun::fillSkippedMasks(int round, const std::vector<double> &sparsities)
{
    // random, oneshot and standard derive each round's mask from the previous one; when rounds
    // are skipped ("at"), record the skipped masks exactly as a run of every round would.
    const RunKind kind = m_spec.kind;
    if (kind != RunKind::Random && kind != RunKind::Oneshot && kind != RunKind::Standard)
        return;
    const int last = kind == RunKind::Random ? round : round - 1; // random's own mask is recorded ahead
    for (int k = m_order->rounds() + 1; k <= last; ++k) {
        if (kind == RunKind::Random && m_spec.prune.structured()) {
            m_order->record(structuredNext(m_order->maskAt(k - 1), sparsities[size_t(k)], roundSeed(m_seed, k)), k);
        } else if (kind == RunKind::Random) {
            PruneMethod method = pruneMethodFromName(m_spec.prune.method);
            method = method == PruneMethod::TensorMagnitude || method == PruneMethod::TensorRandom
                         ? PruneMethod::TensorRandom
                         : PruneMethod::GlobalRandom;
            m_order->record(
                prune(m_ctx.prunable(), m_order->maskAt(k - 1), sparsities[size_t(k)], method, roundSeed(m_seed, k)),
                k);
        } else {
            m_order->record(maskForRound(k, sparsities), k);
        }
    }
}

MaskSet SeedRun::structuredNext(const MaskSet &mask, double fraction, uint64_t seed)
{
    const BertConfig &config = m_ctx.config();
    if (config.compacted())
        throw Error("method \"" + m_spec.prune.method +
                    "\" needs a model with every head in place; this one is compacted (pruned_heads or "
                    "intermediate_sizes in its config.json)");
    const int heads = static_cast<int>(config.numAttentionHeads);
    const MaskStructure st = maskStructure(mask, heads);
    const auto count = [&](int64_t total, int64_t alive) {
        return std::max<int64_t>(0, std::llround(fraction * double(total)) - (total - alive));
    };
    const bool random = m_spec.kind == RunKind::Random;
    if (!random)
        m_importance = m_ctx.unitImportance();
    const std::vector<std::vector<double>> none;
    const std::vector<UnitId> headUnits =
        chooseUnits(st.headAlive, random ? none : m_importance->heads, count(st.headsTotal(), st.headsAlive()),
                    random ? std::optional<uint64_t>(seed) : std::nullopt);
    std::vector<UnitId> neuronUnits;
    if (m_spec.prune.prunesNeurons())
        neuronUnits = chooseUnits(st.neuronAlive, random ? none : m_importance->neurons,
                                  count(st.neuronsTotal(), st.neuronsAlive()),
                                  random ? std::optional<uint64_t>(seed ^ 0x9e3779b97f4a7c15ULL) : std::nullopt);
    MaskSet next = mask;
    pruneUnits(next, heads, headUnits, neuronUnits);
    return next;
}

void SeedRun::recordNextMask(int round, const MaskSet &mask, const std::vector<double> &sparsities)
{
    const size_t next = static_cast<size_t>(round) + 1;
    if ((m_spec.kind != RunKind::Imp && m_spec.kind != RunKind::Random) || next >= sparsities.size())
        return;
    if (m_spec.prune.structured()) {
        m_order->record(structuredNext(mask, sparsities[next], roundSeed(m_seed, round + 1)), static_cast<int>(next));
        return;
    }
    PruneMethod method = pruneMethodFromName(m_spec.prune.method);
    if (m_spec.kind == RunKind::Random)
        method = method == PruneMethod::TensorMagnitude || method == PruneMethod::TensorRandom
                     ? PruneMethod::TensorRandom
                     : PruneMethod::GlobalRandom;
    m_order->record(prune(m_ctx.prunable(), mask, sparsities[next], method, roundSeed(m_seed, round + 1)),
                    static_cast<int>(next));
}

RoundRecord SeedRun::commitRound(int round, const MaskSet &mask, const RoundResult &result)
{
    RoundRecord rec;
    rec.runId = m_runId;
    rec.round = round;
    rec.sparsity = mask.sparsity();
    rec.devMetricsJson = nlohmann::json(result.dev).dump();
    rec.trainMetricsJson = nlohmann::json(result.train).dump();
    rec.trainSeconds = result.trainSeconds;
    rec.evalSeconds = result.evalSeconds;
    rec.steps = result.steps;
    rec.earlyBirdStep = result.earlyBirdStep;
    std::vector<CurvePoint> curve;
    for (const auto &[step, loss, lr] : result.curve)
        curve.push_back({round, step, loss, lr});
    std::vector<MaskDistancePoint> distances;
    for (const auto &[step, distance] : result.maskDistances)
        distances.push_back({round, step, distance});
    const std::vector<char> blob = encodePruneOrder(*m_order);
    m_store.inTransaction("commit round " + std::to_string(round), [&] {
        m_store.commitRound(rec, curve, &blob, distances);
        if (m_importance) // the scores the next round's mask was chosen by
            storeUnitImportance(m_store, m_runId, round, *m_importance, m_spec.prune.importanceSplit);
    });
    m_importance.reset();
    if (round >= 2) // the head of round k-1 is all a resume needs
        fs::remove(checkpointPath(round - 2));
    return rec;
}

bool SeedRun::runRound(int round, int previous, const RoundPlan &plan)
{
    const int lastRound = plan.rounds.back();
    const double sparsity = plan.sparsities[static_cast<size_t>(round)];
    RunEvent rs;
    rs.type = RunEventType::RoundStart;
    rs.round = round;
    rs.rounds = lastRound;
    rs.sparsity = sparsity;
    if (!emit(rs))
        return false;
    if (m_spec.kind == RunKind::Standard && round > 0)
        m_ctx.ensureFineTunedWeights(checkpointPath(0) + ".finetuned", roundSeed(m_seed, 0));
    if (round > 0)
        fillSkippedMasks(round, plan.sparsities);
    const MaskSet mask = maskForRound(round, plan.sparsities);
    if (round > 0)
        m_order->record(mask, round);
    initialiseWeights(round, previous);
    // Early bird: the mask the next prune would make from the weights as they train (IMP only,
    // and only in a round that has a next prune: the last round trains in full).
    std::function<MaskSet()> drawNextMask;
    const size_t next = static_cast<size_t>(round) + 1;
    if (m_spec.earlyBird && m_spec.kind == RunKind::Imp && next < plan.sparsities.size())
        drawNextMask = [&] {
            return prune(m_ctx.prunable(), mask, plan.sparsities[next], pruneMethodFromName(m_spec.prune.method),
                         roundSeed(m_seed, round + 1));
        };
    RoundResult result = m_ctx.trainRound(
        mask, roundSeed(m_seed, round), round == 0,
        [&](const TrainProgressLite &p) {
            RunEvent e;
            e.type = p.tick ? RunEventType::Tick : RunEventType::Progress;
            e.round = round;
            e.rounds = lastRound;
            e.sparsity = sparsity;
            e.step = p.step;
            e.totalSteps = p.totalSteps;
            e.loss = p.loss;
            e.lr = p.lr;
            e.tokensPerSecond = p.tokensPerSecond;
            e.etaSeconds = p.etaSeconds;
            return emit(e);
        },
        drawNextMask);
    if (result.cancelled)
        return false;
    if (m_spec.kind == RunKind::Standard && round == 0)
        m_ctx.keepFineTunedWeights(checkpointPath(0) + ".finetuned");
    // The next IMP / random mask comes from this round's trained weights; storing it with
    // this round makes a resumed run take exactly the same path.
    recordNextMask(round, mask, plan.sparsities);
    saveHead(round);
    const RoundRecord rec = commitRound(round, mask, result);
    RunEvent rd;
    rd.type = RunEventType::RoundDone;
    rd.round = round;
    rd.rounds = lastRound;
    rd.sparsity = rec.sparsity;
    rd.metrics = result.dev;
    return emit(rd);
}

bool SeedRun::execute(const std::optional<RunRecord> &existing, int64_t &runIdOut)
{
    RunEvent start;
    start.type = RunEventType::RunStart;
    if (existing && existing->status == "done") {
        // Done already: the result stands; running the spec again adds nothing.
        m_runId = runIdOut = existing->id;
        const auto rounds = m_store.rounds(m_runId);
        start.rounds = rounds.empty() ? 0 : rounds.back().round;
        start.reused = true;
        return emit(start);
    }
    // Everything that can fail on bad input comes before the run is created or touched.
    m_ctx.prepare(m_seed);
    loadSource();
    start.resumed = existing.has_value();
    m_runId = openRun(existing);
    runIdOut = m_runId;
    fs::create_directories(ExperimentStore::checkpointFolder(m_store.path()));
    m_ctx.setRewindFile(checkpointPath(0) + ".rewind");

    const RoundPlan plan = planRounds();
    start.rounds = plan.rounds.back();
    if (!emit(start))
        return false;

    if (const auto blob = m_store.pruneOrder(m_runId))
        m_order = decodePruneOrder(*blob, m_store.path() + " run " + std::to_string(m_runId));
    else
        m_order = PruneOrder::fromMask(denseMask(m_ctx.prunable()));
    std::set<int> done;
    for (const RoundRecord &r : m_store.rounds(m_runId))
        done.insert(r.round);

    int previous = -1; // the round whose trained head this one starts from
    for (int round : plan.rounds) {
        if (!done.count(round) && !runRound(round, previous, plan))
            return false;
        previous = round;
    }
    m_store.setRunStatus(m_runId, "done");
    RunEvent end;
    end.type = RunEventType::RunDone;
    end.rounds = plan.rounds.back();
    emit(end);
    return true;
}

} // namespace

RunOutcome executeRunSpec(const RunSpec &spec, const std::string &dbPath, const RunEventFn &onEvent)
{
    const bool newDatabase = !fs::exists(dbPath);
    if (newDatabase)
        checkInputs(spec);
    auto store = ExperimentStore::open(dbPath);
    const int defaultThreads = torch::get_num_threads();
    const std::string specHash = spec.hash();
    RunOutcome outcome;
    try {
        for (uint64_t seed : spec.seeds) {
            // One process at a time runs a (spec, seed) of a database: another one waits here
            // (and then finds the run done or resumes it) instead of starting a second copy.
            const FileLock lock = FileLock::acquire(
                ExperimentStore::checkpointFolder(dbPath) + "/locks/" + specHash + "-seed-" + std::to_string(seed) +
                    ".lock",
                [&] {
                    std::fprintf(stderr, "%s: another process is running spec %s seed %llu; waiting for it\n",
                                 dbPath.c_str(), specHash.c_str(), static_cast<unsigned long long>(seed));
                },
                [&] {
                    RunEvent tick; // lets the caller cancel the wait, as a step of training would
                    tick.type = RunEventType::Tick;
                    return !onEvent || onEvent(tick);
                });
            if (!lock.locked()) {
                outcome.cancelled = true;
                break;
            }
            const std::optional<RunRecord> existing = store->findRun(specHash, seed);
            // Exact resume needs the thread count the run started with: a spec that leaves it
            // to LibTorch gets the recorded one (the default may differ on this machine).
            if (spec.threads > 0)
                setThreads(spec.threads);
            else
                setThreads(existing && existing->threads > 0 ? existing->threads : defaultThreads);
            SeedRun run(spec, seed, *store, onEvent);
            int64_t runId = 0;
            bool finished = false;
            try {
                finished = run.execute(existing, runId);
            } catch (const std::exception &e) {
                if (runId)
                    store->setRunStatus(runId, "failed", e.what());
                throw;
            }
            outcome.runIds.push_back(runId);
            outcome.seeds.push_back(seed);
            outcome.actions.push_back(!existing ? "new" : existing->status == "done" ? "done" : "resumed");
            if (!finished) {
                if (outcome.actions.back() != "done")
                    store->setRunStatus(runId, "cancelled");
                outcome.cancelled = true;
                break;
            }
        }
    } catch (...) {
        if (newDatabase && store->runs().empty()) {
            store.reset();
            removeEmptyDatabase(dbPath);
        }
        throw;
    }
    return outcome;
}

} // namespace tl
