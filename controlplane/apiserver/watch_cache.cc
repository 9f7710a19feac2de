#include "controlplane/apiserver/watch_cache.h"

#include <atomic>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace berth::apiserver {

namespace {

// Turns store events into API events; events that do not decode are logged
// and skipped (a value this server cannot read should not end every watch).
std::vector<CachedEventPtr> DecodeEvents(const std::vector<store::EventPtr>& events,
                                         const ObjectDecoder& decoder, int64_t* progress) {
  std::vector<CachedEventPtr> out;
  for (const auto& e : events) {
    *progress = std::max(*progress, e->revision);
    if (e->type == store::EventType::kBookmark) continue;
    auto event = std::make_shared<CachedEvent>();
    event->revision = e->revision;
    event->key = e->kv.key;
    if (e->prev) {
      auto prev = decoder(e->prev->key, e->prev->value, e->prev->mod_revision);
      if (prev.ok()) event->prev = std::make_shared<const nlohmann::json>(std::move(*prev));
    }
    if (e->type == store::EventType::kPut) {
      auto obj = decoder(e->kv.key, e->kv.value, e->revision);
      if (!obj.ok()) {
        BERTH_LOG(Warning) << "watch: cannot decode" << Kv("key", e->kv.key)
                           << Kv("error", obj.status().ToString());
        continue;
      }
      event->object_json = obj->dump();
      event->object = std::make_shared<const nlohmann::json>(std::move(*obj));
      event->type = e->prev ? CachedEvent::Type::kModified : CachedEvent::Type::kAdded;
    } else {
      if (!e->prev) continue;
      auto obj = decoder(e->prev->key, e->prev->value, e->revision);
      if (!obj.ok()) continue;
      event->object_json = obj->dump();
      event->object = std::make_shared<const nlohmann::json>(std::move(*obj));
      event->type = CachedEvent::Type::kDeleted;
    }
    out.push_back(std::move(event));
  }
  return out;
}

// A watch on the store for a revision older than the cache's window (rare:
// a watcher resuming after a long gap). The store's watcher only blocks, so
// an event-driven reader gets a thread of its own that reads ahead.
class StoreSource : public EventSource {
 public:
  StoreSource(std::unique_ptr<store::Watcher> watcher, ObjectDecoder decoder, int64_t from)
      : watcher_(std::move(watcher)), decoder_(std::move(decoder)), progress_(from - 1) {}
  ~StoreSource() override {
    Stop();
    if (reader_.joinable()) reader_.join();
  }

  absl::StatusOr<std::vector<CachedEventPtr>> Next(absl::Time deadline) override {
    if (!reader_.joinable()) {
      ASSIGN_OR_RETURN(std::vector<store::EventPtr> events, watcher_->Next(deadline));
      int64_t progress = progress_.load();
      auto decoded = DecodeEvents(events, decoder_, &progress);
      progress_.store(progress);
      return decoded;
    }
    std::lock_guard lock(mu_);
    if (ready_.empty() && !ended_.ok()) return ended_;
    std::vector<CachedEventPtr> out;
    out.swap(ready_);
    return out;
  }
  int64_t ProgressRevision() override { return progress_.load(); }
  void Stop() override { watcher_->Stop(); }

  bool SetNotify(std::function<void()> notify) override {
    if (reader_.joinable()) return false;
    notify_ = std::move(notify);
    reader_ = std::thread([this] { ReadAhead(); });
    return true;
  }

 private:
  void ReadAhead() {
    while (true) {
      auto events = watcher_->Next(absl::Now() + absl::Seconds(1));
      bool wake = false;
      {
        std::lock_guard lock(mu_);
        if (!events.ok()) {
          ended_ = events.status();
          wake = true;
        } else {
          int64_t progress = progress_.load();
          auto decoded = DecodeEvents(*events, decoder_, &progress);
          progress_.store(progress);
          wake = ready_.empty() && !decoded.empty();
          ready_.insert(ready_.end(), decoded.begin(), decoded.end());
        }
      }
      if (wake) notify_();
      if (!events.ok()) return;
    }
  }

  std::unique_ptr<store::Watcher> watcher_;
  ObjectDecoder decoder_;
  std::atomic<int64_t> progress_;
  std::function<void()> notify_;
  std::mutex mu_;
  std::vector<CachedEventPtr> ready_;
  absl::Status ended_;
  std::thread reader_;
};

}  // namespace

std::string WatchEventLine(absl::string_view type, const CachedEvent& event) {
  return absl::StrCat("{\"type\":\"", type, "\",\"object\":", event.object_json, "}\n");
}

class WatchCache::Subscription : public EventSource {
 public:
  Subscription(WatchCache* cache, std::string key_prefix) : cache_(cache), key_prefix_(std::move(key_prefix)) {}
  ~Subscription() override { Stop(); }

  absl::StatusOr<std::vector<CachedEventPtr>> Next(absl::Time deadline) override {
    std::unique_lock lock(mu_);
    while (pending_.empty() && ended_.ok()) {
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return std::vector<CachedEventPtr>{};
      cv_.wait_for(lock, absl::ToChronoNanoseconds(left));
    }
    if (pending_.empty()) return ended_;
    std::vector<CachedEventPtr> out(pending_.begin(), pending_.end());
    pending_.clear();
    return out;
  }

  int64_t ProgressRevision() override {
    std::lock_guard lock(mu_);
    return progress_;
  }

  bool SetNotify(std::function<void()> notify) override {
    bool ready = false;
    {
      std::lock_guard lock(mu_);
      notify_ = std::move(notify);
      ready = !pending_.empty() || !ended_.ok();
    }
    if (ready) Notify();
    return true;
  }

  void Stop() override {
    WatchCache* cache = nullptr;
    {
      std::lock_guard lock(mu_);
      if (ended_.ok()) ended_ = absl::CancelledError("watch stopped");
      cache = cache_;
      cache_ = nullptr;
      notify_ = nullptr;
    }
    cv_.notify_all();
    if (cache) cache->Unsubscribe(this);
  }

  // Called with the cache's lock held.
  void Push(const CachedEventPtr& event, size_t limit) {
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      if (!ended_.ok()) return;
      if (event && event->revision < from_) return;
      if (event && !absl::StartsWith(event->key, key_prefix_)) return;
      if (event) {
        wake = pending_.empty();
        if (pending_.size() >= limit) {
          ended_ = absl::ResourceExhaustedError(
              absl::StrCat("watcher fell ", limit, " events behind; resume from ", progress_ + 1));
          wake = true;
        } else {
          pending_.push_back(event);
          progress_ = std::max(progress_, event->revision);
        }
      }
    }
    cv_.notify_one();
    if (wake) Notify();
  }
  void Progress(int64_t revision) {
    std::lock_guard lock(mu_);
    progress_ = std::max(progress_, revision);
  }
  void End(const absl::Status& why) {
    {
      std::lock_guard lock(mu_);
      if (ended_.ok()) ended_ = why;
      cache_ = nullptr;
    }
    cv_.notify_all();
    Notify();
  }

  int64_t from_ = 0;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  WatchCache* cache_;
  const std::string key_prefix_;
  std::deque<CachedEventPtr> pending_;
  int64_t progress_ = 0;
  absl::Status ended_;
  std::function<void()> notify_;  // event-driven reader's wake-up, or empty

  // Calls the reader's wake-up outside mu_ (it may take its own locks).
  void Notify() {
    std::function<void()> notify;
    {
      std::lock_guard lock(mu_);
      notify = notify_;
    }
    if (notify) notify();
  }
};

WatchCache::WatchCache(store::Store* store, std::string prefix, ObjectDecoder decoder,
                       WatchCacheOptions options)
    : store_(store), prefix_(std::move(prefix)), decoder_(std::move(decoder)), options_(options) {}

absl::StatusOr<std::unique_ptr<WatchCache>> WatchCache::Start(store::Store* store, std::string prefix,
                                                              ObjectDecoder decoder,
                                                              WatchCacheOptions options) {
  std::unique_ptr<WatchCache> cache(new WatchCache(store, std::move(prefix), std::move(decoder), options));
  RETURN_IF_ERROR(cache->Sync());
  cache->thread_ = std::thread([c = cache.get()] { c->Run(); });
  return cache;
}

absl::Status WatchCache::Sync() {
  if (!options_.keep_state) {
    ASSIGN_OR_RETURN(int64_t current, store_->CurrentRevision());
    return OpenWatch(current + 1);
  }
  // Page through the store at one revision, then watch from the next.
  std::map<std::string, std::shared_ptr<const std::string>> state;
  store::ListOptions options;
  options.limit = options_.initial_list_page;
  while (true) {
    ASSIGN_OR_RETURN(store::ListResult page, store_->List(prefix_, options));
    options.revision = page.revision;
    for (const auto& kv : page.items) {
      auto obj = decoder_(kv.key, kv.value, kv.mod_revision);
      if (!obj.ok()) {
        BERTH_LOG(Warning) << "watch cache: cannot decode" << Kv("key", kv.key)
                           << Kv("error", obj.status().ToString());
        continue;
      }
      state.emplace(kv.key, std::make_shared<const std::string>(obj->dump()));
    }
    if (!page.more) break;
    options.continue_key = page.continue_key;
  }
  RETURN_IF_ERROR(OpenWatch(options.revision + 1));
  std::lock_guard lock(mu_);
  state_ = std::move(state);
  synced_ = true;
  return absl::OkStatus();
}

absl::Status WatchCache::OpenWatch(int64_t from_revision) {
  store::WatchOptions options;
  options.from_revision = from_revision;
  options.progress_interval = options_.progress_interval;
  ASSIGN_OR_RETURN(watcher_, store_->Watch(prefix_, options));
  std::lock_guard lock(mu_);
  history_.clear();
  history_start_ = from_revision;
  revision_ = from_revision - 1;
  return absl::OkStatus();
}

WatchCache::~WatchCache() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  if (watcher_) watcher_->Stop();
  if (thread_.joinable()) thread_.join();
  EndAll(absl::UnavailableError("watch cache stopped"));
}

void WatchCache::Run() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    auto events = watcher_->Next(absl::Now() + absl::Seconds(5));
    if (events.ok()) {
      int64_t progress = revision();
      std::vector<CachedEventPtr> decoded = DecodeEvents(*events, decoder_, &progress);
      Publish(std::move(decoded), progress);
      continue;
    }
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    BERTH_LOG(Warning) << "watch cache: store watch ended; restarting" << Kv("prefix", prefix_)
                       << Kv("error", events.status().ToString());
    // Watchers resume on their own (from their last revision); the cache
    // starts over from now.
    EndAll(absl::UnavailableError(absl::StrCat("watch cache for ", prefix_, " restarted: ",
                                               events.status().message())));
    while (true) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      if (Sync().ok()) break;
      std::this_thread::sleep_for(std::chrono::seconds(1));  // backoff while the store is away
    }
  }
}

void WatchCache::Publish(std::vector<CachedEventPtr> events, int64_t progress) {
  std::lock_guard lock(mu_);
  for (auto& event : events) {
    if (synced_) {
      if (event->type == CachedEvent::Type::kDeleted) {
        state_.erase(event->key);
      } else {
        state_[event->key] = std::make_shared<const std::string>(event->object_json);
      }
    }
    history_.push_back(event);
    for (Subscription* sub : subscribers_) sub->Push(event, options_.max_pending_per_watcher);
  }
  while (history_.size() > options_.capacity) {
    history_start_ = history_.front()->revision + 1;
    history_.pop_front();
  }
  revision_ = std::max(revision_, progress);
  for (Subscription* sub : subscribers_) sub->Progress(revision_);
}

void WatchCache::EndAll(const absl::Status& why) {
  std::lock_guard lock(mu_);
  synced_ = false;  // reloaded by the next Sync
  state_.clear();
  for (Subscription* sub : subscribers_) sub->End(why);
  subscribers_.clear();
}

void WatchCache::Unsubscribe(Subscription* sub) {
  std::lock_guard lock(mu_);
  subscribers_.remove(sub);
}

absl::StatusOr<std::unique_ptr<EventSource>> WatchCache::Subscribe(int64_t from_revision,
                                                                   const std::string& key_prefix) {
  std::lock_guard lock(mu_);
  if (from_revision < history_start_) {
    return absl::OutOfRangeError(absl::StrCat("revision ", from_revision, " is older than the watch cache's window (",
                                              history_start_, ")"));
  }
  auto sub = std::make_unique<Subscription>(this, key_prefix);
  sub->from_ = from_revision;
  sub->Progress(std::min(revision_, from_revision - 1));
  for (const auto& event : history_) {
    if (event->revision >= from_revision) sub->Push(event, options_.max_pending_per_watcher);
  }
  subscribers_.push_back(sub.get());
  return std::unique_ptr<EventSource>(std::move(sub));
}

absl::StatusOr<CachedList> WatchCache::ListState(const std::string& key_prefix) const {
  std::lock_guard lock(mu_);
  if (!synced_) return absl::UnavailableError(absl::StrCat("the watch cache for ", prefix_, " holds no state"));
  CachedList list;
  list.revision = revision_;
  for (auto it = state_.lower_bound(key_prefix); it != state_.end() && absl::StartsWith(it->first, key_prefix);
       ++it) {
    list.objects.push_back(it->second);
  }
  return list;
}

absl::StatusOr<std::shared_ptr<const std::string>> WatchCache::StateObject(const std::string& key) const {
  std::lock_guard lock(mu_);
  if (!synced_) return absl::UnavailableError(absl::StrCat("the watch cache for ", prefix_, " holds no state"));
  auto it = state_.find(key);
  if (it == state_.end()) return absl::NotFoundError(absl::StrCat("key ", key, " is not in the watch cache"));
  return it->second;
}

int64_t WatchCache::revision() const {
  std::lock_guard lock(mu_);
  return revision_;
}

size_t WatchCache::watchers() const {
  std::lock_guard lock(mu_);
  return subscribers_.size();
}

absl::StatusOr<std::unique_ptr<EventSource>> StoreEventSource(store::Store* store,
                                                             const std::string& key_prefix,
                                                             int64_t from_revision,
                                                             ObjectDecoder decoder) {
  store::WatchOptions options;
  options.from_revision = from_revision;
  ASSIGN_OR_RETURN(auto watcher, store->Watch(key_prefix, options));
  return std::unique_ptr<EventSource>(
      std::make_unique<StoreSource>(std::move(watcher), std::move(decoder), from_revision));
}

}  // namespace berth::apiserver
