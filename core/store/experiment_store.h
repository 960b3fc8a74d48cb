#pragma once

// The experiment store: one SQLite file that holds every run of a lab (its spec, model and data
// set, per-round metrics, training curves, the IMP prune order and transfer provenance).
// Torch-free, so the GUI reads it directly while a run in another process writes it.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/run_kinds.h"
#include "train/metrics.h" // kMainMetric

struct sqlite3;

namespace tl {

/// A model folder as used by runs. Identified by (path, contentHash); contentHash is expected
/// to cover config.json as well as the weights, so one identity has one config.
struct ModelRecord
{
    int64_t id = 0;
    std::string path;
    std::string configJson;
    std::string contentHash;
};

/// A task's data as used by runs. Identified by (task, path, contentHash).
struct DatasetRecord
{
    int64_t id = 0;
    std::string task;
    std::string path;
    std::string contentHash;
};

struct RunRecord
{
    int64_t id = 0;
    /// A run spec's kind, or import: a mask read from a file by `import-mask`, one round and no
    /// training (runKindTable()). Stored by name.
    RunKind kind = RunKind::Imp;
    std::string status;   ///< running, done, failed, cancelled
    std::string specJson; ///< the full run spec, canonical JSON
    /// Identifies "the same experiment" (RunSpec::hash()): with the seed, the identity that
    /// running a spec again finds, to reuse (done) or resume (unfinished) instead of repeating.
    std::string specHash;
    uint64_t seed = 0;
    int64_t modelId = 0;   ///< 0: none
    int64_t datasetId = 0; ///< 0: none
    std::string task;
    std::string ticketlabVersion; ///< empty on createRun: this build's version
    std::string device;
    std::string createdAt;    ///< ISO-8601 UTC with milliseconds, set by the store
    std::string updatedAt;    ///< ditto; touched by setRunStatus and commitRound
    int threads = 0;          ///< LibTorch intra-op threads the run used (0: not recorded, old runs)
    std::string error;        ///< message when failed
    int repetition = 0;       ///< 0, or k for the k-th explicit repetition (`run --repeat k`)
    std::string torchVersion; ///< LibTorch version, e.g. "1.13.0" (empty: not recorded)
    std::string blas;         ///< the BLAS LibTorch ran on, e.g. "OpenBLAS 0.3.21 ..." (ditto)
};

/// How every view names a run: "RTE imp #3 (seed 0)", with ", repetition k" for a repetition.
std::string runLabel(const RunRecord &run);

struct RoundRecord
{
    int64_t runId = 0;
    /// Round k = the state after k prunings. Runs that prune (imp, random, oneshot, standard,
    /// reinit, shuffle) store rounds 0 (dense), 1, 2, ...; full stores round 0 only. A transfer
    /// stores one round, numbered as its source round k (round 1 for a mask file, as an
    /// import), trained under that sparse mask; an import stores one round (`--round`, default 1)
    /// and no training. Its mask is the run's prune order at this round.
    int round = 0;
    double sparsity = 0;                 ///< fraction of prunable weights removed (0.3, not 30), in [0, 1]
    std::string trainMetricsJson = "{}"; ///< JSON object name -> number (null for NaN)
    std::string devMetricsJson = "{}";   ///< ditto
    double trainSeconds = 0;
    double evalSeconds = 0;
    int64_t steps = 0;
    /// The step at which the early-bird criterion ended the round's training (its mask had
    /// stopped changing); 0: the round ran its whole schedule.
    int64_t earlyBirdStep = 0;

    // The one reader of the metrics' JSON: everything else asks these.
    /// The dev metric `key` (kMainMetric: the task's main one), when it is a number.
    std::optional<double> devMetric(const std::string &key = kMainMetric) const;
    /// The dev metrics by name, in name order; NaN where the stored value is null.
    std::map<std::string, double> devMetrics() const;
    /// The training metrics, likewise.
    std::map<std::string, double> trainMetrics() const;
};

/// Metric maps equal name by name, NaN equal to NaN (a stored null).
bool sameMetrics(const std::map<std::string, double> &a, const std::map<std::string, double> &b);

/// One logged training step. loss may be NaN (stored as NULL); step >= 0.
struct CurvePoint
{
    int round = 0;
    int64_t step = 0;
    double loss = 0;
    double lr = 0;
};

/// An early-bird draw: at `step` of a round's training, the magnitude mask its next prune would
/// make differed from the previous draw in `distance` of the prunable weights (in [0, 1]).
struct MaskDistancePoint
{
    int round = 0;
    int64_t step = 0;
    double distance = 0;
};

/// A stored analysis: a result about a model (and task) rather than a run, such as a layer
/// sensitivity scan. params and result are JSON objects whose layout `kind` defines.
struct AnalysisRecord
{
    int64_t id = 0;
    std::string kind; ///< "sensitivity"
    std::string name; ///< the user's label, may be empty
    int64_t modelId = 0;
    int64_t datasetId = 0;
    std::string task;
    int64_t runId = 0; ///< the run it is about (0: none, an analysis of a model); deleted with it
    int round = -1;    ///< the run's round (-1: none)
    std::string paramsJson = "{}";
    std::string resultJson = "{}";
    std::string createdAt; ///< set by the store
};

/// Where a transfer run's mask came from: round sourceRound of stored run sourceRunId, or
/// (sourceRunId 0) the mask file maskFile. maskFile may be given in both cases.
struct TransferRecord
{
    int64_t runId = 0;
    int64_t sourceRunId = 0;
    int sourceRound = 0;
    std::string targetTask;
    std::string maskFile;
};

/// One connection to an experiment database. Not thread-safe: use one ExperimentStore per
/// thread (several may open the same file, in this process or others). The database is in
/// WAL mode, so readers never block the writer and see only committed transactions; writers
/// wait up to busyTimeoutMs() for each other before failing.
///
/// Every failure throws tl::Error whose message starts with the database path and says what
/// failed ("lab.db: commitRound(run 3, round 2): CHECK constraint failed: step >= 0").
/// A failed write leaves the database as it was before the call.
class ExperimentStore
{
public:
    /// Opens or creates the database at path and brings it to currentSchemaVersion() with
    /// forward migrations, all in one transaction. A database newer than this build knows, a
    /// file that is not SQLite, or an SQLite database of another application is refused
    /// without writing anything to it (not even a WAL file).
    static std::unique_ptr<ExperimentStore> open(const std::string &path);
    static int currentSchemaVersion();
    static int busyTimeoutMs() { return 10000; }
    /// The known run statuses; setRunStatus refuses others.
    static const std::vector<std::string> &runStatuses();

    ~ExperimentStore();
    ExperimentStore(const ExperimentStore &) = delete;
    ExperimentStore &operator=(const ExperimentStore &) = delete;

    int schemaVersion() const;
    /// Runs body in one transaction: every write it makes through this store lands together,
    /// or (when it throws) none does. The exception propagates.
    void inTransaction(const std::string &what, const std::function<void()> &body);
    /// Runs body with every read through this store seeing one snapshot of the database, so
    /// that a view made of several queries (runs, then rounds, then statuses) never mixes the
    /// states before and after another process's commit. The exception propagates.
    void readSnapshot(const std::function<void()> &body) const;
    const std::string &path() const { return m_path; }

    /// Inserts the record unless one with the same identity exists; returns the id either
    /// way. An existing record is not changed (its id is what old runs point to).
    int64_t upsertModel(const ModelRecord &model);
    int64_t upsertDataset(const DatasetRecord &dataset);

    /// Inserts a run (the record's id, createdAt and updatedAt are ignored) and returns its id.
    /// specJson must be valid JSON; modelId/datasetId, when not 0, must exist.
    int64_t createRun(const RunRecord &run);
    /// The run of this spec hash and seed, if any: the oldest one that is done (the result;
    /// running the spec again reuses it), else the newest unfinished one (running, failed or
    /// cancelled: the one to resume). "running" is included because a killed process never got
    /// to mark its run; telling a live run from a dead one is the caller's business.
    std::optional<RunRecord> findRun(const std::string &specHash, uint64_t seed) const;
    /// Sets status and error (cleared when empty) and touches updatedAt. Throws for an unknown
    /// run or status.
    void setRunStatus(int64_t runId, const std::string &status, const std::string &error = {});

    /// Commits one round, its training-curve points (each with point.round == round.round) and,
    /// when pruneOrderBlob is given, the run's prune order, in ONE transaction: on any error
    /// nothing is written, so a killed or failing run never leaves half a round. Committing a
    /// (run, round) that exists replaces it and its curve (a resumed run redoes a round).
    /// Metrics must be JSON objects of numbers (null allowed, for NaN).
    /// Early-bird mask distances (each with point.round == round.round) go in the same
    /// transaction and are replaced with the curve.
    void commitRound(const RoundRecord &round, const std::vector<CurvePoint> &curve,
                     const std::vector<char> *pruneOrderBlob = nullptr,
                     const std::vector<MaskDistancePoint> &maskDistances = {});

    std::vector<RunRecord> runs() const; ///< newest first
    std::optional<RunRecord> run(int64_t id) const;
    /// The run; throws tl::Error "<db>: no run <id>" when there is none.
    RunRecord requireRun(int64_t id) const;
    std::vector<RoundRecord> rounds(int64_t runId) const;              ///< by round
    std::vector<CurvePoint> curve(int64_t runId) const;                ///< by round, then step
    std::vector<MaskDistancePoint> maskDistances(int64_t runId) const; ///< by round, then step
    std::optional<std::vector<char>> pruneOrder(int64_t runId) const;
    /// The first maxBytes of the run's prune order (all of it when shorter), read without
    /// loading the rest: enough for its header (layout and round count).
    std::optional<std::vector<char>> pruneOrderPrefix(int64_t runId, size_t maxBytes) const;

    /// Records (or replaces) the provenance of transfer run runId. Needs sourceRunId (existing)
    /// or a non-empty maskFile.
    void recordTransfer(const TransferRecord &transfer);
    std::optional<TransferRecord> transfer(int64_t runId) const;
    std::optional<ModelRecord> model(int64_t id) const;
    std::optional<DatasetRecord> dataset(int64_t id) const;

    /// Deletes runs with their rounds, curves, prune orders and transfer records in ONE
    /// transaction, then their files in checkpointFolder(). Throws (deleting nothing) for an
    /// unknown id, or a run that a transfer run outside ids was made from (the error names it).
    void deleteRuns(const std::vector<int64_t> &ids);
    /// The ids of the transfer runs made from run id.
    std::vector<int64_t> transfersFrom(int64_t id) const;

    /// Stores an analysis (the record's id and createdAt are ignored) and returns its id.
    /// params and result must be JSON objects; modelId/datasetId, when not 0, must exist.
    int64_t addAnalysis(const AnalysisRecord &analysis);
    /// An analysis of a model folder on a task's data: their records upserted and the analysis
    /// stored (its modelId and datasetId set to them), in one transaction.
    int64_t addAnalysis(AnalysisRecord analysis, const ModelRecord &model, const DatasetRecord &data);
    /// Every stored analysis of a kind (all kinds when empty), newest first.
    std::vector<AnalysisRecord> analyses(const std::string &kind = {}) const;
    /// The analyses of run runId (of a kind, all when empty), by round then id.
    std::vector<AnalysisRecord> runAnalyses(int64_t runId, const std::string &kind = {}) const;
    /// Deletes the analyses of round `round` of run runId of a kind (what a redone round replaces).
    void deleteRunAnalyses(int64_t runId, int round, const std::string &kind);
    std::optional<AnalysisRecord> analysis(int64_t id) const;

    /// The first value of `PRAGMA name` as text ("synchronous" -> "2" for FULL, "integrity_check"
    /// -> "ok"): for diagnostics and tests. name must be a plain pragma name.
    std::string pragma(const std::string &name) const;

    /// Where runs keep their task-head checkpoints: "<db>.checkpoints". One file per run and
    /// round, checkpointFile(); a run's other files there start with the same name.
    static std::string checkpointFolder(const std::string &dbPath);
    std::string checkpointFile(int64_t runId, int round) const;

private:
    ExperimentStore(std::string path, sqlite3 *db);

    std::string m_path;
    sqlite3 *m_db = nullptr; ///< owned; closed in the destructor
};

} // namespace tl
