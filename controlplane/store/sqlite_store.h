// The embedded store: one SQLite file in WAL mode holding a revision log
// (one row per change; a key's current value is its newest row) and an index
// of the live keys. One writer thread commits queued writes in batches
// (group commit); reads use their own connections; watches are fed from an
// in-memory broadcast of committed batches after a catch-up read from the
// log. See README.md for the schema and the crash-safety argument.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "controlplane/store/sqlite_db.h"
#include "controlplane/store/store.h"
#include "controlplane/store/watch_hub.h"

namespace berth::store {

// When an acknowledged write is on disk.
enum class SqliteSync {
  // synchronous=FULL: SQLite fsyncs the WAL inside every commit.
  kFull,
  // synchronous=NORMAL commits, and a syncer thread fdatasyncs the WAL before
  // the writers of a batch are answered and its events published. Same
  // guarantee as kFull for acknowledged writes, but the writer thread starts
  // the next batch while the sync runs, and one sync covers every batch
  // committed meanwhile (pipelined group commit).
  kPipelined,
  // synchronous=NORMAL; answered at commit, the WAL fdatasynced at most
  // wal_sync_interval later: a power loss may lose that window.
  kNormal,
};

struct SqliteStoreOptions {
  std::string path;  // the database file; its directory must exist
  // Every mode survives a crash of the process (SIGKILL) without losing an
  // acknowledged write; they differ on power loss. See README.md.
  SqliteSync sync = SqliteSync::kPipelined;
  absl::Duration wal_sync_interval = absl::Milliseconds(50);
  // Page size of a new database file (an existing file keeps its own).
  // 8 KiB packs ~2 KiB objects 3 to a page (4 KiB pages hold only one),
  // without the write amplification of 16 KiB pages on small commits.
  int page_size = 8192;
  // Most writes one transaction commits (group commit).
  size_t max_batch = 512;
  // Automatic compaction: every `compaction_interval` (zero: never) compact
  // to the newest revision that is both older than `retain_duration` and at
  // least `retain_revisions` behind the current one.
  absl::Duration compaction_interval = absl::Minutes(1);
  absl::Duration retain_duration = absl::Minutes(5);
  int64_t retain_revisions = 1000;
  // A watcher more than this many events behind is ended (ResourceExhausted).
  size_t watch_queue_limit = 100000;
  // Read connections kept (each with its own page cache, 2 MiB at most).
  int max_readers = 8;
  // Checkpoint the WAL into the database once it holds this many pages.
  int wal_checkpoint_pages = 1024;  // 8 MiB with 8 KiB pages
};

class SqliteStore : public Store {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const SqliteStoreOptions& options);
  ~SqliteStore() override;

  absl::StatusOr<KeyValue> Get(const std::string& key) override;
  absl::StatusOr<ListResult> List(const std::string& prefix, const ListOptions& options) override;
  absl::StatusOr<int64_t> Create(const std::string& key, const std::string& value) override;
  absl::StatusOr<int64_t> Update(const std::string& key, const std::string& value,
                                 int64_t expected_mod_revision) override;
  absl::StatusOr<DeleteResult> Delete(const std::string& key,
                                      std::optional<int64_t> expected_mod_revision = std::nullopt) override;
  absl::StatusOr<std::unique_ptr<Watcher>> Watch(const std::string& prefix,
                                                 const WatchOptions& options) override;
  absl::Status Compact(int64_t revision) override;
  absl::StatusOr<int64_t> CurrentRevision() override;
  absl::StatusOr<int64_t> CompactedRevision() override;
  // Online backup (SQLite's backup API) to `path`, atomically renamed in place.
  absl::Status Snapshot(const std::string& path) override;

  // Rows in the revision log (live keys + kept history), and pages in the
  // file and on its free list: for tests and the benchmark.
  struct Stats {
    int64_t log_rows = 0;
    int64_t live_keys = 0;
    int64_t page_count = 0;
    int64_t freelist_count = 0;
    int64_t page_size = 0;
    int64_t commits = 0;  // transactions the writer committed
  };
  absl::StatusOr<Stats> GetStats();

 private:
  struct Reader;
  struct WriteOp;
  struct Writer;
  class ReaderLease;
  class SqliteWatcher;

  explicit SqliteStore(SqliteStoreOptions options);
  absl::Status Init();
  absl::StatusOr<std::unique_ptr<Reader>> NewReader();
  absl::StatusOr<ReaderLease> BorrowReader();
  void ReturnReader(std::unique_ptr<Reader> reader);

  // Queues a write for the writer thread and waits for its outcome.
  struct WriteResult;
  WriteResult Submit(std::unique_ptr<WriteOp> op);
  void WriterLoop();
  void ApplyBatch(std::vector<std::unique_ptr<WriteOp>>& batch);
  void CheckpointLoop();
  void CompactorLoop();
  absl::Status VacuumStep();

  absl::Status CatchUp(const std::string& prefix, int64_t from, int64_t* caught_up_to,
                       WatchQueue& queue);

  SqliteStoreOptions options_;
  std::shared_ptr<WatchHub> hub_ = std::make_shared<WatchHub>();

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Reader>> free_readers_;
  int readers_open_ = 0;

  int lock_fd_ = -1;  // flock on "<path>.lock": one process per store file
  std::unique_ptr<Writer> writer_;
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<WriteOp>> queue_;
  bool stopping_ = false;
  bool vacuum_pending_ = false;
  std::atomic<int64_t> compact_revision_{0};
  std::atomic<int64_t> commits_{0};
  std::thread writer_thread_;

  // Checkpointer: woken by the writer when the WAL grows past the threshold.
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_wanted_ = false;
  bool ckpt_stop_ = false;
  std::unique_ptr<std::function<void(int)>> wal_hook_;  // called after each commit
  std::thread ckpt_thread_;

  // WAL flusher (kNormal): fdatasyncs the WAL at most every
  // wal_sync_interval after commits.
  void FlusherLoop();
  // Syncer (kPipelined): committed batches waiting for their WAL fdatasync.
  struct CommittedBatch;
  void SyncerLoop();
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<std::unique_ptr<CommittedBatch>> sync_queue_;
  bool sync_stop_ = false;
  std::thread sync_thread_;
  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  bool flush_wanted_ = false;
  bool flush_stop_ = false;
  std::thread flush_thread_;

  // Compactor: wakes every compaction_interval (or when stopping).
  std::mutex compactor_mu_;
  std::condition_variable compactor_cv_;
  bool compactor_stop_ = false;
  std::thread compactor_thread_;
};

// Replaces the database at `db_path` with a snapshot Snapshot() wrote, after
// checking it is an intact berth store. FailedPrecondition while a store has
// the file open (its lock is held). Removes the old WAL and shared-memory files.
absl::Status RestoreSqliteSnapshot(const std::string& snapshot_path, const std::string& db_path);

}  // namespace berth::store
