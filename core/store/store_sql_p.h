#pragma once

// Internal to store/: the SQLite plumbing ExperimentStore's source files share (prepared
// statements, transactions, the error convention). Not part of the store's interface.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "store/schema.h"
#include "util/error.h"

namespace tl::storesql {

// SQLite's own clock, so every timestamp of one statement agrees and the format is fixed.
inline const std::string kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

[[noreturn]] inline void fail(const std::string &path, const std::string &what)
{
    throw Error(path + ": " + what);
}

[[noreturn]] inline void failSql(sqlite3 *db, const std::string &path, const std::string &what)
{
    fail(path, what + ": " + storeschema::errorText(db));
}

struct DbCloser
{
    void operator()(sqlite3 *db) const { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

using storeschema::exec;

/// A prepared statement that finalizes itself. Errors name the database and `what` (the
/// operation), so a constraint failure deep in commitRound still says which round failed.
class Statement
{
public:
    Statement(sqlite3 *db, const std::string &path, const std::string &what, const std::string &sql)
        : m_db(db), m_path(path), m_what(what)
    {
        if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size() + 1), &m_stmt, nullptr) != SQLITE_OK)
            failSql(m_db, m_path, m_what);
    }
    ~Statement() { sqlite3_finalize(m_stmt); }
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;

    Statement &bind(int index, int64_t value) { return check(sqlite3_bind_int64(m_stmt, index, value)); }
    Statement &bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
    /// NaN becomes NULL (SQLite would do the same silently; here it is explicit).
    Statement &bind(int index, double value)
    {
        return check(std::isnan(value) ? sqlite3_bind_null(m_stmt, index) : sqlite3_bind_double(m_stmt, index, value));
    }
    Statement &bind(int index, const std::string &value)
    {
        return check(sqlite3_bind_text64(m_stmt, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    }
    Statement &bind(int index, const std::vector<char> &value)
    {
        // A null data pointer would bind NULL, not an empty blob.
        return check(value.empty() ? sqlite3_bind_zeroblob(m_stmt, index, 0)
                                   : sqlite3_bind_blob64(m_stmt, index, value.data(), value.size(), SQLITE_TRANSIENT));
    }
    /// The records use 0 for "no such row"; the schema uses NULL, which foreign keys allow.
    Statement &bindId(int index, int64_t id)
    {
        return id == 0 ? check(sqlite3_bind_null(m_stmt, index)) : bind(index, id);
    }

    /// Steps once: true when a row is ready.
    bool step()
    {
        const int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW)
            return true;
        if (rc == SQLITE_DONE)
            return false;
        failSql(m_db, m_path, m_what);
    }
    /// Runs a statement that returns no rows, leaving it ready to run again with new bindings.
    void run()
    {
        step();
        sqlite3_reset(m_stmt);
    }

    bool isNull(int column) const { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }
    int64_t int64(int column) const { return sqlite3_column_int64(m_stmt, column); }
    double real(int column) const
    {
        return isNull(column) ? std::numeric_limits<double>::quiet_NaN() : sqlite3_column_double(m_stmt, column);
    }
    std::string text(int column) const
    {
        const auto *data = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, column));
        return data ? std::string(data, static_cast<size_t>(sqlite3_column_bytes(m_stmt, column))) : std::string();
    }
    std::vector<char> blob(int column) const
    {
        const auto *data = static_cast<const char *>(sqlite3_column_blob(m_stmt, column));
        return data ? std::vector<char>(data, data + sqlite3_column_bytes(m_stmt, column)) : std::vector<char>();
    }

private:
    Statement &check(int rc)
    {
        if (rc != SQLITE_OK)
            failSql(m_db, m_path, m_what);
        return *this;
    }

    sqlite3 *m_db;
    const std::string &m_path;
    std::string m_what;
    sqlite3_stmt *m_stmt = nullptr;
};

/// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() ran. IMMEDIATE takes the write lock
/// up front: a deferred transaction that upgrades from read to write can fail with
/// SQLITE_BUSY at once in WAL mode, without waiting on the busy timeout. Inside an open
/// transaction (ExperimentStore::inTransaction) it is a savepoint, so every write method can
/// be part of a larger all-or-nothing change.
class Transaction
{
public:
    Transaction(sqlite3 *db, const std::string &path, const std::string &what)
        : m_db(db), m_path(path), m_what(what), m_nested(sqlite3_get_autocommit(db) == 0)
    {
        exec(m_db, m_path, m_what + ": cannot begin a transaction",
             m_nested ? "SAVEPOINT tl_nested" : "BEGIN IMMEDIATE");
    }
    ~Transaction()
    {
        if (!m_done)
            sqlite3_exec(m_db, m_nested ? "ROLLBACK TO tl_nested; RELEASE tl_nested" : "ROLLBACK", nullptr, nullptr,
                         nullptr);
    }
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;

    void commit()
    {
        exec(m_db, m_path, m_what + ": cannot commit", m_nested ? "RELEASE tl_nested" : "COMMIT");
        m_done = true;
    }

private:
    sqlite3 *m_db;
    const std::string &m_path;
    std::string m_what;
    bool m_nested = false;
    bool m_done = false;
};

} // namespace tl::storesql
