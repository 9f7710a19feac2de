#include "controlplane/apiserver/watch_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>


#include <atomic>
#include <condition_variable>
#include <mutex>

#include "common/fs.h"
#include "controlplane/store/sqlite_store.h"

namespace berth::apiserver {
namespace {

class WatchCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/berth-watch-cache-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    store::SqliteStoreOptions options;
    options.path = root_ + "/cp.db";
    options.compaction_interval = absl::ZeroDuration();
    auto s = store::SqliteStore::Open(options);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    (void)RemoveAll(root_);
  }

  static ObjectDecoder Decoder() {
    return [](const std::string& key, const std::string& value, int64_t revision) -> absl::StatusOr<nlohmann::json> {
      nlohmann::json obj = nlohmann::json::parse(value, nullptr, false);
      if (!obj.is_object()) return absl::InternalError("not json: " + key);
      obj["metadata"]["resourceVersion"] = std::to_string(revision);
      return obj;
    };
  }

  static std::string Pod(const std::string& name, int n) {
    return nlohmann::json{{"metadata", {{"name", name}}}, {"n", n}}.dump();
  }

  // Reads until `count` events arrived or 10 s passed.
  static std::vector<CachedEventPtr> Collect(EventSource* source, size_t count) {
    std::vector<CachedEventPtr> all;
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (all.size() < count && absl::Now() < deadline) {
      auto events = source->Next(deadline);
      if (!events.ok()) break;
      all.insert(all.end(), events->begin(), events->end());
    }
    return all;
  }

  std::string root_;
  std::unique_ptr<store::SqliteStore> store_;
};

TEST_F(WatchCacheTest, OneStoreWatchFeedsManyWatchersInOrder) {
  WatchCacheOptions options;
  options.progress_interval = absl::Milliseconds(100);
  auto cache = WatchCache::Start(store_.get(), "/registry/pods/", Decoder(), options);
  ASSERT_TRUE(cache.ok()) << cache.status();
  int64_t start = *store_->CurrentRevision() + 1;
  std::vector<std::unique_ptr<EventSource>> watchers;
  for (int i = 0; i < 20; ++i) {
    auto w = (*cache)->Subscribe(start, i % 2 ? "/registry/pods/ns1/" : "/registry/pods/");
    ASSERT_TRUE(w.ok()) << w.status();
    watchers.push_back(std::move(*w));
  }
  EXPECT_EQ((*cache)->watchers(), 20u);
  ASSERT_TRUE(store_->Create("/registry/pods/ns1/a", Pod("a", 1)).ok());
  ASSERT_TRUE(store_->Create("/registry/pods/ns2/b", Pod("b", 1)).ok());
  auto a = store_->Get("/registry/pods/ns1/a");
  ASSERT_TRUE(store_->Update("/registry/pods/ns1/a", Pod("a", 2), a->mod_revision).ok());
  ASSERT_TRUE(store_->Delete("/registry/pods/ns1/a").ok());
  ASSERT_TRUE(store_->Create("/registry/other/x", Pod("x", 1)).ok());  // another resource: not seen
  for (int i = 0; i < 20; ++i) {
    bool ns1_only = i % 2;
    auto events = Collect(watchers[i].get(), ns1_only ? 3 : 4);
    ASSERT_EQ(events.size(), ns1_only ? 3u : 4u) << i;
    EXPECT_EQ(events[0]->type, CachedEvent::Type::kAdded);
    EXPECT_EQ((*events[0]->object)["metadata"]["name"], "a");
    size_t m = ns1_only ? 1 : 2;
    EXPECT_EQ(events[m]->type, CachedEvent::Type::kModified);
    EXPECT_EQ((*events[m]->object)["n"], 2);
    EXPECT_EQ((*events[m]->prev)["n"], 1);
    EXPECT_EQ(events[m + 1]->type, CachedEvent::Type::kDeleted);
    EXPECT_EQ((*events[m + 1]->object)["metadata"]["resourceVersion"], std::to_string(events[m + 1]->revision));
    for (size_t k = 1; k < events.size(); ++k) EXPECT_LT(events[k - 1]->revision, events[k]->revision);
  }
  // Events are shared, not copied per watcher.
  watchers.clear();
  EXPECT_EQ((*cache)->watchers(), 0u);
}

TEST_F(WatchCacheTest, ResumesFromWindowAndRefusesOlderRevisions) {
  ASSERT_TRUE(store_->Create("/registry/pods/ns/before", Pod("before", 0)).ok());
  WatchCacheOptions options;
  options.capacity = 5;
  auto cache = WatchCache::Start(store_.get(), "/registry/pods/", Decoder(), options);
  ASSERT_TRUE(cache.ok());
  int64_t first = 0;
  for (int i = 0; i < 10; ++i) {
    auto rev = store_->Create("/registry/pods/ns/p" + std::to_string(i), Pod("p", i));
    ASSERT_TRUE(rev.ok());
    if (i == 0) first = *rev;
  }
  // Wait until the cache has seen everything.
  int64_t last = *store_->CurrentRevision();
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while ((*cache)->revision() < last && absl::Now() < deadline) {
    auto w = (*cache)->Subscribe(last, "/registry/pods/");
    ASSERT_TRUE(w.ok());
    Collect(w->get(), 1);
  }
  ASSERT_EQ((*cache)->revision(), last);
  // The last 5 events are kept: resume from the 7th create.
  auto resumed = (*cache)->Subscribe(first + 6, "/registry/pods/");
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  auto events = Collect(resumed->get(), 4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0]->revision, first + 6);
  // Older than the window: OutOfRange, and the store serves it instead.
  auto old = (*cache)->Subscribe(first, "/registry/pods/");
  EXPECT_EQ(old.status().code(), absl::StatusCode::kOutOfRange);
  auto direct = StoreEventSource(store_.get(), "/registry/pods/", first, Decoder());
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(Collect(direct->get(), 10).size(), 10u);
  // Compacted in the store: OutOfRange from the store too (-> 410).
  ASSERT_TRUE(store_->Compact(last).ok());
  EXPECT_EQ(StoreEventSource(store_.get(), "/registry/pods/", first, Decoder()).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST_F(WatchCacheTest, SlowWatcherEndedOthersUnaffected) {
  WatchCacheOptions options;
  options.max_pending_per_watcher = 3;
  auto cache = WatchCache::Start(store_.get(), "/registry/pods/", Decoder(), options);
  ASSERT_TRUE(cache.ok());
  int64_t start = *store_->CurrentRevision() + 1;
  auto slow = (*cache)->Subscribe(start, "/registry/pods/");
  auto fast = (*cache)->Subscribe(start, "/registry/pods/");
  ASSERT_TRUE(slow.ok() && fast.ok());
  std::vector<CachedEventPtr> fast_events;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(store_->Create("/registry/pods/ns/s" + std::to_string(i), Pod("s", i)).ok());
    auto one = Collect(fast->get(), 1);  // the fast one keeps up
    fast_events.insert(fast_events.end(), one.begin(), one.end());
  }
  EXPECT_EQ(fast_events.size(), 6u);
  // The slow one gets what it queued, then the reason it was ended.
  absl::Status ended;
  size_t got = 0;
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    auto events = (*slow)->Next(deadline);
    if (!events.ok()) {
      ended = events.status();
      break;
    }
    got += events->size();
  }
  EXPECT_EQ(ended.code(), absl::StatusCode::kResourceExhausted) << ended;
  EXPECT_LE(got, 3u);
}

// Counts wake-ups and lets a test wait for the next one.
class WakeCounter {
 public:
  std::function<void()> Fn() {
    return [this] {
      std::lock_guard lock(mu_);
      ++wakes_;
      cv_.notify_all();
    };
  }
  // True when wake-ups reached `n` within 10 s.
  bool WaitFor(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return wakes_ >= n; });
  }
  int wakes() {
    std::lock_guard lock(mu_);
    return wakes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int wakes_ = 0;
};

TEST_F(WatchCacheTest, EventDrivenSourcesNotifyWhenEventsArrive) {
  auto cache = WatchCache::Start(store_.get(), "/registry/pods/", Decoder());
  ASSERT_TRUE(cache.ok()) << cache.status();
  int64_t start = *store_->CurrentRevision() + 1;
  auto sub = (*cache)->Subscribe(start, "/registry/pods/");
  ASSERT_TRUE(sub.ok()) << sub.status();
  auto direct = StoreEventSource(store_.get(), "/registry/pods/", start, Decoder());
  ASSERT_TRUE(direct.ok()) << direct.status();
  WakeCounter sub_wakes, direct_wakes;
  ASSERT_TRUE((*sub)->SetNotify(sub_wakes.Fn()));
  ASSERT_TRUE((*direct)->SetNotify(direct_wakes.Fn()));
  // Nothing yet: a read with a past deadline returns at once, empty.
  auto none = (*sub)->Next(absl::InfinitePast());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  ASSERT_TRUE(store_->Create("/registry/pods/ns1/a", Pod("a", 1)).ok());
  ASSERT_TRUE(sub_wakes.WaitFor(1));
  ASSERT_TRUE(direct_wakes.WaitFor(1));
  for (EventSource* source : {sub->get(), direct->get()}) {
    std::vector<CachedEventPtr> got;
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (got.empty() && absl::Now() < deadline) {
      auto events = source->Next(absl::InfinitePast());
      ASSERT_TRUE(events.ok()) << events.status();
      got.insert(got.end(), events->begin(), events->end());
    }
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0]->key, "/registry/pods/ns1/a");
  }
  // Drained: the next event wakes again; the end wakes too.
  ASSERT_TRUE(store_->Create("/registry/pods/ns1/b", Pod("b", 1)).ok());
  EXPECT_TRUE(sub_wakes.WaitFor(2));
  (*direct)->Stop();
  EXPECT_TRUE(direct_wakes.WaitFor(2));
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::StatusOr<std::vector<CachedEventPtr>> ended = std::vector<CachedEventPtr>{};
  while (ended.ok() && absl::Now() < deadline) ended = (*direct)->Next(absl::InfinitePast());
  EXPECT_FALSE(ended.ok());
  // A stopped subscription wakes no one.
  (*sub)->Stop();
  int before = sub_wakes.wakes();
  ASSERT_TRUE(store_->Create("/registry/pods/ns1/c", Pod("c", 1)).ok());
  auto probe = (*cache)->Subscribe(start, "/registry/pods/");
  ASSERT_TRUE(probe.ok());
  Collect(probe->get(), 3);
  EXPECT_EQ(sub_wakes.wakes(), before);
}

TEST_F(WatchCacheTest, StateLoadedAtStartThenFollowsEveryChange) {
  // More objects than one load page, some in another namespace.
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(store_->Create("/registry/pods/ns" + std::to_string(i % 2) + "/p" + std::to_string(i), Pod("p", i)).ok());
  }
  ASSERT_TRUE(store_->Create("/registry/other/x", Pod("x", 1)).ok());  // another resource
  WatchCacheOptions options;
  options.initial_list_page = 3;
  auto cache = WatchCache::Start(store_.get(), "/registry/pods/", Decoder(), options);
  ASSERT_TRUE(cache.ok()) << cache.status();
  auto all = (*cache)->ListState("/registry/pods/");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->revision, *store_->CurrentRevision());
  ASSERT_EQ(all->objects.size(), 7u);
  auto first = nlohmann::json::parse(*all->objects[0]);
  EXPECT_EQ(first["metadata"]["name"], "p");
  EXPECT_EQ(first["metadata"]["resourceVersion"], "1");
  auto ns1_start = (*cache)->ListState("/registry/pods/ns1/");
  ASSERT_TRUE(ns1_start.ok());
  EXPECT_EQ(ns1_start->objects.size(), 3u);

  // An update, a deletion and a create reach the state once the cache has them.
  auto p0 = store_->Get("/registry/pods/ns0/p0");
  ASSERT_TRUE(store_->Update("/registry/pods/ns0/p0", Pod("p0", 100), p0->mod_revision).ok());
  ASSERT_TRUE(store_->Delete("/registry/pods/ns1/p1").ok());
  auto last = store_->Create("/registry/pods/ns1/new", Pod("new", 1));
  ASSERT_TRUE(last.ok());
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while ((*cache)->revision() < *last && absl::Now() < deadline) {
    auto w = (*cache)->Subscribe(*last, "/registry/pods/");
    ASSERT_TRUE(w.ok());
    Collect(w->get(), 1);
  }
  auto now = (*cache)->ListState("/registry/pods/");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->revision, *last);
  ASSERT_EQ(now->objects.size(), 7u);
  EXPECT_EQ(nlohmann::json::parse(*now->objects[0])["n"], 100);
  auto ns1_list = (*cache)->ListState("/registry/pods/ns1/");
  ASSERT_TRUE(ns1_list.ok());
  std::vector<std::string> ns1;
  for (const auto& text : ns1_list->objects) ns1.push_back(nlohmann::json::parse(*text)["metadata"]["name"]);
  EXPECT_EQ(ns1, (std::vector<std::string>{"new", "p", "p"}));

  // One object by its exact key (not a prefix: ns1/p is not ns1/p1's).
  auto p0_now = (*cache)->StateObject("/registry/pods/ns0/p0");
  ASSERT_TRUE(p0_now.ok()) << p0_now.status();
  EXPECT_EQ(nlohmann::json::parse(**p0_now)["n"], 100);
  EXPECT_EQ((*cache)->StateObject("/registry/pods/ns1/p1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*cache)->StateObject("/registry/pods/ns1/p").status().code(), absl::StatusCode::kNotFound);

  // Without keep_state there is nothing to list.
  WatchCacheOptions stateless;
  stateless.keep_state = false;
  auto bare = WatchCache::Start(store_.get(), "/registry/pods/", Decoder(), stateless);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ((*bare)->ListState("/registry/pods/").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ((*bare)->StateObject("/registry/pods/ns0/p0").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace berth::apiserver
