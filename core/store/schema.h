#pragma once

// The experiment store's schema as a list of forward migrations, and the code that reads a
// file's version and brings it forward. Version N is reached by applying migrations 1..N in
// order to an empty database, so a fresh store and an old one that was migrated end in the
// same schema by construction. A migration, once released, is never edited: a change is a new
// migration appended to the list.

#include <string>
#include <vector>

struct sqlite3;

namespace tl::storeschema {

/// One forward step: SQL (several statements) that takes a database from toVersion - 1 to
/// toVersion. The runner records toVersion in meta.schema_version in the same transaction.
struct Migration
{
    int toVersion;
    const char *sql;
};

/// All migrations in order; migrations()[i].toVersion == i + 1.
const std::vector<Migration> &migrations();

/// The schema version this build writes: migrations().back().toVersion.
int currentVersion();

/// The schema version of an open database, read without writing anything: 0 for an empty
/// database. Throws tl::Error ("PATH: ...") for a file that is not SQLite, an SQLite database
/// of another application (tables but no meta), a corrupt version, and a version newer than
/// currentVersion().
int readVersion(sqlite3 *db, const std::string &path);

/// SQLite's message for the last error on db (or `message`, sqlite3_exec's), with the operating
/// system's reason where the error came from the filesystem: "disk I/O error (File too large)",
/// or, for a short write that left no errno, a question about a full disk.
std::string errorText(sqlite3 *db, const char *message = nullptr);

/// Runs SQL (several statements allowed); on failure throws tl::Error "PATH: WHAT: sqlite's
/// message". Shared by the migration code and the store.
void exec(sqlite3 *db, const std::string &path, const std::string &what, const char *sql);

/// Brings the database to currentVersion() in one BEGIN IMMEDIATE transaction (rolled back on
/// any error), reading the version again under the write lock in case another process
/// migrated it meanwhile. Foreign keys should be on already (a no-op inside a transaction).
void migrate(sqlite3 *db, const std::string &path);

} // namespace tl::storeschema
