// Thin RAII wrappers over the SQLite C API for the SQLite store: a
// connection and a prepared statement, with errors as absl::Status that
// carry SQLite's message and the statement.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::store {

class SqliteStmt;

class SqliteDb {
 public:
  // Opens (creating when `create`) the database file; one thread at a time
  // uses a connection. A busy timeout covers other processes' checkpoints.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path, bool create,
                                                        bool read_only);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs statements that return no rows we need.
  absl::Status Exec(absl::string_view sql);
  absl::StatusOr<SqliteStmt> Prepare(absl::string_view sql);
  // The single integer the query returns (0 for NULL or no row).
  absl::StatusOr<int64_t> QueryInt(absl::string_view sql);

  // "<what>: <sqlite message> (code N)" with a fitting code.
  absl::Status Error(int rc, absl::string_view what) const;

  sqlite3* raw() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// A prepared statement; Reset() after each use keeps it reusable.
class SqliteStmt {
 public:
  SqliteStmt(SqliteDb* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteStmt(SqliteStmt&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  SqliteStmt& operator=(SqliteStmt&& other) noexcept;
  ~SqliteStmt();
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  // Binds 1-based parameters.
  void BindInt(int index, int64_t value);
  void BindBlob(int index, absl::string_view value);
  void BindNull(int index);

  // Steps once: true with a row, false when done.
  absl::StatusOr<bool> Step();
  // Steps to the end (for INSERT/UPDATE/DELETE).
  absl::Status Run();
  void Reset();

  int64_t ColumnInt(int col) const;
  std::string ColumnBlob(int col) const;
  bool ColumnIsNull(int col) const;

 private:
  SqliteDb* db_;
  sqlite3_stmt* stmt_;
};

// Resets the statement when the scope ends, whatever path leaves it.
class StmtResetter {
 public:
  explicit StmtResetter(SqliteStmt& stmt) : stmt_(stmt) {}
  ~StmtResetter() { stmt_.Reset(); }

 private:
  SqliteStmt& stmt_;
};

}  // namespace berth::store
