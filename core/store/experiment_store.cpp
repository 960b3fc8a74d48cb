#include "store/experiment_store.h"

#include <cctype>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "store/schema.h"
#include "store/store_sql_p.h"
#include "util/error.h"

namespace tl {

using namespace storesql;

namespace {

const char *const kRunColumns = "id, kind, status, spec_json, spec_hash, seed, model_id, dataset_id, task, "
                                "ticketlab_version, device, created_at, updated_at, threads, error, repetition, "
                                "torch_version, blas";

bool contains(const std::vector<std::string> &list, const std::string &value)
{
    return std::find(list.begin(), list.end(), value) != list.end();
}

std::string joined(const std::vector<std::string> &list)
{
    std::string out;
    for (const std::string &s : list)
        out += (out.empty() ? "" : ", ") + s;
    return out;
}

/// Metrics are JSON objects name -> number; null stands for NaN, which JSON cannot spell.
/// Empty text means no metrics. Returns the text to store.
std::string checkedMetrics(const std::string &text, const std::string &path, const std::string &what, const char *field)
{
    if (text.empty())
        return "{}";
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception &e) {
        fail(path, what + ": " + field + " is not valid JSON: " + e.what());
    }
    if (!json.is_object())
        fail(path, what + ": " + field + " is not a JSON object");
    for (const auto &item : json.items()) {
        if (!item.value().is_number() && !item.value().is_null())
            fail(path, what + ": " + field + " '" + item.key() + "' is not a number");
    }
    return text;
}

/// Every checkpoint file of a run starts with this ("run-3-round-"; "run-3-" would match run 30).
std::string checkpointStem(int64_t runId)
{
    return "run-" + std::to_string(runId) + "-round-";
}

RunRecord readRun(const Statement &s, const std::string &path)
{
    RunRecord r;
    r.id = s.int64(0);
    r.kind = runKindFromName(s.text(1), path + ": run " + std::to_string(r.id));
    r.status = s.text(2);
    r.specJson = s.text(3);
    r.specHash = s.text(4);
    r.seed = static_cast<uint64_t>(s.int64(5));
    r.modelId = s.int64(6); // NULL reads as 0
    r.datasetId = s.int64(7);
    r.task = s.text(8);
    r.ticketlabVersion = s.text(9);
    r.device = s.text(10);
    r.createdAt = s.text(11);
    r.updatedAt = s.text(12);
    r.threads = static_cast<int>(s.int64(13));
    r.error = s.text(14);
    r.repetition = static_cast<int>(s.int64(15));
    r.torchVersion = s.text(16);
    r.blas = s.text(17);
    return r;
}

} // namespace

ExperimentStore::ExperimentStore(std::string path, sqlite3 *db) : m_path(std::move(path)), m_db(db) {}

ExperimentStore::~ExperimentStore()
{
    sqlite3_close_v2(m_db);
}

std::unique_ptr<ExperimentStore> ExperimentStore::open(const std::string &path)
{
    if (path.empty())
        throw Error("experiment store: empty database path");
    sqlite3 *raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    DbHandle db(raw); // a failed open still allocates a handle that must be closed
    if (rc != SQLITE_OK)
        fail(path, std::string("cannot open the database: ") + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    sqlite3_extended_result_codes(db.get(), 1);
    sqlite3_busy_timeout(db.get(), busyTimeoutMs());

    // Up to and including this check nothing is written, so a refused database is left exactly
    // as it was. Switching to WAL rewrites the header and creates the -wal file: it must come after.
    const int version = storeschema::readVersion(db.get(), path);

    // Per connection, and a no-op inside a transaction: set before any.
    exec(db.get(), path, "cannot enable foreign keys", "PRAGMA foreign_keys = ON");
    // WAL lets the GUI read while a run writes. Where WAL is impossible (":memory:", some
    // network filesystems) SQLite keeps its rollback journal: still correct, only readers and
    // the writer then wait on each other.
    exec(db.get(), path, "cannot switch to WAL mode", "PRAGMA journal_mode = WAL");
    // A committed round must survive a power loss: in WAL mode the default (NORMAL) may lose
    // the last commits; FULL syncs the log at every commit (one fsync per round: nothing).
    exec(db.get(), path, "cannot set synchronous mode", "PRAGMA synchronous = FULL");

    if (version < storeschema::currentVersion())
        storeschema::migrate(db.get(), path);
    return std::unique_ptr<ExperimentStore>(new ExperimentStore(path, db.release()));
}

int ExperimentStore::currentSchemaVersion()
{
    return storeschema::currentVersion();
}

const std::vector<std::string> &ExperimentStore::runStatuses()
{
    static const std::vector<std::string> statuses = {"running", "done", "failed", "cancelled"};
    return statuses;
}

void ExperimentStore::inTransaction(const std::string &what, const std::function<void()> &body)
{
    Transaction tx(m_db, m_path, what);
    body();
    tx.commit();
}

void ExperimentStore::readSnapshot(const std::function<void()> &body) const
{
    if (!sqlite3_get_autocommit(m_db)) { // inside a transaction already: its view is the snapshot
        body();
        return;
    }
    // A deferred transaction that only reads: in WAL mode every read in it sees the database as
    // of its first read, whatever other connections commit meanwhile.
    exec(m_db, m_path, "cannot begin a read snapshot", "BEGIN");
    try {
        body();
    } catch (...) {
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
    exec(m_db, m_path, "cannot end a read snapshot", "COMMIT");
}

int ExperimentStore::schemaVersion() const
{
    Statement s(m_db, m_path, "cannot read the schema version", "SELECT value FROM meta WHERE key = 'schema_version'");
    if (!s.step())
        fail(m_path, "meta has no schema_version");
    return static_cast<int>(s.int64(0));
}

int64_t ExperimentStore::upsertModel(const ModelRecord &model)
{
    const std::string what = "upsertModel(" + model.path + ")";
    if (model.path.empty())
        fail(m_path, what + ": empty model path");
    Transaction tx(m_db, m_path, what);
    Statement(m_db, m_path, what,
              "INSERT INTO models(path, config_json, content_hash) VALUES(?1, ?2, ?3) "
              "ON CONFLICT(path, content_hash) DO NOTHING")
        .bind(1, model.path)
        .bind(2, model.configJson.empty() ? std::string("{}") : model.configJson)
        .bind(3, model.contentHash)
        .run();
    int64_t id = 0;
    {
        Statement query(m_db, m_path, what, "SELECT id FROM models WHERE path = ?1 AND content_hash = ?2");
        if (!query.bind(1, model.path).bind(2, model.contentHash).step())
            fail(m_path, what + ": the model vanished after insertion");
        id = query.int64(0);
    }
    tx.commit();
    return id;
}

int64_t ExperimentStore::upsertDataset(const DatasetRecord &dataset)
{
    const std::string what = "upsertDataset(" + dataset.task + ", " + dataset.path + ")";
    if (dataset.task.empty() || dataset.path.empty())
        fail(m_path, what + ": empty task or path");
    Transaction tx(m_db, m_path, what);
    Statement(m_db, m_path, what,
              "INSERT INTO datasets(task, path, content_hash) VALUES(?1, ?2, ?3) "
              "ON CONFLICT(task, path, content_hash) DO NOTHING")
        .bind(1, dataset.task)
        .bind(2, dataset.path)
        .bind(3, dataset.contentHash)
        .run();
    int64_t id = 0;
    {
        Statement query(m_db, m_path, what,
                        "SELECT id FROM datasets WHERE task = ?1 AND path = ?2 AND content_hash = ?3");
        if (!query.bind(1, dataset.task).bind(2, dataset.path).bind(3, dataset.contentHash).step())
            fail(m_path, what + ": the data set vanished after insertion");
        id = query.int64(0);
    }
    tx.commit();
    return id;
}

int64_t ExperimentStore::createRun(const RunRecord &run)
{
    const std::string what = "createRun(" + runKindName(run.kind) + ", seed " + std::to_string(run.seed) + ")";
    const std::string status = run.status.empty() ? std::string("running") : run.status;
    if (!contains(runStatuses(), status))
        fail(m_path, what + ": unknown run status '" + status + "' (known: " + joined(runStatuses()) + ")");
    if (run.specHash.empty())
        fail(m_path, what + ": empty spec hash");
    if (!nlohmann::json::accept(run.specJson))
        fail(m_path, what + ": the spec is not valid JSON");
    if (run.threads < 0)
        fail(m_path, what + ": negative thread count");
    if (run.repetition < 0)
        fail(m_path, what + ": negative repetition");

    // The id: one above every run there is or was. SQLite alone would give a deleted newest
    // run's id to the next run, and specs, transfer records and checkpoint names refer to ids.
    Statement s(m_db, m_path, what,
                "INSERT INTO runs(id, kind, status, spec_json, spec_hash, seed, model_id, dataset_id, task, "
                "ticketlab_version, device, threads, error, repetition, torch_version, blas, created_at, updated_at) "
                "VALUES(max(coalesce((SELECT max(id) FROM runs), 0), coalesce((SELECT CAST(value AS INTEGER) FROM meta "
                "WHERE key = 'highest_run_id'), 0)) + 1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                "?14, ?15, " +
                    kNow + ", " + kNow + ")");
    s.bind(1, runKindName(run.kind))
        .bind(2, status)
        .bind(3, run.specJson)
        .bind(4, run.specHash)
        .bind(5, static_cast<int64_t>(run.seed)) // same bits; read back as uint64
        .bindId(6, run.modelId)
        .bindId(7, run.datasetId)
        .bind(8, run.task)
        .bind(9, run.ticketlabVersion.empty() ? std::string(TICKETLAB_VERSION) : run.ticketlabVersion)
        .bind(10, run.device)
        .bind(11, run.threads)
        .bind(12, run.error)
        .bind(13, run.repetition)
        .bind(14, run.torchVersion)
        .bind(15, run.blas)
        .run();
    return sqlite3_last_insert_rowid(m_db);
}

std::optional<RunRecord> ExperimentStore::findRun(const std::string &specHash, uint64_t seed) const
{
    // Done first, oldest first; then unfinished, newest first. A database written before runs
    // were idempotent may hold several runs of one identity: its first result stays the result.
    Statement s(m_db, m_path, "findRun",
                std::string("SELECT ") + kRunColumns +
                    " FROM runs WHERE spec_hash = ?1 AND seed = ?2"
                    " ORDER BY status = 'done' DESC, CASE WHEN status = 'done' THEN id ELSE -id END LIMIT 1");
    s.bind(1, specHash).bind(2, static_cast<int64_t>(seed));
    if (!s.step())
        return std::nullopt;
    return readRun(s, m_path);
}

void ExperimentStore::setRunStatus(int64_t runId, const std::string &status, const std::string &error)
{
    const std::string what = "setRunStatus(run " + std::to_string(runId) + ")";
    if (!contains(runStatuses(), status))
        fail(m_path, what + ": unknown run status '" + status + "' (known: " + joined(runStatuses()) + ")");
    Statement(m_db, m_path, what, "UPDATE runs SET status = ?1, error = ?2, updated_at = " + kNow + " WHERE id = ?3")
        .bind(1, status)
        .bind(2, error)
        .bind(3, runId)
        .run();
    if (sqlite3_changes(m_db) == 0)
        fail(m_path, what + ": no such run");
}

void ExperimentStore::commitRound(const RoundRecord &round, const std::vector<CurvePoint> &curve,
                                  const std::vector<char> *pruneOrderBlob,
                                  const std::vector<MaskDistancePoint> &maskDistances)
{
    const std::string what =
        "commitRound(run " + std::to_string(round.runId) + ", round " + std::to_string(round.round) + ")";
    if (round.round < 0)
        fail(m_path, what + ": negative round");
    if (!(round.sparsity >= 0 && round.sparsity <= 1))
        fail(m_path, what + ": sparsity " + std::to_string(round.sparsity) + " is not a fraction in [0, 1]");
    const std::string trainMetrics = checkedMetrics(round.trainMetricsJson, m_path, what, "train metrics");
    const std::string devMetrics = checkedMetrics(round.devMetricsJson, m_path, what, "dev metrics");
    for (size_t i = 0; i < curve.size(); ++i) {
        if (curve[i].round != round.round)
            fail(m_path,
                 what + ": curve point " + std::to_string(i) + " belongs to round " + std::to_string(curve[i].round));
    }
    for (size_t i = 0; i < maskDistances.size(); ++i) {
        const MaskDistancePoint &d = maskDistances[i];
        if (d.round != round.round)
            fail(m_path,
                 what + ": mask distance " + std::to_string(i) + " belongs to round " + std::to_string(d.round));
        if (!(d.distance >= 0 && d.distance <= 1))
            fail(m_path, what + ": mask distance " + std::to_string(i) + " is " + std::to_string(d.distance) +
                             ", not a fraction in [0, 1]");
    }
    if (round.earlyBirdStep < 0)
        fail(m_path, what + ": negative early-bird step");

    Transaction tx(m_db, m_path, what);
    if (!Statement(m_db, m_path, what, "SELECT 1 FROM runs WHERE id = ?1").bind(1, round.runId).step())
        fail(m_path, what + ": no such run");

    // Replace, not upsert: the old round's curve must go even when the new one is shorter.
    // Curves go with their round through ON DELETE CASCADE; deleting them first as well keeps
    // that true for a file once written with foreign keys off.
    for (const char *sql : {"DELETE FROM curves WHERE run_id = ?1 AND round = ?2",
                            "DELETE FROM mask_distances WHERE run_id = ?1 AND round = ?2"})
        Statement(m_db, m_path, what, sql).bind(1, round.runId).bind(2, round.round).run();
    Statement(m_db, m_path, what, "DELETE FROM rounds WHERE run_id = ?1 AND round = ?2")
        .bind(1, round.runId)
        .bind(2, round.round)
        .run();
    Statement(m_db, m_path, what,
              "INSERT INTO rounds(run_id, round, sparsity, train_metrics, dev_metrics, train_seconds, "
              "eval_seconds, steps, early_bird_step, committed_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
              "NULLIF(?9, 0), " +
                  kNow + ")")
        .bind(1, round.runId)
        .bind(2, round.round)
        .bind(3, round.sparsity)
        .bind(4, trainMetrics)
        .bind(5, devMetrics)
        .bind(6, round.trainSeconds)
        .bind(7, round.evalSeconds)
        .bind(8, round.steps)
        .bind(9, round.earlyBirdStep)
        .run();

    Statement insertPoint(m_db, m_path, what,
                          "INSERT INTO curves(run_id, round, step, loss, lr) VALUES(?1, ?2, ?3, ?4, ?5)");
    for (const CurvePoint &p : curve)
        insertPoint.bind(1, round.runId).bind(2, p.round).bind(3, p.step).bind(4, p.loss).bind(5, p.lr).run();
    Statement insertDistance(m_db, m_path, what,
                             "INSERT INTO mask_distances(run_id, round, step, distance) VALUES(?1, ?2, ?3, ?4)");
    for (const MaskDistancePoint &d : maskDistances)
        insertDistance.bind(1, round.runId).bind(2, d.round).bind(3, d.step).bind(4, d.distance).run();

    if (pruneOrderBlob) {
        Statement(m_db, m_path, what,
                  "INSERT INTO prune_orders(run_id, data, updated_at) VALUES(?1, ?2, " + kNow +
                      ") ON CONFLICT(run_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at")
            .bind(1, round.runId)
            .bind(2, *pruneOrderBlob)
            .run();
    }
    Statement(m_db, m_path, what, "UPDATE runs SET updated_at = " + kNow + " WHERE id = ?1").bind(1, round.runId).run();
    tx.commit();
}

std::vector<RunRecord> ExperimentStore::runs() const
{
    // Ids only grow (one above every run there is or was, see createRun), so id order is
    // creation order, immune to clock changes.
    Statement s(m_db, m_path, "runs", std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY id DESC");
    std::vector<RunRecord> out;
    while (s.step())
        out.push_back(readRun(s, m_path));
    return out;
}

std::optional<RunRecord> ExperimentStore::run(int64_t id) const
{
    Statement s(m_db, m_path, "run(" + std::to_string(id) + ")",
                std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?1");
    if (!s.bind(1, id).step())
        return std::nullopt;
    return readRun(s, m_path);
}

RunRecord ExperimentStore::requireRun(int64_t id) const
{
    auto r = run(id);
    if (!r)
        fail(m_path, "no run " + std::to_string(id));
    return *r;
}

std::vector<RoundRecord> ExperimentStore::rounds(int64_t runId) const
{
    Statement s(m_db, m_path, "rounds(run " + std::to_string(runId) + ")",
                "SELECT round, sparsity, train_metrics, dev_metrics, train_seconds, eval_seconds, steps, "
                "coalesce(early_bird_step, 0) FROM rounds WHERE run_id = ?1 ORDER BY round");
    s.bind(1, runId);
    std::vector<RoundRecord> out;
    while (s.step()) {
        RoundRecord r;
        r.runId = runId;
        r.round = static_cast<int>(s.int64(0));
        r.sparsity = s.real(1);
        r.trainMetricsJson = s.text(2);
        r.devMetricsJson = s.text(3);
        r.trainSeconds = s.real(4);
        r.evalSeconds = s.real(5);
        r.steps = s.int64(6);
        r.earlyBirdStep = s.int64(7);
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<CurvePoint> ExperimentStore::curve(int64_t runId) const
{
    Statement s(m_db, m_path, "curve(run " + std::to_string(runId) + ")",
                "SELECT round, step, loss, lr FROM curves WHERE run_id = ?1 ORDER BY round, step, rowid");
    s.bind(1, runId);
    std::vector<CurvePoint> out;
    while (s.step())
        out.push_back({static_cast<int>(s.int64(0)), s.int64(1), s.real(2), s.real(3)});
    return out;
}

std::optional<std::vector<char>> ExperimentStore::pruneOrder(int64_t runId) const
{
    Statement s(m_db, m_path, "pruneOrder(run " + std::to_string(runId) + ")",
                "SELECT data FROM prune_orders WHERE run_id = ?1");
    if (!s.bind(1, runId).step())
        return std::nullopt;
    return s.blob(0);
}

std::optional<std::vector<char>> ExperimentStore::pruneOrderPrefix(int64_t runId, size_t maxBytes) const
{
    // Incremental blob I/O: a BERT-base prune order is ~35 MB, its header a few KB, and the
    // app lists every run's round count; reading whole blobs made a 500-run lab take minutes.
    int64_t rowid = 0;
    {
        Statement s(m_db, m_path, "pruneOrderPrefix(run " + std::to_string(runId) + ")",
                    "SELECT rowid FROM prune_orders WHERE run_id = ?1");
        if (!s.bind(1, runId).step())
            return std::nullopt;
        rowid = s.int64(0);
    }
    sqlite3_blob *blob = nullptr;
    if (sqlite3_blob_open(m_db, "main", "prune_orders", "data", rowid, 0, &blob) != SQLITE_OK) {
        sqlite3_blob_close(blob);
        failSql(m_db, m_path, "pruneOrderPrefix(run " + std::to_string(runId) + ")");
    }
    const size_t n = std::min(maxBytes, static_cast<size_t>(sqlite3_blob_bytes(blob)));
    std::vector<char> out(n);
    const int rc = n ? sqlite3_blob_read(blob, out.data(), static_cast<int>(n), 0) : SQLITE_OK;
    sqlite3_blob_close(blob);
    if (rc != SQLITE_OK)
        fail(m_path, "pruneOrderPrefix(run " + std::to_string(runId) + "): " + sqlite3_errstr(rc));
    return out;
}

void ExperimentStore::recordTransfer(const TransferRecord &transfer)
{
    const std::string what = "recordTransfer(run " + std::to_string(transfer.runId) + ")";
    if (transfer.sourceRunId == 0 && transfer.maskFile.empty())
        fail(m_path, what + ": needs a source run or a mask file");
    if (transfer.sourceRound < 0)
        fail(m_path, what + ": negative source round");
    Statement(m_db, m_path, what,
              "INSERT INTO transfers(run_id, source_run_id, source_round, target_task, mask_file) "
              "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(run_id) DO UPDATE SET source_run_id = excluded.source_run_id, "
              "source_round = excluded.source_round, target_task = excluded.target_task, "
              "mask_file = excluded.mask_file")
        .bind(1, transfer.runId)
        .bindId(2, transfer.sourceRunId)
        .bind(3, transfer.sourceRound)
        .bind(4, transfer.targetTask)
        .bind(5, transfer.maskFile)
        .run();
}

std::optional<TransferRecord> ExperimentStore::transfer(int64_t runId) const
{
    Statement s(m_db, m_path, "transfer(run " + std::to_string(runId) + ")",
                "SELECT source_run_id, source_round, target_task, mask_file FROM transfers WHERE run_id = ?1");
    if (!s.bind(1, runId).step())
        return std::nullopt;
    return TransferRecord{runId, s.int64(0), static_cast<int>(s.int64(1)), s.text(2), s.text(3)};
}

std::vector<int64_t> ExperimentStore::transfersFrom(int64_t id) const
{
    Statement s(m_db, m_path, "transfersFrom(run " + std::to_string(id) + ")",
                "SELECT run_id FROM transfers WHERE source_run_id = ?1 ORDER BY run_id");
    s.bind(1, id);
    std::vector<int64_t> out;
    while (s.step())
        out.push_back(s.int64(0));
    return out;
}

void ExperimentStore::deleteRuns(const std::vector<int64_t> &ids)
{
    std::string list;
    for (int64_t id : ids)
        list += (list.empty() ? "" : ", ") + std::to_string(id);
    const std::string what = "deleteRuns(" + list + ")";
    {
        Transaction tx(m_db, m_path, what);
        for (int64_t id : ids) {
            if (!Statement(m_db, m_path, what, "SELECT 1 FROM runs WHERE id = ?1").bind(1, id).step())
                fail(m_path, what + ": no run " + std::to_string(id));
            for (int64_t user : transfersFrom(id))
                if (std::find(ids.begin(), ids.end(), user) == ids.end())
                    fail(m_path, what + ": run " + std::to_string(id) + " is the source of transfer run " +
                                     std::to_string(user) + "; delete that run too, or keep this one");
        }
        Statement(m_db, m_path, what,
                  "INSERT INTO meta(key, value) SELECT 'highest_run_id', max(id) FROM runs WHERE true "
                  "ON CONFLICT(key) DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))")
            .run();
        // Children first, explicitly: a file once written with foreign keys off has no cascade to rely on.
        for (const char *sql : {"DELETE FROM curves WHERE run_id = ?1", "DELETE FROM mask_distances WHERE run_id = ?1",
                                "DELETE FROM analyses WHERE run_id = ?1", "DELETE FROM rounds WHERE run_id = ?1",
                                "DELETE FROM prune_orders WHERE run_id = ?1", "DELETE FROM transfers WHERE run_id = ?1",
                                "DELETE FROM runs WHERE id = ?1"}) {
            Statement del(m_db, m_path, what, sql);
            for (int64_t id : ids)
                del.bind(1, id).run();
        }
        tx.commit();
    }
    // The files go after the commit: a failed transaction leaves everything, and a file left by a
    // crash here is never read again (ids only grow, so no later run reuses the name).
    namespace fs = std::filesystem;
    const fs::path folder = checkpointFolder(m_path);
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
        return;
    std::vector<fs::path> files;
    for (const auto &entry : fs::directory_iterator(folder, ec))
        for (int64_t id : ids)
            if (entry.path().filename().string().rfind(checkpointStem(id), 0) == 0)
                files.push_back(entry.path());
    for (const fs::path &file : files)
        fs::remove(file, ec);
}

std::string ExperimentStore::checkpointFolder(const std::string &dbPath)
{
    return dbPath + ".checkpoints";
}

std::string ExperimentStore::checkpointFile(int64_t runId, int round) const
{
    return (std::filesystem::path(checkpointFolder(m_path)) /
            (checkpointStem(runId) + std::to_string(round) + ".safetensors"))
        .string();
}

std::string ExperimentStore::pragma(const std::string &name) const
{
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
            throw Error(m_path + ": not a pragma name: " + name);
    Statement s(m_db, m_path, "pragma(" + name + ")", "PRAGMA " + name);
    return s.step() ? s.text(0) : std::string();
}

std::optional<ModelRecord> ExperimentStore::model(int64_t id) const
{
    Statement s(m_db, m_path, "model(" + std::to_string(id) + ")",
                "SELECT path, config_json, content_hash FROM models WHERE id = ?1");
    if (!s.bind(1, id).step())
        return std::nullopt;
    return ModelRecord{id, s.text(0), s.text(1), s.text(2)};
}

std::optional<DatasetRecord> ExperimentStore::dataset(int64_t id) const
{
    Statement s(m_db, m_path, "dataset(" + std::to_string(id) + ")",
                "SELECT task, path, content_hash FROM datasets WHERE id = ?1");
    if (!s.bind(1, id).step())
        return std::nullopt;
    return DatasetRecord{id, s.text(0), s.text(1), s.text(2)};
}

std::string runLabel(const RunRecord &run)
{
    return run.task + " " + runKindName(run.kind) + " #" + std::to_string(run.id) + " (seed " +
           std::to_string(run.seed) + (run.repetition > 0 ? ", repetition " + std::to_string(run.repetition) : "") +
           ")";
}

namespace {

/// The numbers of a stored metrics object (null: NaN); an unreadable one reads as empty (the
/// store checks what it writes, so only a foreign database could hold one).
std::map<std::string, double> parseMetrics(const std::string &text)
{
    std::map<std::string, double> out;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object())
        return out;
    for (const auto &[key, value] : j.items()) {
        if (value.is_number())
            out[key] = value.get<double>();
        else if (value.is_null())
            out[key] = std::numeric_limits<double>::quiet_NaN();
    }
    return out;
}

} // namespace

std::optional<double> RoundRecord::devMetric(const std::string &key) const
{
    const auto all = devMetrics();
    const auto it = all.find(key);
    if (it == all.end() || std::isnan(it->second))
        return std::nullopt;
    return it->second;
}

std::map<std::string, double> RoundRecord::devMetrics() const
{
    return parseMetrics(devMetricsJson);
}

std::map<std::string, double> RoundRecord::trainMetrics() const
{
    return parseMetrics(trainMetricsJson);
}

bool sameMetrics(const std::map<std::string, double> &a, const std::map<std::string, double> &b)
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto &x, const auto &y) {
        return x.first == y.first && (x.second == y.second || (std::isnan(x.second) && std::isnan(y.second)));
    });
}

} // namespace tl
