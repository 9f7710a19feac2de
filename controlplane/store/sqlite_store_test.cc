// SQLite-specific behaviour: durability across reopen and SIGKILL, the file
// staying near the live size after compaction, automatic compaction, no
// "database is locked" under concurrent writers and readers, snapshot and
// restore, slow watchers, periodic bookmarks.
#include "controlplane/store/sqlite_store.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fs.h"
#include "controlplane/store/sqlite_db.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/berth-sqlite-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    opts_.path = root_ + "/cp.db";
    opts_.compaction_interval = absl::ZeroDuration();
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(root_).ok()); }

  std::unique_ptr<SqliteStore> Open() {
    auto s = SqliteStore::Open(opts_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }

  void KillMidWritesAndCheck();

  std::string root_;
  SqliteStoreOptions opts_;
};

// Waits (bounded) until `cond` holds.
template <typename Cond>
bool WaitFor(Cond cond, absl::Duration timeout = absl::Seconds(30)) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return cond();
}

TEST_F(SqliteStoreTest, ReopenKeepsDataRevisionAndCompaction) {
  {
    auto s = Open();
    ASSERT_TRUE(s);
    int64_t r = *s->Create("/registry/pods/ns/a", "v1");
    r = *s->Update("/registry/pods/ns/a", "v2", r);
    ASSERT_TRUE(s->Create("/registry/pods/ns/b", "v").ok());
    ASSERT_TRUE(s->Compact(r).ok());
  }
  auto s = Open();
  ASSERT_TRUE(s);
  EXPECT_EQ(*s->CurrentRevision(), 3);
  EXPECT_EQ(*s->CompactedRevision(), 2);
  EXPECT_EQ(s->Get("/registry/pods/ns/a")->value, "v2");
  EXPECT_EQ(*s->Create("/registry/pods/ns/c", "v"), 4);
}

TEST_F(SqliteStoreTest, CompactionAndVacuumKeepFileNearLiveSize) {
  auto s = Open();
  ASSERT_TRUE(s);
  const std::string value(3000, 'v');
  constexpr int kKeys = 100, kUpdates = 20;
  std::vector<int64_t> revs(kKeys);
  for (int i = 0; i < kKeys; ++i) revs[i] = *s->Create(absl::StrCat("/registry/pods/ns/p", i), value);
  for (int u = 0; u < kUpdates; ++u) {
    for (int i = 0; i < kKeys; ++i) {
      revs[i] = *s->Update(absl::StrCat("/registry/pods/ns/p", i), value, revs[i]);
    }
  }
  // Deleted keys leave nothing behind either.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s->Create(absl::StrCat("/registry/tmp/", i), value).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s->Delete(absl::StrCat("/registry/tmp/", i)).ok());
  auto before = *s->GetStats();
  EXPECT_EQ(before.log_rows, kKeys * (kUpdates + 1) + 20);
  const int64_t size_before = before.page_count * before.page_size;

  int64_t current = *s->CurrentRevision();
  ASSERT_TRUE(s->Compact(current).ok());
  ASSERT_TRUE(WaitFor([&] { return s->GetStats()->freelist_count == 0; }));
  auto after = *s->GetStats();
  // Only each live key's newest row is left, plus the last deleted key's
  // create and delete (the delete is at the compaction revision itself).
  EXPECT_LE(after.log_rows, kKeys + 2);
  EXPECT_EQ(after.live_keys, kKeys);
  const int64_t size_after = after.page_count * after.page_size;
  const int64_t live_bytes = kKeys * static_cast<int64_t>(value.size());
  EXPECT_LT(size_after, 2 * live_bytes) << "before " << size_before << " after " << size_after;
  EXPECT_LT(size_after * 5, size_before);
  // Still correct after it.
  EXPECT_EQ(s->List("/registry/pods/", {})->items.size(), size_t{kKeys});
  EXPECT_TRUE(absl::IsNotFound(s->Get("/registry/tmp/0").status()));
}

TEST_F(SqliteStoreTest, AutomaticCompactionKeepsRecentRevisions) {
  opts_.compaction_interval = absl::Milliseconds(50);
  opts_.retain_duration = absl::ZeroDuration();
  opts_.retain_revisions = 10;
  auto s = Open();
  ASSERT_TRUE(s);
  int64_t r = *s->Create("/registry/leases/ns/l", "0");
  for (int i = 1; i < 100; ++i) r = *s->Update("/registry/leases/ns/l", absl::StrCat(i), r);
  ASSERT_TRUE(WaitFor([&] { return *s->CompactedRevision() >= r - 10; }))
      << "compacted " << *s->CompactedRevision() << " current " << r;
  EXPECT_LE(*s->CompactedRevision(), r - 10);
  // The kept window is still watchable.
  WatchOptions from;
  from.from_revision = r - 5;
  EXPECT_TRUE(s->Watch("/registry/", from).ok());
}

TEST_F(SqliteStoreTest, ConcurrentWritersAndReadersNeverSeeLocked) {
  auto s = Open();
  ASSERT_TRUE(s);
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0}, writes{0}, reads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 150; ++i) {
        auto r = s->Create(absl::StrCat("/registry/pods/t", t, "/p", i), std::string(1024, 'x'));
        if (!r.ok()) {
          ++errors;
          ADD_FAILURE() << r.status();
        } else {
          ++writes;
        }
      }
    });
  }
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      while (!stop) {
        auto l = s->List("/registry/pods/", {});
        if (!l.ok()) {
          ++errors;
          ADD_FAILURE() << l.status();
          return;
        }
        ++reads;
      }
    });
  }
  // An online snapshot in the middle of it.
  ASSERT_TRUE(s->Snapshot(root_ + "/mid.snap").ok());
  for (int t = 0; t < 8; ++t) threads[t].join();
  stop = true;
  for (size_t t = 8; t < threads.size(); ++t) threads[t].join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(writes.load(), 1200);
  EXPECT_GT(reads.load(), 0);
  auto stats = *s->GetStats();
  EXPECT_LT(stats.commits, 1200) << "group commit never batched";
}

TEST_F(SqliteStoreTest, SnapshotAndRestore) {
  auto s = Open();
  ASSERT_TRUE(s);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(s->Create(absl::StrCat("/registry/cm/ns/a", i), "x").ok());
  const int64_t at_snapshot = *s->CurrentRevision();
  const std::string snap = root_ + "/backup.db";
  ASSERT_TRUE(s->Snapshot(snap).ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(s->Create(absl::StrCat("/registry/cm/ns/b", i), "y").ok());
  ASSERT_TRUE(s->Delete("/registry/cm/ns/a0").ok());
  s.reset();

  // A file that is not a snapshot changes nothing.
  ASSERT_TRUE(AtomicWriteFile(root_ + "/junk", std::string(8192, 'j')).ok());
  EXPECT_FALSE(RestoreSqliteSnapshot(root_ + "/junk", opts_.path).ok());
  s = Open();
  EXPECT_EQ(s->List("/registry/cm/", {})->items.size(), 69u);
  s.reset();

  ASSERT_TRUE(RestoreSqliteSnapshot(snap, opts_.path).ok());
  s = Open();
  ASSERT_TRUE(s);
  EXPECT_EQ(*s->CurrentRevision(), at_snapshot);
  auto l = s->List("/registry/cm/", {});
  ASSERT_EQ(l->items.size(), 50u);
  EXPECT_EQ(l->items[0].key, "/registry/cm/ns/a0");
  EXPECT_EQ(*s->Create("/registry/cm/ns/c", "z"), at_snapshot + 1);
}

TEST_F(SqliteStoreTest, OneStorePerFile) {
  auto s = Open();
  ASSERT_TRUE(s);
  auto second = SqliteStore::Open(opts_);
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  ASSERT_TRUE(s->Snapshot(root_ + "/snap").ok());
  auto restore = RestoreSqliteSnapshot(root_ + "/snap", opts_.path);
  EXPECT_TRUE(absl::IsFailedPrecondition(restore)) << restore;
  s.reset();
  EXPECT_TRUE(SqliteStore::Open(opts_).ok());
}

TEST_F(SqliteStoreTest, SlowWatcherIsEndedNotUnbounded) {
  opts_.watch_queue_limit = 10;
  auto s = Open();
  ASSERT_TRUE(s);
  auto w = s->Watch("/registry/", {});
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(s->Create(absl::StrCat("/registry/x/", i), "v").ok());
  auto r = (*w)->Next(absl::Now() + absl::Seconds(5));
  EXPECT_TRUE(absl::IsResourceExhausted(r.status())) << r.status();
  // The store is unaffected.
  EXPECT_TRUE(s->Create("/registry/x/after", "v").ok());
}

TEST_F(SqliteStoreTest, PeriodicBookmarksWhenIdle) {
  auto s = Open();
  ASSERT_TRUE(s);
  int64_t r = *s->Create("/registry/x/a", "v");
  WatchOptions o;
  o.progress_interval = absl::Milliseconds(100);
  auto w = s->Watch("/registry/y/", o);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(s->Create("/registry/x/b", "v").ok());  // not under the prefix
  auto events = (*w)->Next(absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0]->type, EventType::kBookmark);
  EXPECT_EQ((*events)[0]->revision, r + 1);
}

// Watches that start from a past revision while writes are being committed
// and published: every revision from the start on arrives exactly once, in
// order (the catch-up read and the live broadcast overlap without a gap or
// a duplicate).
TEST_F(SqliteStoreTest, WatchesStartedDuringWritesSeeEachRevisionOnce) {
  auto s = Open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->Create("/registry/pods/ns/seed", "v").ok());
  constexpr int kWrites = 1500;
  std::atomic<bool> failed{false};
  std::thread writer([&] {
    std::vector<std::thread> ws;
    for (int t = 0; t < 4; ++t) {
      ws.emplace_back([&, t] {
        for (int i = t; i < kWrites; i += 4) {
          if (!s->Create(absl::StrCat("/registry/pods/ns/p", i), "v").ok()) failed = true;
        }
      });
    }
    for (auto& w : ws) w.join();
  });
  std::vector<std::pair<int64_t, std::unique_ptr<Watcher>>> watchers;
  for (int i = 0; i < 30; ++i) {
    int64_t current = *s->CurrentRevision();
    WatchOptions o;
    o.from_revision = std::max<int64_t>(1, current - 3);
    auto w = s->Watch("/registry/pods/", o);
    ASSERT_TRUE(w.ok()) << w.status();
    watchers.emplace_back(o.from_revision, std::move(*w));
  }
  writer.join();
  ASSERT_FALSE(failed.load());
  const int64_t last = *s->CurrentRevision();
  ASSERT_EQ(last, kWrites + 1);
  for (auto& [from, w] : watchers) {
    int64_t expect = from;
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (expect <= last && absl::Now() < deadline) {
      auto evs = w->Next(deadline);
      ASSERT_TRUE(evs.ok()) << evs.status();
      for (auto& ev : *evs) {
        if (ev->type == EventType::kBookmark) continue;
        ASSERT_EQ(ev->revision, expect) << "watch from " << from;
        ++expect;
      }
    }
    EXPECT_EQ(expect, last + 1) << "watch from " << from;
  }
}

// A child process writes from 8 threads and reports each acknowledged
// create on a pipe; it is SIGKILLed mid-stream. Every acknowledged write must
// survive, revisions must have no gaps, and the file must be intact.
TEST_F(SqliteStoreTest, SurvivesSigkillMidWritesPipelined) {
  opts_.sync = SqliteSync::kPipelined;
  KillMidWritesAndCheck();
}

TEST_F(SqliteStoreTest, SurvivesSigkillMidWritesFull) {
  opts_.sync = SqliteSync::kFull;
  KillMidWritesAndCheck();
}

// synchronous=NORMAL only gives up durability on power loss: a killed
// process loses nothing it acknowledged.
TEST_F(SqliteStoreTest, SurvivesSigkillMidWritesNormal) {
  opts_.sync = SqliteSync::kNormal;
  KillMidWritesAndCheck();
}

void SqliteStoreTest::KillMidWritesAndCheck() {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    auto s = SqliteStore::Open(opts_);
    if (!s.ok()) _exit(2);
    std::mutex out_mu;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0;; ++i) {
          std::string key = absl::StrCat("/registry/pods/t", t, "/p", i);
          auto r = (*s)->Create(key, std::string(2048, 'c'));
          if (!r.ok()) _exit(3);
          std::string line = absl::StrCat(key, " ", *r, "\n");
          std::lock_guard<std::mutex> lock(out_mu);
          if (write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
        }
      });
    }
    for (auto& t : threads) t.join();
    _exit(0);
  }
  close(fds[1]);
  std::map<std::string, int64_t> acked;
  std::string buf;
  char chunk[4096];
  bool killed = false;
  absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (true) {
    ssize_t n = read(fds[0], chunk, sizeof(chunk));
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::vector<std::string> parts = absl::StrSplit(buf.substr(0, nl), ' ');
      buf.erase(0, nl + 1);
      int64_t rev = 0;
      if (parts.size() == 2 && absl::SimpleAtoi(parts[1], &rev)) acked[parts[0]] = rev;
    }
    if (!killed && (acked.size() >= 1000 || absl::Now() > deadline)) {
      kill(pid, SIGKILL);
      killed = true;
    }
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited " << WEXITSTATUS(status) << " before the kill";
  ASSERT_GE(acked.size(), 1000u);

  auto s = Open();
  ASSERT_TRUE(s);
  for (const auto& [key, rev] : acked) {
    auto kv = s->Get(key);
    ASSERT_TRUE(kv.ok()) << key << " acknowledged at " << rev << " but lost: " << kv.status();
    EXPECT_EQ(kv->mod_revision, rev);
  }
  int64_t current = *s->CurrentRevision();
  auto all = s->List("/registry/pods/", {});
  ASSERT_TRUE(all.ok());
  EXPECT_GE(all->items.size(), acked.size());
  // Revisions 1..current, each exactly once: no gap, no duplicate.
  std::set<int64_t> revs;
  for (auto& kv : all->items) revs.insert(kv.mod_revision);
  EXPECT_EQ(static_cast<int64_t>(revs.size()), current);
  EXPECT_EQ(*revs.begin(), 1);
  EXPECT_EQ(*revs.rbegin(), current);
  {
    auto db = SqliteDb::Open(opts_.path, false, true);
    ASSERT_TRUE(db.ok());
    auto check = (*db)->Prepare("PRAGMA integrity_check");
    ASSERT_TRUE(check.ok());
    ASSERT_TRUE(*check->Step());
    EXPECT_EQ(check->ColumnBlob(0), "ok");
  }
  EXPECT_EQ(*s->Create("/registry/pods/after/crash", "v"), current + 1);
}

}  // namespace
}  // namespace berth::store
