// One watch cache per resource: a single store watch on the resource's key
// prefix feeds every API watcher of that resource, and a window of recent
// events lets watchers start or resume from a recent resourceVersion without
// reaching the store. Events are decoded (decrypted, parsed, resourceVersion
// set) once, then shared by all watchers.
//
// A watch from a revision older than the window is served by a watch on the
// store itself (StoreEventSource), which answers OutOfRange when the store
// compacted it (-> 410 Gone).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "controlplane/store/store.h"

namespace berth::apiserver {

struct CachedEvent {
  enum class Type { kAdded, kModified, kDeleted };
  Type type = Type::kAdded;
  int64_t revision = 0;
  std::string key;
  // The object as the API shows it (resourceVersion set; for a deletion the
  // last state with the deletion's revision).
  std::shared_ptr<const nlohmann::json> object;
  // The state before (updates and deletions), or null.
  std::shared_ptr<const nlohmann::json> prev;
  // `object` as JSON text, encoded once when the event is made and shared by
  // every watcher that sends it (WatchEventLine).
  std::string object_json;
};
using CachedEventPtr = std::shared_ptr<const CachedEvent>;

// A watch event as the API streams it, one JSON line:
// {"type":"ADDED","object":<event.object_json>}\n
std::string WatchEventLine(absl::string_view type, const CachedEvent& event);

// Turns a stored value into the API object, with resourceVersion = revision.
using ObjectDecoder = std::function<absl::StatusOr<nlohmann::json>(
    const std::string& key, const std::string& value, int64_t revision)>;

// What a watch handler reads from: the cache or the store.
class EventSource {
 public:
  virtual ~EventSource() = default;
  // Events ready by `deadline` (empty at the deadline), or the reason the
  // stream ended.
  virtual absl::StatusOr<std::vector<CachedEventPtr>> Next(absl::Time deadline) = 0;
  // Every change up to this revision has been delivered (for bookmarks).
  virtual int64_t ProgressRevision() = 0;
  virtual void Stop() = 0;
  // Event-driven reading: `notify` is called (from any thread, possibly with
  // locks held, so it must only schedule work) whenever Next has something
  // new to return after it returned nothing: events or the end. Next is then
  // called with a past deadline and does not block. False when this source
  // cannot notify.
  virtual bool SetNotify(std::function<void()> notify) = 0;
};

struct WatchCacheOptions {
  size_t capacity = 1000;  // events kept for resuming watchers
  size_t max_pending_per_watcher = 10000;  // a watcher further behind is ended
  absl::Duration progress_interval = absl::Seconds(1);
  // Keep every object under the prefix (as JSON text) so lists that need not
  // be consistent (resourceVersion=0, NotOlderThan) are served from memory.
  bool keep_state = true;
  int64_t initial_list_page = 1000;  // store page size when loading the state
};

// Every object under a key prefix at one revision, as the watch cache holds
// them: each object's JSON (kind, apiVersion and resourceVersion set), in key
// order.
struct CachedList {
  int64_t revision = 0;
  std::vector<std::shared_ptr<const std::string>> objects;
};

class WatchCache {
 public:
  // Watches `prefix` from the store's current revision on.
  static absl::StatusOr<std::unique_ptr<WatchCache>> Start(store::Store* store, std::string prefix,
                                                           ObjectDecoder decoder,
                                                           WatchCacheOptions options = {});
  ~WatchCache();

  // Events with revision >= from_revision whose key starts with key_prefix
  // (the resource prefix or one namespace's). OutOfRange when the window no
  // longer holds from_revision (the caller goes to the store).
  absl::StatusOr<std::unique_ptr<EventSource>> Subscribe(int64_t from_revision,
                                                         const std::string& key_prefix);

  // The objects whose key starts with key_prefix at the cache's revision;
  // Unavailable while the cache has no state (keep_state off, or reloading
  // after the store watch ended).
  absl::StatusOr<CachedList> ListState(const std::string& key_prefix) const;

  // One object's JSON from the state by its exact key: NotFound when the
  // cache has no such key, Unavailable while it holds no state. The cache
  // may trail the store by the events still in flight.
  absl::StatusOr<std::shared_ptr<const std::string>> StateObject(const std::string& key) const;

  // The revision every event up to which has been received.
  int64_t revision() const;
  size_t watchers() const;

  class Subscription;

 private:
  WatchCache(store::Store* store, std::string prefix, ObjectDecoder decoder, WatchCacheOptions options);
  void Run();
  // Loads the state (keep_state) and opens the store watch after it.
  absl::Status Sync();
  absl::Status OpenWatch(int64_t from_revision);
  void Publish(std::vector<CachedEventPtr> events, int64_t progress);
  void EndAll(const absl::Status& why);
  void Unsubscribe(Subscription* sub);

  store::Store* store_;
  const std::string prefix_;
  ObjectDecoder decoder_;
  const WatchCacheOptions options_;

  mutable std::mutex mu_;
  std::deque<CachedEventPtr> history_;
  int64_t history_start_ = 0;  // every event with revision >= this is in history_ or yet to come
  int64_t revision_ = 0;
  std::list<Subscription*> subscribers_;
  bool stopping_ = false;
  // keep_state: key -> the object's JSON, valid at revision_ when synced_.
  std::map<std::string, std::shared_ptr<const std::string>> state_;
  bool synced_ = false;

  std::unique_ptr<store::Watcher> watcher_;  // owned by Run's thread after Start
  std::thread thread_;
};

// A watch on the store itself, decoded like the cache's events.
absl::StatusOr<std::unique_ptr<EventSource>> StoreEventSource(store::Store* store,
                                                             const std::string& key_prefix,
                                                             int64_t from_revision,
                                                             ObjectDecoder decoder);

}  // namespace berth::apiserver
