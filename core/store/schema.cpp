#include "store/schema.h"

#include <cstring>
#include <memory>
#include <stdexcept>

#include <sqlite3.h>

#include "util/error.h"

namespace tl::storeschema {

std::string errorText(sqlite3 *db, const char *message)
{
    std::string text = message ? message : sqlite3_errmsg(db);
    const int code = sqlite3_extended_errcode(db), primary = code & 0xff;
    if (primary != SQLITE_IOERR && primary != SQLITE_FULL && primary != SQLITE_CANTOPEN)
        return text;
    if (sqlite3_system_errno(db) != 0)
        text += std::string(" (") + std::strerror(sqlite3_system_errno(db)) + ")";
    else if (primary == SQLITE_FULL || code == SQLITE_IOERR_WRITE || code == SQLITE_IOERR_FSYNC)
        text += " (a write was cut short: is the disk full, or over a file-size limit?)";
    return text;
}

namespace {

// Version 1: the first released schema. Frozen: tests build this by hand to check the
// migration path, and real databases in the field hold exactly this.
//
// Conventions that hold for every version:
// - Timestamps are ISO-8601 UTC text with milliseconds ("2024-05-01T12:34:56.789Z"), so they
//   sort as text and read well in the sqlite3 shell.
// - runs.seed is a uint64 stored as the int64 with the same bits (SQLite has no unsigned type).
// - A 0 id in the C++ records is NULL here (no model, no dataset, no source run).
// - rounds needs no separate "by run" index: its primary key (run_id, round) is one.
const char *const kVersion1 = R"sql(
CREATE TABLE meta(
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE models(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    config_json TEXT NOT NULL DEFAULT '{}',
    content_hash TEXT NOT NULL,
    UNIQUE(path, content_hash)
);
CREATE TABLE datasets(
    id INTEGER PRIMARY KEY,
    task TEXT NOT NULL,
    path TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    UNIQUE(task, path, content_hash)
);
CREATE TABLE runs(
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK(status IN ('running', 'done', 'failed', 'cancelled')),
    spec_json TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    model_id INTEGER REFERENCES models(id),
    dataset_id INTEGER REFERENCES datasets(id),
    task TEXT NOT NULL,
    ticketlab_version TEXT NOT NULL,
    device TEXT NOT NULL,
    threads INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX runs_by_spec ON runs(spec_hash, seed);
CREATE INDEX runs_by_task ON runs(task);
CREATE INDEX runs_by_status ON runs(status);
CREATE TABLE rounds(
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    round INTEGER NOT NULL CHECK(round >= 0),
    sparsity REAL NOT NULL CHECK(sparsity >= 0 AND sparsity <= 1),
    train_metrics TEXT NOT NULL DEFAULT '{}',
    dev_metrics TEXT NOT NULL DEFAULT '{}',
    train_seconds REAL NOT NULL DEFAULT 0,
    eval_seconds REAL NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 0 CHECK(steps >= 0),
    committed_at TEXT NOT NULL,
    PRIMARY KEY(run_id, round)
);
-- loss is NULL when it was NaN (a diverged step is data too, and SQLite stores NaN as NULL).
CREATE TABLE curves(
    run_id INTEGER NOT NULL,
    round INTEGER NOT NULL,
    step INTEGER NOT NULL CHECK(step >= 0),
    loss REAL,
    lr REAL NOT NULL,
    FOREIGN KEY(run_id, round) REFERENCES rounds(run_id, round) ON DELETE CASCADE
);
CREATE INDEX curves_by_run ON curves(run_id, round, step);
CREATE TABLE prune_orders(
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    data BLOB NOT NULL,
    updated_at TEXT NOT NULL
);
)sql";

// Version 2: failed runs keep their message; transfer runs record where their mask came
// from (a round of a stored run, or a mask file from elsewhere: then source_run_id is NULL).
const char *const kVersion2 = R"sql(
ALTER TABLE runs ADD COLUMN error TEXT NOT NULL DEFAULT '';
CREATE TABLE transfers(
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    source_run_id INTEGER REFERENCES runs(id),
    source_round INTEGER NOT NULL DEFAULT 0 CHECK(source_round >= 0),
    target_task TEXT NOT NULL,
    mask_file TEXT NOT NULL DEFAULT '',
    CHECK(source_run_id IS NOT NULL OR mask_file <> '')
);
-- Child-key index: deleting a run checks that no transfer still uses it as a source.
CREATE INDEX transfers_by_source ON transfers(source_run_id);
)sql";

// Version 3: a run records the LibTorch and BLAS it ran on, and its repetition index (0: the
// spec's own run of a seed; k >= 1: the k-th explicit repetition, `run --repeat k`, whose
// spec hash differs, so that each repetition is an identity of its own and resumes as one).
const char *const kVersion3 = R"sql(
ALTER TABLE runs ADD COLUMN repetition INTEGER NOT NULL DEFAULT 0 CHECK(repetition >= 0);
ALTER TABLE runs ADD COLUMN torch_version TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN blas TEXT NOT NULL DEFAULT '';
)sql";

// Version 4: early-bird tickets and stored analyses. While an IMP round trains, the mask its
// next prune would make is drawn every few steps and its Hamming distance to the previous draw
// (the fraction of prunable weights that differ) is recorded with the round's curve; a round
// the early-bird criterion ended records the step (rounds.early_bird_step, NULL: it ran its
// whole schedule). An analysis is a computed result kept with its parameters so that a view can
// show it later: about a model (a layer sensitivity scan; run_id NULL) or about a round of a run
// (the head importance a structured run pruned by; deleted with the run).
const char *const kVersion4 = R"sql(
ALTER TABLE rounds ADD COLUMN early_bird_step INTEGER CHECK(early_bird_step IS NULL OR early_bird_step >= 0);
CREATE TABLE mask_distances(
    run_id INTEGER NOT NULL,
    round INTEGER NOT NULL,
    step INTEGER NOT NULL CHECK(step >= 0),
    distance REAL NOT NULL CHECK(distance >= 0 AND distance <= 1),
    FOREIGN KEY(run_id, round) REFERENCES rounds(run_id, round) ON DELETE CASCADE
);
CREATE INDEX mask_distances_by_run ON mask_distances(run_id, round, step);
CREATE TABLE analyses(
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    model_id INTEGER REFERENCES models(id),
    dataset_id INTEGER REFERENCES datasets(id),
    task TEXT NOT NULL DEFAULT '',
    run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    round INTEGER CHECK(round IS NULL OR round >= 0),
    params_json TEXT NOT NULL DEFAULT '{}',
    result_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX analyses_by_kind ON analyses(kind, task);
CREATE INDEX analyses_by_run ON analyses(run_id, round);
)sql";

} // namespace

const std::vector<Migration> &migrations()
{
    static const std::vector<Migration> all = {{1, kVersion1}, {2, kVersion2}, {3, kVersion3}, {4, kVersion4}};
    return all;
}

int currentVersion()
{
    return migrations().back().toVersion;
}

namespace {

[[noreturn]] void fail(const std::string &path, const std::string &what)
{
    throw Error(path + ": " + what);
}

struct Finalizer
{
    void operator()(sqlite3_stmt *stmt) const { sqlite3_finalize(stmt); }
};
using StmtHandle = std::unique_ptr<sqlite3_stmt, Finalizer>;

StmtHandle prepare(sqlite3 *db, const std::string &path, const std::string &what, const char *sql)
{
    sqlite3_stmt *stmt = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
    StmtHandle handle(stmt);
    if (rc != SQLITE_OK)
        fail(path, what + ": " + errorText(db));
    return handle;
}

/// sqlite3_step that throws: true when a row is ready.
bool step(sqlite3 *db, sqlite3_stmt *stmt, const std::string &path, const std::string &what)
{
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        fail(path, what + ": " + errorText(db));
    return rc == SQLITE_ROW;
}

std::string columnText(sqlite3_stmt *stmt, int column)
{
    const auto *text = reinterpret_cast<const char *>(sqlite3_column_text(stmt, column));
    return text ? std::string(text) : std::string();
}

} // namespace

int readVersion(sqlite3 *db, const std::string &path)
{
    const char *const tablesSql = "SELECT name FROM sqlite_master WHERE type = 'table'";
    // The first read of the file is where SQLite notices that it is not a database at all.
    sqlite3_stmt *raw = nullptr;
    const int rc = sqlite3_prepare_v2(db, tablesSql, -1, &raw, nullptr);
    StmtHandle tables(raw);
    if ((rc & 0xff) == SQLITE_NOTADB)
        fail(path, std::string("not an SQLite database (") + sqlite3_errmsg(db) + ")");
    if (rc != SQLITE_OK)
        fail(path, std::string("cannot read the database: ") + errorText(db));

    bool hasMeta = false;
    bool hasOthers = false;
    while (step(db, tables.get(), path, "cannot read the database")) {
        if (columnText(tables.get(), 0) == "meta")
            hasMeta = true;
        else
            hasOthers = true;
    }
    if (!hasMeta) {
        if (hasOthers)
            fail(path, "not a TicketLab experiment database (it has tables but no meta table)");
        return 0;
    }

    const std::string what = "cannot read the schema version";
    StmtHandle query = prepare(db, path, what, "SELECT value FROM meta WHERE key = 'schema_version'");
    if (!step(db, query.get(), path, what))
        fail(path, "not a TicketLab experiment database (its meta table has no schema_version)");
    const std::string text = columnText(query.get(), 0);
    int version = 0;
    try {
        size_t used = 0;
        version = std::stoi(text, &used);
        if (used != text.size() || version < 1)
            throw std::invalid_argument(text);
    } catch (const std::exception &) {
        fail(path, "corrupt meta.schema_version '" + text + "'");
    }
    if (version > currentVersion())
        fail(path, "the database has schema version " + std::to_string(version) +
                       ", newer than this build of TicketLab knows (" + std::to_string(currentVersion()) +
                       "); open it with a newer TicketLab");
    return version;
}

void migrate(sqlite3 *db, const std::string &path)
{
    // IMMEDIATE: two processes opening an old file at once queue here instead of both
    // migrating; the second then finds the work done.
    exec(db, path, "schema migration: cannot begin a transaction", "BEGIN IMMEDIATE");
    try {
        const int from = readVersion(db, path);
        for (const Migration &m : migrations()) {
            if (m.toVersion <= from)
                continue;
            const std::string what = "migration to schema version " + std::to_string(m.toVersion);
            exec(db, path, what, m.sql);
            StmtHandle set = prepare(db, path, what,
                                     "INSERT INTO meta(key, value) VALUES('schema_version', ?1) "
                                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
            const std::string version = std::to_string(m.toVersion);
            if (sqlite3_bind_text(set.get(), 1, version.c_str(), -1, SQLITE_TRANSIENT) != SQLITE_OK)
                fail(path, what + ": " + errorText(db));
            step(db, set.get(), path, what);
        }
        exec(db, path, "schema migration: cannot commit", "COMMIT");
    } catch (...) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

void exec(sqlite3 *db, const std::string &path, const std::string &what, const char *sql)
{
    char *message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        const std::string text = errorText(db, message);
        sqlite3_free(message);
        throw Error(path + ": " + what + ": " + text);
    }
}

} // namespace tl::storeschema
