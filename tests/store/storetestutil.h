#pragma once

// Helpers shared by the experiment-store tests: a raw SQLite connection for what the store API
// cannot do, the released version-1 schema, record builders and comparisons.

#include <QElapsedTimer>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>
#include <sqlite3.h>
#include "store/experiment_store.h"
#include "testdata.h"
#include "testruns.h"
#include "util/error.h"

namespace storetest {

// The version-1 schema exactly as released, written out here rather than taken from
// schema.cpp: the migration test must start from what old files really hold.
const char *const kVersion1Ddl = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE models(id INTEGER PRIMARY KEY, path TEXT NOT NULL, config_json TEXT NOT NULL DEFAULT '{}',
    content_hash TEXT NOT NULL, UNIQUE(path, content_hash));
CREATE TABLE datasets(id INTEGER PRIMARY KEY, task TEXT NOT NULL, path TEXT NOT NULL, content_hash TEXT NOT NULL,
    UNIQUE(task, path, content_hash));
CREATE TABLE runs(id INTEGER PRIMARY KEY, kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK(status IN ('running', 'done', 'failed', 'cancelled')),
    spec_json TEXT NOT NULL, spec_hash TEXT NOT NULL, seed INTEGER NOT NULL,
    model_id INTEGER REFERENCES models(id), dataset_id INTEGER REFERENCES datasets(id),
    task TEXT NOT NULL, ticketlab_version TEXT NOT NULL, device TEXT NOT NULL, threads INTEGER NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX runs_by_spec ON runs(spec_hash, seed);
CREATE INDEX runs_by_task ON runs(task);
CREATE INDEX runs_by_status ON runs(status);
CREATE TABLE rounds(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    round INTEGER NOT NULL CHECK(round >= 0),
    sparsity REAL NOT NULL CHECK(sparsity >= 0 AND sparsity <= 1),
    train_metrics TEXT NOT NULL DEFAULT '{}', dev_metrics TEXT NOT NULL DEFAULT '{}',
    train_seconds REAL NOT NULL DEFAULT 0, eval_seconds REAL NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 0 CHECK(steps >= 0), committed_at TEXT NOT NULL,
    PRIMARY KEY(run_id, round));
CREATE TABLE curves(run_id INTEGER NOT NULL, round INTEGER NOT NULL, step INTEGER NOT NULL CHECK(step >= 0),
    loss REAL, lr REAL NOT NULL,
    FOREIGN KEY(run_id, round) REFERENCES rounds(run_id, round) ON DELETE CASCADE);
CREATE INDEX curves_by_run ON curves(run_id, round, step);
CREATE TABLE prune_orders(run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    data BLOB NOT NULL, updated_at TEXT NOT NULL);
INSERT INTO meta(key, value) VALUES('schema_version', '1');
)sql";

// What migration 2 added, as released (applied on top of kVersion1Ddl).
const char *const kVersion2Ddl = R"sql(
ALTER TABLE runs ADD COLUMN error TEXT NOT NULL DEFAULT '';
CREATE TABLE transfers(run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    source_run_id INTEGER REFERENCES runs(id), source_round INTEGER NOT NULL DEFAULT 0 CHECK(source_round >= 0),
    target_task TEXT NOT NULL, mask_file TEXT NOT NULL DEFAULT '',
    CHECK(source_run_id IS NOT NULL OR mask_file <> ''));
CREATE INDEX transfers_by_source ON transfers(source_run_id);
UPDATE meta SET value = '2' WHERE key = 'schema_version';
)sql";

// What migration 3 added, as released (applied on top of kVersion2Ddl).
const char *const kVersion3Ddl = R"sql(
ALTER TABLE runs ADD COLUMN repetition INTEGER NOT NULL DEFAULT 0 CHECK(repetition >= 0);
ALTER TABLE runs ADD COLUMN torch_version TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN blas TEXT NOT NULL DEFAULT '';
UPDATE meta SET value = '3' WHERE key = 'schema_version';
)sql";

/// A raw connection for what the store's API cannot do: build old or foreign files, hold a
/// transaction open, look at pragmas.
class RawDb
{
public:
    explicit RawDb(const QString &path)
    {
        if (sqlite3_open_v2(path.toUtf8().constData(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
            SQLITE_OK)
            qFatal("cannot open %s", qPrintable(path));
        sqlite3_busy_timeout(m_db, 5000);
    }
    ~RawDb() { sqlite3_close_v2(m_db); }
    RawDb(const RawDb &) = delete;
    RawDb &operator=(const RawDb &) = delete;

    bool exec(const char *sql)
    {
        char *message = nullptr;
        const bool ok = sqlite3_exec(m_db, sql, nullptr, nullptr, &message) == SQLITE_OK;
        if (!ok)
            qWarning("sqlite: %s", message ? message : "?");
        sqlite3_free(message);
        return ok;
    }
    QString text(const char *sql)
    {
        sqlite3_stmt *stmt = nullptr;
        QString out;
        if (sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
            out = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0)));
        sqlite3_finalize(stmt);
        return out;
    }

private:
    sqlite3 *m_db = nullptr;
};

inline QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

inline void writeAll(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QCOMPARE(f.write(bytes), bytes.size());
}

using tltest::errorOf;

inline QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

/// The record of an IMP run on RTE (tltest::RunBuilder's) with this identity and status.
inline tl::RunRecord makeRun(const std::string &specHash, uint64_t seed, const std::string &status = "running")
{
    tl::RunRecord r =
        tltest::RunBuilder(tl::RunKind::Imp, "RTE", seed).spec(R"({"kind":"imp","task":"RTE"})", specHash).record();
    r.status = status;
    return r;
}

inline tl::RoundRecord makeRound(int64_t runId, int round, double devAccuracy)
{
    tl::RoundRecord r;
    r.runId = runId;
    r.round = round;
    r.sparsity = 0.1 * round;
    r.trainMetricsJson = R"({"loss":0.5})";
    r.devMetricsJson = R"({"accuracy":)" + std::to_string(devAccuracy) + "}";
    r.trainSeconds = 12.5;
    r.evalSeconds = 1.25;
    r.steps = 100 * (round + 1);
    return r;
}

inline std::vector<tl::CurvePoint> makeCurve(int round, int points)
{
    std::vector<tl::CurvePoint> out;
    for (int i = 0; i < points; ++i)
        out.push_back({round, i * 10, 1.0 / (i + 1), 2e-5 * (points - i)});
    return out;
}

inline bool sameCurve(const std::vector<tl::CurvePoint> &a, const std::vector<tl::CurvePoint> &b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        const bool lossSame = (std::isnan(a[i].loss) && std::isnan(b[i].loss)) || a[i].loss == b[i].loss;
        if (a[i].round != b[i].round || a[i].step != b[i].step || !lossSame || a[i].lr != b[i].lr)
            return false;
    }
    return true;
}

inline bool sameRounds(const std::vector<tl::RoundRecord> &a, const std::vector<tl::RoundRecord> &b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].runId != b[i].runId || a[i].round != b[i].round || a[i].sparsity != b[i].sparsity ||
            a[i].trainMetricsJson != b[i].trainMetricsJson || a[i].devMetricsJson != b[i].devMetricsJson ||
            a[i].trainSeconds != b[i].trainSeconds || a[i].evalSeconds != b[i].evalSeconds || a[i].steps != b[i].steps)
            return false;
    }
    return true;
}

inline QStringList sideFiles(const QString &dbPath)
{
    QStringList out;
    for (const char *suffix : {"-wal", "-shm", "-journal"}) {
        if (QFile::exists(dbPath + QLatin1String(suffix)))
            out << dbPath + QLatin1String(suffix);
    }
    return out;
}

} // namespace storetest
