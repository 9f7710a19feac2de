// Informer: a local, thread-safe copy of one resource (optionally one
// namespace and a selector), kept by list-then-watch over any ApiClient, as
// client-go's reflector + store + shared informer do:
//   - list, then watch from the list's resourceVersion;
//   - a watch that the server closes normally is resumed from the last
//     resourceVersion seen; one that ends with 410 Gone (OutOfRange) or an
//     error is followed by a new list, whose differences with the cache are
//     handed to the handlers as adds, updates and deletes;
//   - handlers run one at a time, in the order of the changes, on the
//     informer's threads (never while the cache lock is held, so a handler
//     may read the informer).
// Nothing polls: the informer thread sleeps until a watch ends (or, after a
// failed list, until its retry back-off expires).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "controlplane/client/api_client.h"

namespace berth::client {

struct InformerHandlers {
  std::function<void(const nlohmann::json& obj)> on_add;
  std::function<void(const nlohmann::json& old_obj, const nlohmann::json& new_obj)> on_update;
  std::function<void(const nlohmann::json& last)> on_delete;
};

struct InformerOptions {
  std::string ns;  // "" = every namespace
  std::string label_selector;
  std::string field_selector;
  absl::Duration min_relist_backoff = absl::Milliseconds(200);
  absl::Duration max_relist_backoff = absl::Seconds(10);
};

class Informer {
 public:
  Informer(ApiClient* client, ResourceRef ref, InformerOptions options = {});
  ~Informer();  // Stop()

  // Before Start only.
  void AddHandlers(InformerHandlers handlers);

  // Starts the list-and-watch thread. Once only.
  void Start();
  // Ends the watch and the thread; no handler runs after it returns (unless
  // called from a handler, which it then only asks to end).
  void Stop();

  // The first list has been put in the cache (and its adds handed out).
  bool HasSynced() const;
  bool WaitForSync(absl::Duration timeout) const;

  // "namespace/name" (cluster-scoped: "name").
  static std::string KeyOf(const nlohmann::json& obj);
  std::optional<nlohmann::json> Get(const std::string& ns, const std::string& name) const;
  std::vector<nlohmann::json> List() const;
  size_t size() const;
  // The resourceVersion the cache is at.
  std::string LastResourceVersion() const;

 private:
  enum class Next { kWatch, kList };
  void Run();
  absl::Status ListAndReplace();
  absl::Status StartWatch();
  void OnEvent(WatchEvent event);
  void OnWatchEnd(absl::Status reason);
  // Hands one change to every handler, outside the cache lock.
  void Dispatch(const std::function<void(const InformerHandlers&)>& call);

  ApiClient* client_;
  const ResourceRef ref_;
  const InformerOptions options_;
  std::vector<InformerHandlers> handlers_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  // Shared, never modified once stored: handlers get them without a copy.
  std::map<std::string, std::shared_ptr<const nlohmann::json>> cache_;
  std::string resource_version_;
  bool synced_ = false;
  bool stopping_ = false;
  bool watch_ended_ = false;
  Next next_ = Next::kList;
  std::unique_ptr<WatchStream> watch_;
  std::thread thread_;
};

}  // namespace berth::client
