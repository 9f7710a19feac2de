#include "controlplane/store/sqlite_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace berth::store {

namespace {

constexpr absl::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS log (
  revision        INTEGER PRIMARY KEY,
  key             BLOB    NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision   INTEGER NOT NULL,
  deleted         INTEGER NOT NULL,
  value           BLOB
);
CREATE INDEX IF NOT EXISTS log_key_revision ON log (key, revision);
CREATE TABLE IF NOT EXISTS current (
  key      BLOB PRIMARY KEY,
  revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

std::string Quote(const std::string& key) { return absl::StrCat("\"", absl::CHexEscape(key), "\""); }

absl::Status ValidatePrefix(const std::string& prefix) { return ValidateKey(prefix, "prefix"); }

// fsyncs `path` (a file or a directory).
absl::Status SyncPath(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(absl::StrCat("open ", path));
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return ErrnoError(err, absl::StrCat("fsync ", path));
  return absl::OkStatus();
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status RenameDurably(const std::string& from, const std::string& to) {
  RETURN_IF_ERROR(SyncPath(from));
  if (rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoError(absl::StrCat("rename ", from, " to ", to));
  }
  return SyncPath(DirOf(to));
}

}  // namespace

// ---------------------------------------------------------------------------
// Connections and their statements.

struct SqliteStore::Reader {
  std::unique_ptr<SqliteDb> db;
  std::optional<SqliteStmt> get, max_rev, compact_rev, list_current, list_history, catch_up,
      begin, commit;
};

struct SqliteStore::Writer {
  std::unique_ptr<SqliteDb> db;
  std::optional<SqliteStmt> select_current, insert_log, upsert_current, delete_current, begin,
      commit, rollback, compact, set_compact;
  int64_t revision = 0;  // newest committed revision
};

enum class OpKind { kCreate, kUpdate, kDelete, kCompact };

struct SqliteStore::WriteResult {
  absl::Status status;
  int64_t revision = 0;
  KeyValue prev;
};

struct SqliteStore::WriteOp {
  OpKind kind;
  std::string key;
  std::string value;
  std::optional<int64_t> expected;
  int64_t compact_to = 0;
  std::promise<WriteResult> done;
};

struct SqliteStore::CommittedBatch {
  std::vector<std::unique_ptr<WriteOp>> ops;
  std::vector<WriteResult> results;
  std::vector<EventPtr> events;
};

class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* store, std::unique_ptr<Reader> reader)
      : store_(store), reader_(std::move(reader)) {}
  ReaderLease(ReaderLease&&) = default;
  ~ReaderLease() {
    if (reader_) store_->ReturnReader(std::move(reader_));
  }
  Reader* operator->() { return reader_.get(); }

 private:
  SqliteStore* store_;
  std::unique_ptr<Reader> reader_;
};

// ---------------------------------------------------------------------------
// The watcher.

class SqliteStore::SqliteWatcher : public Watcher {
 public:
  SqliteWatcher(std::shared_ptr<WatchHub> hub, int64_t id, std::shared_ptr<WatchQueue> queue,
                absl::Duration progress_interval)
      : hub_(std::move(hub)),
        id_(id),
        queue_(std::move(queue)),
        progress_interval_(progress_interval),
        last_activity_(absl::Now()) {}
  ~SqliteWatcher() override { Stop(); }

  absl::StatusOr<std::vector<EventPtr>> Next(absl::Time deadline) override {
    while (true) {
      absl::Time wait_until = deadline;
      absl::Time progress_due = absl::InfiniteFuture();
      if (progress_interval_ > absl::ZeroDuration()) {
        progress_due = last_activity_ + progress_interval_;
        wait_until = std::min(wait_until, progress_due);
      }
      auto events = queue_->Next(wait_until);
      if (!events.ok() || !events->empty()) {
        last_activity_ = absl::Now();
        return events;
      }
      if (absl::Now() < progress_due) return events;  // the caller's deadline
      // Idle for a whole interval: a bookmark at the published revision.
      hub_->Bookmark(id_);
      last_activity_ = absl::Now();
    }
  }

  void RequestProgress() override { hub_->Bookmark(id_); }

  void Stop() override {
    queue_->Close(absl::CancelledError("watch stopped"));
    hub_->Unregister(id_);
  }

 private:
  std::shared_ptr<WatchHub> hub_;
  int64_t id_;
  std::shared_ptr<WatchQueue> queue_;
  absl::Duration progress_interval_;
  absl::Time last_activity_;
};

// ---------------------------------------------------------------------------
// Opening.

SqliteStore::SqliteStore(SqliteStoreOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteStoreOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("sqlite store: path is empty");
  if (options.max_batch == 0) {
    return absl::InvalidArgumentError("sqlite store: max_batch must be at least 1");
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(options));
  RETURN_IF_ERROR(store->Init());
  return store;
}

namespace {
int WalHook(void* arg, sqlite3*, const char*, int pages) {
  auto* fn = static_cast<std::function<void(int)>*>(arg);
  (*fn)(pages);
  return SQLITE_OK;
}
}  // namespace

namespace {
// Takes the store file's lock (a sibling "<path>.lock", flock'd exclusively),
// so a second process, or a restore, cannot write the same file at once.
absl::StatusOr<int> LockStoreFile(const std::string& db_path) {
  const std::string lock_path = db_path + ".lock";
  int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError(absl::StrCat("open ", lock_path));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sqlite store ", db_path, " is open in another store (", lock_path, " is locked)"));
    }
    return ErrnoError(err, absl::StrCat("flock ", lock_path));
  }
  return fd;
}
}  // namespace

absl::Status SqliteStore::Init() {
  ASSIGN_OR_RETURN(lock_fd_, LockStoreFile(options_.path));
  writer_ = std::make_unique<Writer>();
  ASSIGN_OR_RETURN(writer_->db, SqliteDb::Open(options_.path, /*create=*/true, /*read_only=*/false));
  SqliteDb& db = *writer_->db;
  // auto_vacuum must be chosen before the first table exists; an older file
  // without it is converted once by VACUUM.
  RETURN_IF_ERROR(db.Exec(absl::StrCat("PRAGMA page_size = ", options_.page_size)));
  RETURN_IF_ERROR(db.Exec("PRAGMA auto_vacuum = INCREMENTAL"));
  ASSIGN_OR_RETURN(int64_t tables, db.QueryInt("SELECT count(*) FROM sqlite_master"));
  ASSIGN_OR_RETURN(int64_t auto_vacuum, db.QueryInt("PRAGMA auto_vacuum"));
  if (tables > 0 && auto_vacuum != 2) RETURN_IF_ERROR(db.Exec("VACUUM"));
  {
    ASSIGN_OR_RETURN(SqliteStmt mode, db.Prepare("PRAGMA journal_mode = WAL"));
    ASSIGN_OR_RETURN(bool row, mode.Step());
    if (!row || mode.ColumnBlob(0) != "wal") {
      return absl::FailedPreconditionError(
          absl::StrCat("sqlite store ", options_.path, ": cannot switch to WAL journal mode"));
    }
  }
  RETURN_IF_ERROR(db.Exec(options_.sync == SqliteSync::kFull ? "PRAGMA synchronous = FULL"
                                                             : "PRAGMA synchronous = NORMAL"));
  RETURN_IF_ERROR(db.Exec("PRAGMA journal_size_limit = 67108864"));
  RETURN_IF_ERROR(db.Exec(kSchema));

  ASSIGN_OR_RETURN(writer_->select_current,
                   db.Prepare("SELECT c.revision, l.create_revision, l.value FROM current c "
                              "JOIN log l ON l.revision = c.revision WHERE c.key = ?1"));
  ASSIGN_OR_RETURN(writer_->insert_log,
                   db.Prepare("INSERT INTO log (revision, key, create_revision, prev_revision, "
                              "deleted, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  ASSIGN_OR_RETURN(writer_->upsert_current,
                   db.Prepare("INSERT OR REPLACE INTO current (key, revision) VALUES (?1, ?2)"));
  ASSIGN_OR_RETURN(writer_->delete_current, db.Prepare("DELETE FROM current WHERE key = ?1"));
  ASSIGN_OR_RETURN(writer_->begin, db.Prepare("BEGIN IMMEDIATE"));
  ASSIGN_OR_RETURN(writer_->commit, db.Prepare("COMMIT"));
  ASSIGN_OR_RETURN(writer_->rollback, db.Prepare("ROLLBACK"));
  // A row goes when a newer row of its key is also below the compaction
  // revision, or when it is a deletion below it (its older rows go too).
  ASSIGN_OR_RETURN(writer_->compact,
                   db.Prepare("DELETE FROM log WHERE revision < ?1 AND (deleted = 1 OR EXISTS ("
                              "SELECT 1 FROM log n WHERE n.key = log.key "
                              "AND n.revision > log.revision AND n.revision < ?1))"));
  ASSIGN_OR_RETURN(writer_->set_compact,
                   db.Prepare("INSERT OR REPLACE INTO meta (name, value) "
                              "VALUES ('compact_revision', ?1)"));
  ASSIGN_OR_RETURN(writer_->revision, db.QueryInt("SELECT COALESCE(MAX(revision), 0) FROM log"));
  ASSIGN_OR_RETURN(int64_t compacted,
                   db.QueryInt("SELECT COALESCE((SELECT value FROM meta "
                               "WHERE name = 'compact_revision'), 0)"));
  compact_revision_ = compacted;
  hub_->SetPublishedRevision(writer_->revision);

  // The WAL is checkpointed by a thread of its own, not inside commits.
  RETURN_IF_ERROR(db.Exec("PRAGMA wal_autocheckpoint = 0"));
  auto* hook = new std::function<void(int)>([this](int pages) {
    if (pages < options_.wal_checkpoint_pages) return;
    {
      std::lock_guard<std::mutex> lock(ckpt_mu_);
      ckpt_wanted_ = true;
    }
    ckpt_cv_.notify_one();
  });
  wal_hook_.reset(hook);
  sqlite3_wal_hook(db.raw(), WalHook, hook);

  // A reader up front proves the file is readable by another connection.
  {
    ASSIGN_OR_RETURN(ReaderLease first, BorrowReader());
  }

  writer_thread_ = std::thread([this] { WriterLoop(); });
  ckpt_thread_ = std::thread([this] { CheckpointLoop(); });
  if (options_.sync == SqliteSync::kNormal) {
    flush_thread_ = std::thread([this] { FlusherLoop(); });
  }
  if (options_.sync == SqliteSync::kPipelined) {
    sync_thread_ = std::thread([this] { SyncerLoop(); });
  }
  if (options_.compaction_interval > absl::ZeroDuration()) {
    compactor_thread_ = std::thread([this] { CompactorLoop(); });
  }
  BERTH_LOG(Info) << "sqlite store open" << Kv("path", options_.path)
                  << Kv("revision", writer_->revision) << Kv("compacted", compacted);
  return absl::OkStatus();
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard<std::mutex> lock(compactor_mu_);
    compactor_stop_ = true;
  }
  compactor_cv_.notify_all();
  if (compactor_thread_.joinable()) compactor_thread_.join();
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    sync_stop_ = true;
  }
  sync_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  {
    std::lock_guard<std::mutex> lock(ckpt_mu_);
    ckpt_stop_ = true;
  }
  ckpt_cv_.notify_all();
  if (ckpt_thread_.joinable()) ckpt_thread_.join();
  {
    std::lock_guard<std::mutex> lock(flush_mu_);
    flush_stop_ = true;
  }
  flush_cv_.notify_all();
  if (flush_thread_.joinable()) flush_thread_.join();
  hub_->CloseAll(absl::UnavailableError(absl::StrCat("sqlite store ", options_.path, " closed")));
  if (writer_ && writer_->db) sqlite3_wal_hook(writer_->db->raw(), nullptr, nullptr);
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    free_readers_.clear();
  }
  writer_.reset();
  if (lock_fd_ >= 0) close(lock_fd_);
}

absl::StatusOr<std::unique_ptr<SqliteStore::Reader>> SqliteStore::NewReader() {
  auto r = std::make_unique<Reader>();
  ASSIGN_OR_RETURN(r->db, SqliteDb::Open(options_.path, /*create=*/false, /*read_only=*/false));
  SqliteDb& db = *r->db;
  RETURN_IF_ERROR(db.Exec("PRAGMA query_only = 1"));
  ASSIGN_OR_RETURN(r->get, db.Prepare("SELECT l.value, l.create_revision, l.revision FROM current c "
                                      "JOIN log l ON l.revision = c.revision WHERE c.key = ?1"));
  ASSIGN_OR_RETURN(r->max_rev, db.Prepare("SELECT COALESCE(MAX(revision), 0) FROM log"));
  ASSIGN_OR_RETURN(r->compact_rev,
                   db.Prepare("SELECT COALESCE((SELECT value FROM meta "
                              "WHERE name = 'compact_revision'), 0)"));
  ASSIGN_OR_RETURN(r->list_current,
                   db.Prepare("SELECT c.key, l.value, l.create_revision, l.revision FROM current c "
                              "JOIN log l ON l.revision = c.revision "
                              "WHERE c.key >= ?1 AND c.key < ?2 ORDER BY c.key LIMIT ?3"));
  ASSIGN_OR_RETURN(r->list_history,
                   db.Prepare("SELECT l.key, l.value, l.create_revision, l.revision FROM "
                              "(SELECT key AS k, MAX(revision) AS r FROM log "
                              " WHERE key >= ?1 AND key < ?2 AND revision <= ?3 GROUP BY key) m "
                              "JOIN log l ON l.revision = m.r WHERE l.deleted = 0 "
                              "ORDER BY l.key LIMIT ?4"));
  ASSIGN_OR_RETURN(r->catch_up,
                   db.Prepare("SELECT l.revision, l.key, l.create_revision, l.deleted, l.value, "
                              "p.revision, p.create_revision, p.value FROM log l "
                              "LEFT JOIN log p ON p.revision = l.prev_revision "
                              "WHERE l.revision >= ?1 AND l.key >= ?2 AND l.key < ?3 "
                              "ORDER BY l.revision"));
  ASSIGN_OR_RETURN(r->begin, db.Prepare("BEGIN"));
  ASSIGN_OR_RETURN(r->commit, db.Prepare("COMMIT"));
  return r;
}

absl::StatusOr<SqliteStore::ReaderLease> SqliteStore::BorrowReader() {
  {
    std::unique_lock<std::mutex> lock(readers_mu_);
    // At most max_readers connections (each has its own page cache); more
    // concurrent reads wait for one to come back.
    readers_cv_.wait(lock, [&] {
      return !free_readers_.empty() || readers_open_ < options_.max_readers;
    });
    if (!free_readers_.empty()) {
      auto r = std::move(free_readers_.back());
      free_readers_.pop_back();
      return ReaderLease(this, std::move(r));
    }
    ++readers_open_;
  }
  auto r = NewReader();
  if (!r.ok()) {
    {
      std::lock_guard<std::mutex> lock(readers_mu_);
      --readers_open_;
    }
    readers_cv_.notify_one();
    return r.status();
  }
  return ReaderLease(this, std::move(*r));
}

void SqliteStore::ReturnReader(std::unique_ptr<Reader> reader) {
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    free_readers_.push_back(std::move(reader));
  }
  readers_cv_.notify_one();
}

// ---------------------------------------------------------------------------
// Reads.

namespace {
// Runs `fn` inside a read transaction so that every statement sees one snapshot.
template <typename Fn>
absl::Status InReadTxn(SqliteStmt& begin, SqliteStmt& commit, Fn fn) {
  {
    StmtResetter reset(begin);
    RETURN_IF_ERROR(begin.Run());
  }
  absl::Status st = fn();
  StmtResetter reset(commit);
  absl::Status end = commit.Run();
  if (st.ok()) return end;
  return st;
}

absl::StatusOr<int64_t> StepInt(SqliteStmt& stmt) {
  StmtResetter reset(stmt);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt(0) : 0;
}
}  // namespace

absl::StatusOr<KeyValue> SqliteStore::Get(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key, "key"));
  ASSIGN_OR_RETURN(ReaderLease r, BorrowReader());
  SqliteStmt& get = *r->get;
  StmtResetter reset(get);
  get.BindBlob(1, key);
  ASSIGN_OR_RETURN(bool row, get.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("key ", Quote(key), " not found"));
  KeyValue kv;
  kv.key = key;
  kv.value = get.ColumnBlob(0);
  kv.create_revision = get.ColumnInt(1);
  kv.mod_revision = get.ColumnInt(2);
  return kv;
}

absl::StatusOr<ListResult> SqliteStore::List(const std::string& prefix,
                                             const ListOptions& options) {
  ASSIGN_OR_RETURN(std::string start, ListStartKey(prefix, options));
  const std::string end = PrefixEnd(prefix);
  ASSIGN_OR_RETURN(ReaderLease r, BorrowReader());
  ListResult result;
  RETURN_IF_ERROR(InReadTxn(*r->begin, *r->commit, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(int64_t current, StepInt(*r->max_rev));
    ASSIGN_OR_RETURN(int64_t compacted, StepInt(*r->compact_rev));
    int64_t at = options.revision == 0 ? current : options.revision;
    if (at < compacted) {
      return absl::OutOfRangeError(absl::StrCat("revision ", at, " is compacted (oldest kept: ",
                                                compacted, ")"));
    }
    if (at > current) {
      return absl::InvalidArgumentError(absl::StrCat("revision ", at,
                                                     " is newer than the current revision ",
                                                     current));
    }
    result.revision = at;
    const int64_t fetch = options.limit > 0 ? options.limit + 1 : -1;
    SqliteStmt& q = at == current ? *r->list_current : *r->list_history;
    StmtResetter reset(q);
    q.BindBlob(1, start);
    q.BindBlob(2, end);
    if (at == current) {
      q.BindInt(3, fetch);
    } else {
      q.BindInt(3, at);
      q.BindInt(4, fetch);
    }
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      if (options.limit > 0 && static_cast<int64_t>(result.items.size()) == options.limit) {
        result.more = true;
        result.continue_key = result.items.back().key + std::string(1, '\0');
        break;
      }
      KeyValue kv;
      kv.key = q.ColumnBlob(0);
      kv.value = q.ColumnBlob(1);
      kv.create_revision = q.ColumnInt(2);
      kv.mod_revision = q.ColumnInt(3);
      result.items.push_back(std::move(kv));
    }
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<int64_t> SqliteStore::CurrentRevision() {
  ASSIGN_OR_RETURN(ReaderLease r, BorrowReader());
  return StepInt(*r->max_rev);
}

absl::StatusOr<int64_t> SqliteStore::CompactedRevision() { return compact_revision_.load(); }

absl::StatusOr<SqliteStore::Stats> SqliteStore::GetStats() {
  ASSIGN_OR_RETURN(ReaderLease r, BorrowReader());
  Stats s;
  SqliteDb& db = *r->db;
  ASSIGN_OR_RETURN(s.log_rows, db.QueryInt("SELECT count(*) FROM log"));
  ASSIGN_OR_RETURN(s.live_keys, db.QueryInt("SELECT count(*) FROM current"));
  ASSIGN_OR_RETURN(s.page_count, db.QueryInt("PRAGMA page_count"));
  ASSIGN_OR_RETURN(s.freelist_count, db.QueryInt("PRAGMA freelist_count"));
  ASSIGN_OR_RETURN(s.page_size, db.QueryInt("PRAGMA page_size"));
  s.commits = commits_.load();
  return s;
}

// ---------------------------------------------------------------------------
// Writes: queued to the writer thread, committed in batches.

SqliteStore::WriteResult SqliteStore::Submit(std::unique_ptr<WriteOp> op) {
  std::future<WriteResult> done = op->done.get_future();
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_) {
      return WriteResult{absl::UnavailableError(
          absl::StrCat("sqlite store ", options_.path, " is closing"))};
    }
    queue_.push_back(std::move(op));
  }
  queue_cv_.notify_one();
  return done.get();
}

absl::StatusOr<int64_t> SqliteStore::Create(const std::string& key, const std::string& value) {
  RETURN_IF_ERROR(ValidateKey(key, "key"));
  RETURN_IF_ERROR(ValidateValue(key, value));
  auto op = std::make_unique<WriteOp>();
  op->kind = OpKind::kCreate;
  op->key = key;
  op->value = value;
  WriteResult r = Submit(std::move(op));
  if (!r.status.ok()) return r.status;
  return r.revision;
}

absl::StatusOr<int64_t> SqliteStore::Update(const std::string& key, const std::string& value,
                                            int64_t expected_mod_revision) {
  RETURN_IF_ERROR(ValidateKey(key, "key"));
  RETURN_IF_ERROR(ValidateValue(key, value));
  if (expected_mod_revision <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected mod_revision ", expected_mod_revision, " for key ", Quote(key), ": must be > 0"));
  }
  auto op = std::make_unique<WriteOp>();
  op->kind = OpKind::kUpdate;
  op->key = key;
  op->value = value;
  op->expected = expected_mod_revision;
  WriteResult r = Submit(std::move(op));
  if (!r.status.ok()) return r.status;
  return r.revision;
}

absl::StatusOr<DeleteResult> SqliteStore::Delete(const std::string& key,
                                                 std::optional<int64_t> expected_mod_revision) {
  RETURN_IF_ERROR(ValidateKey(key, "key"));
  auto op = std::make_unique<WriteOp>();
  op->kind = OpKind::kDelete;
  op->key = key;
  op->expected = expected_mod_revision;
  WriteResult r = Submit(std::move(op));
  if (!r.status.ok()) return r.status;
  return DeleteResult{std::move(r.prev), r.revision};
}

absl::Status SqliteStore::Compact(int64_t revision) {
  auto op = std::make_unique<WriteOp>();
  op->kind = OpKind::kCompact;
  op->compact_to = revision;
  return Submit(std::move(op)).status;
}

void SqliteStore::WriterLoop() {
  while (true) {
    std::vector<std::unique_ptr<WriteOp>> batch;
    bool vacuum = false;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || vacuum_pending_; });
      if (queue_.empty() && stopping_) break;
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      vacuum = batch.empty() && vacuum_pending_;
    }
    if (!batch.empty()) {
      ApplyBatch(batch);
    } else if (vacuum) {
      absl::Status st = VacuumStep();
      if (!st.ok()) {
        BERTH_LOG(Warning) << "sqlite store: incremental vacuum: " << st.ToString();
        std::lock_guard<std::mutex> lock(queue_mu_);
        vacuum_pending_ = false;
      }
    }
  }
}

absl::Status SqliteStore::VacuumStep() {
  SqliteDb& db = *writer_->db;
  // A bounded step, so that queued writes wait at most one step.
  RETURN_IF_ERROR(db.Exec("PRAGMA incremental_vacuum(256)"));
  ASSIGN_OR_RETURN(int64_t free_pages, db.QueryInt("PRAGMA freelist_count"));
  if (free_pages == 0) {
    std::lock_guard<std::mutex> lock(queue_mu_);
    vacuum_pending_ = false;
  }
  return absl::OkStatus();
}

void SqliteStore::ApplyBatch(std::vector<std::unique_ptr<WriteOp>>& batch) {
  Writer& w = *writer_;
  std::vector<WriteResult> results(batch.size());
  std::vector<EventPtr> events;
  int64_t rev = w.revision;
  bool compacted = false;
  int64_t new_compact = compact_revision_.load();

  auto fail_all = [&](const absl::Status& st) {
    for (auto& op : batch) op->done.set_value(WriteResult{st});
  };
  {
    StmtResetter reset(*w.begin);
    absl::Status st = w.begin->Run();
    if (!st.ok()) {
      fail_all(st);
      return;
    }
  }

  // Applies one op inside the open transaction. Logical refusals (exists,
  // conflict) go into `out.status`; a returned error is a database failure.
  auto apply = [&](WriteOp& op, WriteResult& out) -> absl::Status {
    if (op.kind == OpKind::kCompact) {
      if (op.compact_to > rev) {
        out.status = absl::InvalidArgumentError(absl::StrCat(
            "compact revision ", op.compact_to, " is newer than the current revision ", rev));
        return absl::OkStatus();
      }
      if (op.compact_to <= new_compact) {
        out.status = absl::OutOfRangeError(absl::StrCat(
            "revision ", op.compact_to, " is already compacted (oldest kept: ", new_compact, ")"));
        return absl::OkStatus();
      }
      {
        StmtResetter r1(*w.compact);
        w.compact->BindInt(1, op.compact_to);
        RETURN_IF_ERROR(w.compact->Run());
      }
      StmtResetter r2(*w.set_compact);
      w.set_compact->BindInt(1, op.compact_to);
      RETURN_IF_ERROR(w.set_compact->Run());
      new_compact = op.compact_to;
      compacted = true;
      out.revision = rev;
      return absl::OkStatus();
    }

    std::optional<KeyValue> existing;
    {
      StmtResetter r(*w.select_current);
      w.select_current->BindBlob(1, op.key);
      ASSIGN_OR_RETURN(bool row, w.select_current->Step());
      if (row) {
        existing.emplace();
        existing->key = op.key;
        existing->mod_revision = w.select_current->ColumnInt(0);
        existing->create_revision = w.select_current->ColumnInt(1);
        existing->value = w.select_current->ColumnBlob(2);
      }
    }
    switch (op.kind) {
      case OpKind::kCreate:
        if (existing) {
          out.status = absl::AlreadyExistsError(absl::StrCat(
              "key ", Quote(op.key), " already exists (mod_revision ", existing->mod_revision, ")"));
          return absl::OkStatus();
        }
        break;
      case OpKind::kUpdate:
      case OpKind::kDelete:
        if (!existing) {
          out.status = absl::NotFoundError(absl::StrCat("key ", Quote(op.key), " not found"));
          return absl::OkStatus();
        }
        if (op.expected && *op.expected != existing->mod_revision) {
          out.status = absl::AbortedError(absl::StrCat(
              "conflict: key ", Quote(op.key), " is at mod_revision ", existing->mod_revision,
              ", not the expected ", *op.expected));
          return absl::OkStatus();
        }
        break;
      case OpKind::kCompact:
        break;
    }

    const int64_t next = rev + 1;
    const bool is_delete = op.kind == OpKind::kDelete;
    const int64_t create_rev = op.kind == OpKind::kCreate ? next : existing->create_revision;
    {
      StmtResetter r(*w.insert_log);
      w.insert_log->BindInt(1, next);
      w.insert_log->BindBlob(2, op.key);
      w.insert_log->BindInt(3, create_rev);
      w.insert_log->BindInt(4, existing ? existing->mod_revision : 0);
      w.insert_log->BindInt(5, is_delete ? 1 : 0);
      if (is_delete) {
        w.insert_log->BindNull(6);
      } else {
        w.insert_log->BindBlob(6, op.value);
      }
      RETURN_IF_ERROR(w.insert_log->Run());
    }
    if (is_delete) {
      StmtResetter r(*w.delete_current);
      w.delete_current->BindBlob(1, op.key);
      RETURN_IF_ERROR(w.delete_current->Run());
    } else {
      StmtResetter r(*w.upsert_current);
      w.upsert_current->BindBlob(1, op.key);
      w.upsert_current->BindInt(2, next);
      RETURN_IF_ERROR(w.upsert_current->Run());
    }
    rev = next;
    auto ev = std::make_shared<Event>();
    ev->type = is_delete ? EventType::kDelete : EventType::kPut;
    ev->revision = next;
    ev->kv.key = op.key;
    ev->kv.mod_revision = next;
    if (!is_delete) {
      ev->kv.value = op.value;
      ev->kv.create_revision = create_rev;
    }
    if (existing) {
      ev->prev = *existing;
      if (is_delete) out.prev = *existing;
    }
    events.push_back(std::move(ev));
    out.revision = next;
    return absl::OkStatus();
  };

  absl::Status failure = absl::OkStatus();
  for (size_t i = 0; i < batch.size() && failure.ok(); ++i) {
    failure = apply(*batch[i], results[i]);
  }
  if (failure.ok()) {
    StmtResetter reset(*w.commit);
    failure = w.commit->Run();
  }
  if (!failure.ok()) {
    StmtResetter reset(*w.rollback);
    (void)w.rollback->Run();
    BERTH_LOG(Error) << "sqlite store: batch of " << batch.size()
                     << " writes rolled back: " << failure.ToString();
    fail_all(failure);
    return;
  }
  w.revision = rev;
  commits_.fetch_add(1);
  if (options_.sync == SqliteSync::kNormal) {
    {
      std::lock_guard<std::mutex> lock(flush_mu_);
      flush_wanted_ = true;
    }
    flush_cv_.notify_one();
  }
  if (compacted) {
    compact_revision_ = new_compact;
    std::lock_guard<std::mutex> lock(queue_mu_);
    vacuum_pending_ = true;
  }
  if (options_.sync == SqliteSync::kPipelined) {
    auto committed = std::make_unique<CommittedBatch>();
    committed->ops = std::move(batch);
    committed->results = std::move(results);
    committed->events = std::move(events);
    {
      std::lock_guard<std::mutex> lock(sync_mu_);
      sync_queue_.push_back(std::move(committed));
    }
    sync_cv_.notify_one();
    return;
  }
  // Watchers see a change before its writer is told, so a client that waits
  // for its own write on a watch never misses it.
  hub_->Publish(events);
  for (size_t i = 0; i < batch.size(); ++i) batch[i]->done.set_value(std::move(results[i]));
}

void SqliteStore::SyncerLoop() {
  const std::string wal = options_.path + "-wal";
  int fd = -1;
  while (true) {
    std::deque<std::unique_ptr<CommittedBatch>> ready;
    {
      std::unique_lock<std::mutex> lock(sync_mu_);
      sync_cv_.wait(lock, [&] { return !sync_queue_.empty() || sync_stop_; });
      if (sync_queue_.empty()) break;  // stopping, drained
      ready.swap(sync_queue_);
    }
    // One fdatasync covers every batch committed so far: they are all in
    // the WAL (the same inode, also across WAL restarts).
    absl::Status synced = absl::OkStatus();
    if (fd < 0) fd = open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      synced = ErrnoError(absl::StrCat("open ", wal, " to sync it"));
    } else if (fdatasync(fd) != 0) {
      synced = ErrnoError(absl::StrCat("fdatasync ", wal));
    }
    if (!synced.ok()) {
      // Committed and visible, but maybe not on disk: the writers hear so.
      BERTH_LOG(Error) << "sqlite store: " << synced.ToString();
    }
    for (auto& b : ready) {
      hub_->Publish(b->events);
      for (size_t i = 0; i < b->ops.size(); ++i) {
        if (!synced.ok() && b->results[i].status.ok()) {
          b->results[i].status = absl::DataLossError(absl::StrCat(
              "write committed at revision ", b->results[i].revision,
              " but not known to be durable: ", synced.message()));
        }
        b->ops[i]->done.set_value(std::move(b->results[i]));
      }
    }
  }
  if (fd >= 0) close(fd);
}

void SqliteStore::CheckpointLoop() {
  std::unique_ptr<SqliteDb> db;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(ckpt_mu_);
      ckpt_cv_.wait(lock, [&] { return ckpt_wanted_ || ckpt_stop_; });
      if (ckpt_stop_) break;
      ckpt_wanted_ = false;
    }
    if (!db) {
      auto opened = SqliteDb::Open(options_.path, false, false);
      if (!opened.ok()) {
        BERTH_LOG(Warning) << "sqlite store: checkpointer: " << opened.status().ToString();
        continue;
      }
      db = std::move(*opened);
    }
    int log_frames = 0, done_frames = 0;
    int rc = sqlite3_wal_checkpoint_v2(db->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                       &done_frames);
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) {
      BERTH_LOG(Warning) << "sqlite store: checkpoint: " << db->Error(rc, "checkpoint").ToString();
    }
  }
  if (db) {
    // A clean close leaves a checkpointed, truncated WAL.
    sqlite3_wal_checkpoint_v2(db->raw(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  }
}

void SqliteStore::FlusherLoop() {
  const std::string wal = options_.path + "-wal";
  int fd = -1;
  absl::Time last_sync = absl::InfinitePast();
  while (true) {
    {
      std::unique_lock<std::mutex> lock(flush_mu_);
      flush_cv_.wait(lock, [&] { return flush_wanted_ || flush_stop_; });
      if (flush_stop_) break;
      // Commits within one interval share one sync.
      absl::Time due = last_sync + options_.wal_sync_interval;
      if (absl::Now() < due) {
        flush_cv_.wait_until(lock, absl::ToChronoTime(due), [&] { return flush_stop_; });
        if (flush_stop_) break;
      }
      flush_wanted_ = false;
    }
    if (fd < 0) fd = open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && fdatasync(fd) != 0) {
      BERTH_LOG(Warning) << "sqlite store: fdatasync " << wal << ": " << strerror(errno);
    }
    last_sync = absl::Now();
  }
  if (fd >= 0) {
    fdatasync(fd);
    close(fd);
  }
}

void SqliteStore::CompactorLoop() {
  // (time, revision current then) samples, oldest first.
  std::deque<std::pair<absl::Time, int64_t>> samples;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(compactor_mu_);
      compactor_cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.compaction_interval),
                             [&] { return compactor_stop_; });
      if (compactor_stop_) return;
    }
    auto current = CurrentRevision();
    if (!current.ok()) continue;
    absl::Time now = absl::Now();
    samples.emplace_back(now, *current);
    int64_t target = 0;
    while (!samples.empty() && samples.front().first <= now - options_.retain_duration) {
      target = samples.front().second;
      samples.pop_front();
    }
    if (target > 0) samples.emplace_front(now - options_.retain_duration, target);
    target = std::min(target, *current - options_.retain_revisions);
    if (target <= compact_revision_.load()) continue;
    absl::Status st = Compact(target);
    if (st.ok()) {
      BERTH_LOG(Info) << "sqlite store compacted" << Kv("revision", target)
                      << Kv("current", *current);
    } else if (!absl::IsOutOfRange(st)) {
      BERTH_LOG(Warning) << "sqlite store: automatic compaction to " << target << ": "
                         << st.ToString();
    }
  }
}

// ---------------------------------------------------------------------------
// Watches.

absl::Status SqliteStore::CatchUp(const std::string& prefix, int64_t from, int64_t* caught_up_to,
                                  WatchQueue& queue) {
  ASSIGN_OR_RETURN(ReaderLease r, BorrowReader());
  return InReadTxn(*r->begin, *r->commit, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(int64_t compacted, StepInt(*r->compact_rev));
    if (from < compacted) {
      return absl::OutOfRangeError(absl::StrCat("watch from revision ", from,
                                                ": compacted (oldest kept: ", compacted, ")"));
    }
    ASSIGN_OR_RETURN(int64_t current, StepInt(*r->max_rev));
    SqliteStmt& q = *r->catch_up;
    StmtResetter reset(q);
    q.BindInt(1, from);
    q.BindBlob(2, prefix);
    q.BindBlob(3, PrefixEnd(prefix));
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      auto ev = std::make_shared<Event>();
      ev->revision = q.ColumnInt(0);
      ev->kv.key = q.ColumnBlob(1);
      ev->kv.mod_revision = ev->revision;
      const bool deleted = q.ColumnInt(3) != 0;
      ev->type = deleted ? EventType::kDelete : EventType::kPut;
      if (!deleted) {
        ev->kv.create_revision = q.ColumnInt(2);
        ev->kv.value = q.ColumnBlob(4);
      }
      if (!q.ColumnIsNull(5)) {
        KeyValue prev;
        prev.key = ev->kv.key;
        prev.mod_revision = q.ColumnInt(5);
        prev.create_revision = q.ColumnInt(6);
        prev.value = q.ColumnBlob(7);
        ev->prev = std::move(prev);
      }
      queue.Push(std::move(ev));
    }
    *caught_up_to = std::max(current, from - 1);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::unique_ptr<Watcher>> SqliteStore::Watch(const std::string& prefix,
                                                            const WatchOptions& options) {
  RETURN_IF_ERROR(ValidatePrefix(prefix));
  if (options.from_revision < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("watch from revision ", options.from_revision, ": must be >= 0"));
  }
  if (options.from_revision > 0 && options.from_revision < compact_revision_.load()) {
    return absl::OutOfRangeError(absl::StrCat("watch from revision ", options.from_revision,
                                              ": compacted (oldest kept: ",
                                              compact_revision_.load(), ")"));
  }
  auto queue = std::make_shared<WatchQueue>(options_.watch_queue_limit);
  int64_t id = hub_->Register(prefix, queue);
  int64_t caught_up_to = 0;
  if (options.from_revision > 0) {
    absl::Status st = CatchUp(prefix, options.from_revision, &caught_up_to, *queue);
    if (!st.ok()) {
      hub_->Unregister(id);
      return st;
    }
  }
  hub_->GoLive(id, caught_up_to);
  return std::unique_ptr<Watcher>(
      new SqliteWatcher(hub_, id, std::move(queue), options.progress_interval));
}

// ---------------------------------------------------------------------------
// Backup and restore.

absl::Status SqliteStore::Snapshot(const std::string& path) {
  const std::string tmp = path + ".tmp";
  std::remove(tmp.c_str());
  ASSIGN_OR_RETURN(auto src, SqliteDb::Open(options_.path, false, false));
  ASSIGN_OR_RETURN(auto dst, SqliteDb::Open(tmp, true, false));
  sqlite3_backup* backup = sqlite3_backup_init(dst->raw(), "main", src->raw(), "main");
  if (backup == nullptr) {
    return dst->Error(sqlite3_errcode(dst->raw()), absl::StrCat("start backup to ", tmp));
  }
  // One step copies everything under one read transaction: a consistent copy.
  int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    std::remove(tmp.c_str());
    return dst->Error(rc, absl::StrCat("backup ", options_.path, " to ", tmp));
  }
  // A self-contained file: no WAL beside it.
  RETURN_IF_ERROR(dst->Exec("PRAGMA journal_mode = DELETE"));
  dst.reset();
  return RenameDurably(tmp, path);
}

absl::Status RestoreSqliteSnapshot(const std::string& snapshot_path, const std::string& db_path) {
  ASSIGN_OR_RETURN(int lock_fd, LockStoreFile(db_path));
  struct Unlock {
    int fd;
    ~Unlock() { close(fd); }
  } unlock{lock_fd};
  {
    ASSIGN_OR_RETURN(auto snap, SqliteDb::Open(snapshot_path, false, /*read_only=*/true));
    ASSIGN_OR_RETURN(SqliteStmt check, snap->Prepare("PRAGMA integrity_check"));
    ASSIGN_OR_RETURN(bool row, check.Step());
    if (!row || check.ColumnBlob(0) != "ok") {
      return absl::DataLossError(absl::StrCat("snapshot ", snapshot_path, " fails integrity check: ",
                                              row ? check.ColumnBlob(0) : "no result"));
    }
    ASSIGN_OR_RETURN(int64_t tables,
                     snap->QueryInt("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                    "AND name IN ('log', 'current', 'meta')"));
    if (tables != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("snapshot ", snapshot_path, " is not a berth store (tables missing)"));
    }
  }
  ASSIGN_OR_RETURN(std::string data, ReadFile(snapshot_path));
  const std::string tmp = db_path + ".restore.tmp";
  {
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoError(absl::StrCat("create ", tmp));
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = write(fd, data.data() + off, data.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        close(fd);
        return ErrnoError(err, absl::StrCat("write ", tmp));
      }
      off += static_cast<size_t>(n);
    }
    close(fd);
  }
  // The old WAL must go before the new file takes the name: SQLite would
  // otherwise replay the old database's frames onto the restored one.
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string side = db_path + suffix;
    if (unlink(side.c_str()) != 0 && errno != ENOENT) return ErrnoError(absl::StrCat("remove ", side));
  }
  return RenameDurably(tmp, db_path);
}

}  // namespace berth::store
