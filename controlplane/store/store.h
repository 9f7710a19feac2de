// The control plane's store: a revisioned key-value map with history, the
// one interface the API server stands on. Two backends implement it
// (sqlite_store.h, etcd_store.h) and pass the same conformance suite.
//
// Every change (create, update, delete) gets the next value of one global
// revision counter that orders all changes across all keys; it becomes the
// Kubernetes resourceVersion. Keys look like "/registry/pods/<ns>/<name>".
//
// Error codes (the API server maps them to HTTP):
//   NotFound            the key does not exist                       -> 404
//   AlreadyExists       Create of an existing key                    -> 409
//   Aborted "conflict"  Update/Delete with a stale mod_revision      -> 409
//   OutOfRange "compacted"  read or watch before the compacted revision -> 410 Gone
//   InvalidArgument     bad key, prefix or options (the field is named)
//   Unavailable         the backend cannot be reached
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::store {

// One key at one revision.
struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;  // revision that created it (since its last delete)
  int64_t mod_revision = 0;     // revision of its latest change
};

struct ListOptions {
  // Read as of this revision; 0 means the current one. A revision before the
  // compacted one is OutOfRange, one after the current one InvalidArgument.
  int64_t revision = 0;
  // At most this many items; 0 means no limit.
  int64_t limit = 0;
  // Start at this key (inclusive); it must lie within the prefix. Pass the
  // previous page's `continue_key` together with its `revision`.
  std::string continue_key;
};

struct ListResult {
  std::vector<KeyValue> items;  // sorted by key
  // The revision the list is consistent at (every item as of this revision).
  int64_t revision = 0;
  // More items follow; fetch them with continue_key and revision.
  bool more = false;
  std::string continue_key;
};

struct DeleteResult {
  KeyValue deleted;  // the value that was deleted
  int64_t revision = 0;
};

enum class EventType {
  kPut,       // created or updated: kv is the new value, prev the old (absent on create)
  kDelete,    // deleted: kv.key is the key, prev the deleted value
  kBookmark,  // progress: every change up to `revision` was delivered; no kv
};

struct Event {
  EventType type = EventType::kPut;
  int64_t revision = 0;
  KeyValue kv;
  std::optional<KeyValue> prev;
};
// Events are shared between watchers, never copied per watcher.
using EventPtr = std::shared_ptr<const Event>;

struct WatchOptions {
  // Deliver changes with revision >= this; 0 means changes after now.
  // Before the compacted revision: Watch fails OutOfRange ("compacted").
  int64_t from_revision = 0;
  // When no event came for this long, a kBookmark carries the latest
  // revision the watch has caught up with. Zero: no periodic bookmarks
  // (RequestProgress still works). etcd decides its own interval
  // (--experimental-watch-progress-notify-interval) and only honours "on".
  absl::Duration progress_interval = absl::ZeroDuration();
};

// One watch: a stream of events in revision order. Next is called from one
// thread at a time; RequestProgress and Stop from any thread.
class Watcher {
 public:
  virtual ~Watcher() = default;

  // Waits until events are ready or `deadline` passes and returns what is
  // ready (empty at the deadline). When the watch has ended it returns the
  // reason: Cancelled after Stop, OutOfRange when its start was compacted,
  // ResourceExhausted when the reader fell too far behind, Unavailable when
  // the backend went away. Resume with a new Watch from the last revision + 1.
  virtual absl::StatusOr<std::vector<EventPtr>> Next(absl::Time deadline) = 0;

  // Asks for a kBookmark once everything up to the store's current revision
  // has been delivered.
  virtual void RequestProgress() = 0;

  // Ends the watch; a blocked Next returns Cancelled.
  virtual void Stop() = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual absl::StatusOr<KeyValue> Get(const std::string& key) = 0;

  // Keys starting with `prefix` (which must end with '/' or be a full key
  // path, never empty), sorted by key.
  virtual absl::StatusOr<ListResult> List(const std::string& prefix,
                                          const ListOptions& options) = 0;

  // AlreadyExists if the key exists. Returns the new revision.
  virtual absl::StatusOr<int64_t> Create(const std::string& key, const std::string& value) = 0;

  // Replaces the value if its mod_revision is still `expected_mod_revision`;
  // otherwise Aborted ("conflict", naming the key and both revisions), or
  // NotFound if it is gone. Returns the new revision.
  virtual absl::StatusOr<int64_t> Update(const std::string& key, const std::string& value,
                                         int64_t expected_mod_revision) = 0;

  // Deletes the key, if given only while its mod_revision is still
  // `expected_mod_revision` (else Aborted "conflict").
  virtual absl::StatusOr<DeleteResult> Delete(
      const std::string& key, std::optional<int64_t> expected_mod_revision = std::nullopt) = 0;

  // Events for keys starting with `prefix`.
  virtual absl::StatusOr<std::unique_ptr<Watcher>> Watch(const std::string& prefix,
                                                         const WatchOptions& options) = 0;

  // Forgets the history before `revision`: reads and watches before it
  // become OutOfRange; the current value of every key is kept.
  virtual absl::Status Compact(int64_t revision) = 0;

  // The revision of the latest change (0 for an empty store).
  virtual absl::StatusOr<int64_t> CurrentRevision() = 0;

  // The oldest revision still readable (the last compaction's), 0 if none.
  virtual absl::StatusOr<int64_t> CompactedRevision() = 0;

  // An online, consistent copy of the whole store in a file.
  virtual absl::Status Snapshot(const std::string& path) = 0;
};

// Opens a store from a URL: "sqlite:///var/lib/berth/cp.db" or
// "etcd://127.0.0.1:2379[,host:port...]".
absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& url);

// The exclusive end of the key range that starts with `prefix` (etcd's
// prefix end: the last byte below 0xff incremented, the rest dropped).
std::string PrefixEnd(const std::string& prefix);

// The largest value either backend takes: etcd's default request limit
// (--max-request-bytes, 1.5 MiB) less room for the key and the request's
// envelope, so that both backends refuse the same input.
inline constexpr size_t kMaxValueBytes = 1536 * 1024 - 4096;

// InvalidArgument naming the key and the size when `value` is too large.
absl::Status ValidateValue(const std::string& key, const std::string& value);

// InvalidArgument naming `field` unless `key` is a usable key: starts with
// '/', no NUL bytes, at most 1024 bytes.
absl::Status ValidateKey(const std::string& key, const char* field);

// Checks a List call's prefix and options (InvalidArgument naming what is
// wrong) and returns the key the listing starts from: the continue key when
// one is given (it must lie under the prefix), else the prefix.
absl::StatusOr<std::string> ListStartKey(const std::string& prefix, const ListOptions& options);

}  // namespace berth::store
