// The conformance suite: the same tests against every backend. SQLite runs
// in a temporary directory; etcd runs against a fresh /usr/bin/etcd on
// loopback per test (skipped, saying so, only when /usr/bin/etcd is absent).
#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controlplane/store/store.h"
#include "controlplane/store/testing/store_backends.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::store {
namespace {

using ::testing::HasSubstr;

std::string PodKey(const std::string& ns, const std::string& name) {
  return absl::StrCat("/registry/pods/", ns, "/", name);
}

// Reads events (bookmarks dropped unless asked) until `n` arrived or the
// timeout passed.
std::vector<EventPtr> Collect(Watcher& w, size_t n, absl::Duration timeout = absl::Seconds(20),
                              bool keep_bookmarks = false) {
  std::vector<EventPtr> out;
  absl::Time deadline = absl::Now() + timeout;
  while (out.size() < n && absl::Now() < deadline) {
    auto events = w.Next(deadline);
    if (!events.ok()) {
      ADD_FAILURE() << "watch ended: " << events.status();
      break;
    }
    for (auto& ev : *events) {
      if (ev->type == EventType::kBookmark && !keep_bookmarks) continue;
      out.push_back(ev);
    }
  }
  return out;
}

class StoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto backend = TestBackend::Start(GetParam());
    if (!backend.ok()) {
      if (absl::IsUnimplemented(backend.status())) GTEST_SKIP() << backend.status().message();
      FAIL() << backend.status();
    }
    backend_ = std::move(*backend);
    store_ = backend_->store();
  }

  std::unique_ptr<TestBackend> backend_;
  Store* store_ = nullptr;
};

TEST_P(StoreConformance, CreateGet) {
  const std::string key = PodKey("default", "a");
  auto rev = store_->Create(key, "v1");
  ASSERT_TRUE(rev.ok()) << rev.status();
  EXPECT_GT(*rev, 0);
  auto kv = store_->Get(key);
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->key, key);
  EXPECT_EQ(kv->value, "v1");
  EXPECT_EQ(kv->create_revision, *rev);
  EXPECT_EQ(kv->mod_revision, *rev);

  auto again = store_->Create(key, "v2");
  EXPECT_TRUE(absl::IsAlreadyExists(again.status())) << again.status();
  EXPECT_EQ(store_->Get(key)->value, "v1");

  EXPECT_TRUE(absl::IsNotFound(store_->Get(PodKey("default", "missing")).status()));
  EXPECT_EQ(*store_->CurrentRevision(), *rev);
}

TEST_P(StoreConformance, EmptyAndBinaryValues) {
  std::string binary("a\0b\xff", 4);
  ASSERT_TRUE(store_->Create("/registry/x/empty", "").ok());
  ASSERT_TRUE(store_->Create("/registry/x/binary", binary).ok());
  EXPECT_EQ(store_->Get("/registry/x/empty")->value, "");
  EXPECT_EQ(store_->Get("/registry/x/binary")->value, binary);
}

TEST_P(StoreConformance, OversizedValuesAreRefusedAlike) {
  const std::string key = PodKey("ns", "big");
  std::string big(kMaxValueBytes + 1, 'b');
  auto r = store_->Create(key, big);
  ASSERT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr(key));
  EXPECT_THAT(r.status().message(), HasSubstr(absl::StrCat(big.size())));
  EXPECT_TRUE(absl::IsNotFound(store_->Get(key).status()));
  // The largest allowed value goes through, and an update to a too large one does not.
  big.pop_back();
  auto ok = store_->Create(key, big);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(store_->Get(key)->value.size(), kMaxValueBytes);
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Update(key, big + "xx", *ok).status()));
  EXPECT_EQ(*store_->CurrentRevision(), *ok);
}

TEST_P(StoreConformance, BadKeysChangeNothing) {
  ASSERT_TRUE(store_->Create("/registry/pods/default/a", "v").ok());
  int64_t before = *store_->CurrentRevision();
  auto no_slash = store_->Create("registry/pods/x", "v");
  EXPECT_TRUE(absl::IsInvalidArgument(no_slash.status()));
  EXPECT_THAT(no_slash.status().message(), HasSubstr("key"));
  EXPECT_THAT(no_slash.status().message(), HasSubstr("registry/pods/x"));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Create("", "v").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Create(std::string("/a\0b", 4), "v").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->List("", {}).status()));
  ListOptions negative;
  negative.limit = -1;
  auto bad_limit = store_->List("/registry/", negative);
  EXPECT_TRUE(absl::IsInvalidArgument(bad_limit.status()));
  EXPECT_THAT(bad_limit.status().message(), HasSubstr("limit"));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->Update("/registry/pods/default/a", "w", 0).status()));
  EXPECT_EQ(*store_->CurrentRevision(), before);
}

TEST_P(StoreConformance, UpdateWithConflicts) {
  const std::string key = PodKey("default", "u");
  int64_t created = *store_->Create(key, "v1");
  auto updated = store_->Update(key, "v2", created);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_GT(*updated, created);
  auto kv = store_->Get(key);
  EXPECT_EQ(kv->value, "v2");
  EXPECT_EQ(kv->create_revision, created);
  EXPECT_EQ(kv->mod_revision, *updated);

  // Stale: the error names the key and both revisions; nothing changes.
  auto stale = store_->Update(key, "v3", created);
  ASSERT_TRUE(absl::IsAborted(stale.status())) << stale.status();
  EXPECT_THAT(stale.status().message(), HasSubstr("conflict"));
  EXPECT_THAT(stale.status().message(), HasSubstr(key));
  EXPECT_THAT(stale.status().message(), HasSubstr(absl::StrCat(created)));
  EXPECT_THAT(stale.status().message(), HasSubstr(absl::StrCat(*updated)));
  EXPECT_EQ(store_->Get(key)->value, "v2");
  EXPECT_EQ(*store_->CurrentRevision(), *updated);

  auto missing = store_->Update(PodKey("default", "nope"), "v", 1);
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
}

TEST_P(StoreConformance, DeleteConditionalAndUnconditional) {
  const std::string key = PodKey("default", "d");
  int64_t created = *store_->Create(key, "v1");
  int64_t updated = *store_->Update(key, "v2", created);

  auto stale = store_->Delete(key, created);
  ASSERT_TRUE(absl::IsAborted(stale.status())) << stale.status();
  EXPECT_THAT(stale.status().message(), HasSubstr(key));
  ASSERT_TRUE(store_->Get(key).ok());

  auto deleted = store_->Delete(key, updated);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_GT(deleted->revision, updated);
  EXPECT_EQ(deleted->deleted.value, "v2");
  EXPECT_EQ(deleted->deleted.mod_revision, updated);
  EXPECT_EQ(deleted->deleted.create_revision, created);
  EXPECT_TRUE(absl::IsNotFound(store_->Get(key).status()));
  EXPECT_TRUE(absl::IsNotFound(store_->Delete(key).status()));
  EXPECT_EQ(*store_->CurrentRevision(), deleted->revision);

  // Re-created: a new create_revision.
  int64_t again = *store_->Create(key, "v3");
  EXPECT_EQ(store_->Get(key)->create_revision, again);
  auto plain = store_->Delete(key);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->deleted.value, "v3");
}

TEST_P(StoreConformance, OneRevisionCounterAcrossKeys) {
  int64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    int64_t r1 = *store_->Create(PodKey("ns", absl::StrCat("p", i)), "x");
    int64_t r2 = *store_->Create(absl::StrCat("/registry/services/ns/s", i), "y");
    EXPECT_GT(r1, last);
    EXPECT_EQ(r2, r1 + 1);
    last = r2;
  }
  EXPECT_EQ(*store_->CurrentRevision(), last);
}

TEST_P(StoreConformance, ListPrefixLimitContinue) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store_->Create(PodKey("ns1", absl::StrFormat("p%02d", i)), absl::StrCat(i)).ok());
  }
  ASSERT_TRUE(store_->Create(PodKey("ns10", "other"), "x").ok());  // "ns1" vs "ns10"
  ASSERT_TRUE(store_->Create("/registry/services/ns1/s", "x").ok());

  auto all = store_->List("/registry/pods/ns1/", {});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->items.size(), 10u);
  EXPECT_FALSE(all->more);
  EXPECT_EQ(all->revision, *store_->CurrentRevision());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(all->items[i].key, PodKey("ns1", absl::StrFormat("p%02d", i)));
    EXPECT_EQ(all->items[i].value, absl::StrCat(i));
  }
  EXPECT_EQ(store_->List("/registry/pods/", {})->items.size(), 11u);

  // Pages of 3 at one revision; a write between pages is not seen.
  ListOptions page;
  page.limit = 3;
  std::vector<std::string> seen;
  int pages = 0;
  int64_t at = 0;
  while (true) {
    auto r = store_->List("/registry/pods/ns1/", page);
    ASSERT_TRUE(r.ok()) << r.status();
    if (pages == 0) {
      at = r->revision;
      ASSERT_TRUE(store_->Create(PodKey("ns1", "p05a"), "late").ok());
      ASSERT_TRUE(store_->Delete(PodKey("ns1", "p09")).ok());
    } else {
      EXPECT_EQ(r->revision, at);
    }
    ++pages;
    EXPECT_LE(r->items.size(), 3u);
    for (auto& kv : r->items) seen.push_back(kv.key);
    if (!r->more) break;
    page.continue_key = r->continue_key;
    page.revision = at;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 4);
  ASSERT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen.back(), PodKey("ns1", "p09"));
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  // The current list sees the change.
  auto now = store_->List("/registry/pods/ns1/", {});
  EXPECT_EQ(now->items.size(), 10u);
  EXPECT_EQ(now->items[6].key, PodKey("ns1", "p05a"));

  ListOptions bad;
  bad.continue_key = "/registry/services/x";
  EXPECT_TRUE(absl::IsInvalidArgument(store_->List("/registry/pods/", bad).status()));
}

TEST_P(StoreConformance, ListAtPastRevision) {
  const std::string a = PodKey("ns", "a"), b = PodKey("ns", "b");
  int64_t ra = *store_->Create(a, "a1");
  int64_t rb = *store_->Create(b, "b1");
  int64_t snapshot = rb;
  ASSERT_TRUE(store_->Update(a, "a2", ra).ok());
  ASSERT_TRUE(store_->Delete(b).ok());
  ASSERT_TRUE(store_->Create(PodKey("ns", "c"), "c1").ok());

  ListOptions opts;
  opts.revision = snapshot;
  auto past = store_->List("/registry/pods/ns/", opts);
  ASSERT_TRUE(past.ok()) << past.status();
  EXPECT_EQ(past->revision, snapshot);
  ASSERT_EQ(past->items.size(), 2u);
  EXPECT_EQ(past->items[0].value, "a1");
  EXPECT_EQ(past->items[0].mod_revision, ra);
  EXPECT_EQ(past->items[1].value, "b1");

  opts.revision = ra;
  EXPECT_EQ(store_->List("/registry/pods/ns/", opts)->items.size(), 1u);

  opts.revision = *store_->CurrentRevision() + 100;
  auto future = store_->List("/registry/pods/ns/", opts);
  EXPECT_TRUE(absl::IsInvalidArgument(future.status())) << future.status();
}

TEST_P(StoreConformance, WatchOrderAndPrevValues) {
  auto w = store_->Watch("/registry/pods/", {});
  ASSERT_TRUE(w.ok()) << w.status();
  const std::string key = PodKey("ns", "w");
  int64_t r1 = *store_->Create(key, "v1");
  ASSERT_TRUE(store_->Create("/registry/services/ns/other", "x").ok());  // not watched
  int64_t r2 = *store_->Update(key, "v2", r1);
  auto del = store_->Delete(key);
  ASSERT_TRUE(del.ok());

  auto events = Collect(**w, 3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]->type, EventType::kPut);
  EXPECT_EQ(events[0]->revision, r1);
  EXPECT_EQ(events[0]->kv.key, key);
  EXPECT_EQ(events[0]->kv.value, "v1");
  EXPECT_EQ(events[0]->kv.create_revision, r1);
  EXPECT_FALSE(events[0]->prev.has_value());

  EXPECT_EQ(events[1]->type, EventType::kPut);
  EXPECT_EQ(events[1]->revision, r2);
  EXPECT_EQ(events[1]->kv.value, "v2");
  EXPECT_EQ(events[1]->kv.create_revision, r1);
  ASSERT_TRUE(events[1]->prev.has_value());
  EXPECT_EQ(events[1]->prev->value, "v1");
  EXPECT_EQ(events[1]->prev->mod_revision, r1);

  EXPECT_EQ(events[2]->type, EventType::kDelete);
  EXPECT_EQ(events[2]->revision, del->revision);
  EXPECT_EQ(events[2]->kv.key, key);
  ASSERT_TRUE(events[2]->prev.has_value());
  EXPECT_EQ(events[2]->prev->value, "v2");

  // Nothing else is pending (the service write was filtered out).
  auto more = (*w)->Next(absl::Now() + absl::Milliseconds(200));
  ASSERT_TRUE(more.ok());
  for (auto& ev : *more) EXPECT_EQ(ev->type, EventType::kBookmark);

  (*w)->Stop();
  auto after = (*w)->Next(absl::Now() + absl::Seconds(5));
  EXPECT_TRUE(absl::IsCancelled(after.status())) << after.status();
}

// "From now" means after the revision current when Watch returned, also
// for a watch made while another one on the same prefix is already open.
TEST_P(StoreConformance, WatchFromNowStartsAfterEarlierWrites) {
  auto first = store_->Watch("/registry/pods/", {});
  ASSERT_TRUE(first.ok()) << first.status();
  int64_t r1 = *store_->Create(PodKey("ns", "one"), "1");
  auto second = store_->Watch("/registry/pods/", {});
  ASSERT_TRUE(second.ok()) << second.status();
  int64_t r2 = *store_->Create(PodKey("ns", "two"), "2");
  auto a = Collect(**first, 2);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0]->revision, r1);
  EXPECT_EQ(a[1]->revision, r2);
  auto b = Collect(**second, 1);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0]->revision, r2);
  // Stopping one leaves the other running.
  (*first)->Stop();
  int64_t r3 = *store_->Create(PodKey("ns", "three"), "3");
  auto c = Collect(**second, 1);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]->revision, r3);
}

TEST_P(StoreConformance, WatchFromPastRevisionThenLive) {
  const std::string key = PodKey("ns", "h");
  int64_t r1 = *store_->Create(key, "v1");
  int64_t r2 = *store_->Update(key, "v2", r1);
  ASSERT_TRUE(store_->Create(PodKey("ns", "h2"), "x").ok());
  WatchOptions opts;
  opts.from_revision = r2;
  auto w = store_->Watch("/registry/pods/ns/", opts);
  ASSERT_TRUE(w.ok()) << w.status();
  int64_t r4 = *store_->Update(key, "v3", r2);

  auto events = Collect(**w, 3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]->revision, r2);
  EXPECT_EQ(events[0]->kv.value, "v2");
  ASSERT_TRUE(events[0]->prev.has_value());
  EXPECT_EQ(events[0]->prev->value, "v1");
  EXPECT_EQ(events[1]->kv.key, PodKey("ns", "h2"));
  EXPECT_EQ(events[2]->revision, r4);
  EXPECT_EQ(events[2]->prev->value, "v2");
}

TEST_P(StoreConformance, CompactionMakesPastOutOfRange) {
  const std::string key = PodKey("ns", "c");
  int64_t r = *store_->Create(key, "v0");
  for (int i = 1; i <= 5; ++i) r = *store_->Update(key, absl::StrCat("v", i), r);
  const int64_t compact_at = r - 2;
  ASSERT_TRUE(store_->Compact(compact_at).ok());
  EXPECT_EQ(*store_->CompactedRevision(), compact_at);

  WatchOptions old;
  old.from_revision = compact_at - 1;
  auto w = store_->Watch("/registry/pods/", old);
  ASSERT_TRUE(absl::IsOutOfRange(w.status())) << w.status();
  EXPECT_THAT(w.status().message(), HasSubstr("compacted"));

  ListOptions past;
  past.revision = compact_at - 1;
  auto l = store_->List("/registry/pods/", past);
  EXPECT_TRUE(absl::IsOutOfRange(l.status())) << l.status();

  // At and after the compaction revision history is readable.
  past.revision = compact_at;
  auto at = store_->List("/registry/pods/", past);
  ASSERT_TRUE(at.ok()) << at.status();
  ASSERT_EQ(at->items.size(), 1u);
  EXPECT_EQ(at->items[0].value, "v3");
  WatchOptions ok;
  ok.from_revision = compact_at + 1;
  auto w2 = store_->Watch("/registry/pods/", ok);
  ASSERT_TRUE(w2.ok()) << w2.status();
  auto events = Collect(**w2, 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]->kv.value, "v4");
  EXPECT_EQ(events[0]->prev->value, "v3");
  EXPECT_EQ(events[1]->kv.value, "v5");

  EXPECT_EQ(store_->Get(key)->value, "v5");
  EXPECT_TRUE(absl::IsOutOfRange(store_->Compact(compact_at)));
  EXPECT_FALSE(store_->Compact(r + 100).ok());
}

TEST_P(StoreConformance, ConcurrentWritersGetDistinctIncreasingRevisions) {
  constexpr int kThreads = 8, kPerThread = 60;
  std::vector<std::vector<int64_t>> revs(kThreads);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = PodKey(absl::StrCat("t", t), absl::StrCat("p", i));
        auto r = store_->Create(key, std::string(512, 'x'));
        if (!r.ok()) {
          ++errors;
          ADD_FAILURE() << r.status();
          continue;
        }
        revs[t].push_back(*r);
        // Half of them are updated at once, racing the other writers.
        if (i % 2 == 0) {
          auto u = store_->Update(key, "y", *r);
          if (!u.ok()) {
            ++errors;
            ADD_FAILURE() << u.status();
          } else {
            revs[t].push_back(*u);
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  std::set<int64_t> all;
  for (auto& v : revs) {
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    all.insert(v.begin(), v.end());
  }
  const size_t total = kThreads * (kPerThread + kPerThread / 2);
  EXPECT_EQ(all.size(), total);
  EXPECT_EQ(*all.rbegin(), *store_->CurrentRevision());
  EXPECT_EQ(store_->List("/registry/pods/", {})->items.size(), size_t{kThreads * kPerThread});
}

TEST_P(StoreConformance, ManyWatchersSeeEveryEventInOrder) {
  constexpr int kWatchers = 40, kWrites = 25;
  std::vector<std::unique_ptr<Watcher>> watchers;
  for (int i = 0; i < kWatchers; ++i) {
    auto w = store_->Watch("/registry/pods/", {});
    ASSERT_TRUE(w.ok()) << w.status();
    watchers.push_back(std::move(*w));
  }
  std::vector<int64_t> revs;
  for (int i = 0; i < kWrites; ++i) revs.push_back(*store_->Create(PodKey("m", absl::StrCat(i)), "x"));
  std::vector<std::thread> readers;
  std::vector<std::vector<int64_t>> got(kWatchers);
  for (int i = 0; i < kWatchers; ++i) {
    readers.emplace_back([&, i] {
      for (auto& ev : Collect(*watchers[i], kWrites)) got[i].push_back(ev->revision);
    });
  }
  for (auto& t : readers) t.join();
  for (int i = 0; i < kWatchers; ++i) EXPECT_EQ(got[i], revs) << "watcher " << i;
}

TEST_P(StoreConformance, ProgressBookmarkCoversDeliveredEvents) {
  auto w = store_->Watch("/registry/pods/", {});
  ASSERT_TRUE(w.ok()) << w.status();
  int64_t r = *store_->Create(PodKey("ns", "b"), "x");
  ASSERT_TRUE(store_->Create("/registry/services/ns/b", "x").ok());
  auto events = Collect(**w, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]->revision, r);
  (*w)->RequestProgress();
  auto bookmark = Collect(**w, 1, absl::Seconds(20), /*keep_bookmarks=*/true);
  ASSERT_EQ(bookmark.size(), 1u);
  EXPECT_EQ(bookmark[0]->type, EventType::kBookmark);
  EXPECT_GE(bookmark[0]->revision, r);
}

TEST_P(StoreConformance, WatchWithInvalidPrefixFails) {
  auto w = store_->Watch("registry", {});
  EXPECT_TRUE(absl::IsInvalidArgument(w.status())) << w.status();
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::Values("sqlite", "etcd"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace berth::store
