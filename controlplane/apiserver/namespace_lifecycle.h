// Namespaces as kube-apiserver and its namespace controller handle them:
// default, kube-system, kube-public and kube-node-lease exist from the start;
// a new namespace is Active with the "kubernetes" finalizer; creating in a
// namespace that is missing (404) or terminating (403) is refused; deleting
// one marks it Terminating, then a worker deletes everything in it and
// removes it once it is empty (retrying while graceful deletions and
// finalizers hold objects back).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "controlplane/apiserver/resource_storage.h"
#include "controlplane/apiserver/watch_cache.h"

namespace berth::apiserver {

class NamespaceLifecycle {
 public:
  // `namespaces` is the Namespace kind's storage; `contents` every namespaced kind's.
  NamespaceLifecycle(ResourceStorage* namespaces, std::vector<ResourceStorage*> contents,
                     absl::Duration retry_interval = absl::Seconds(2));
  ~NamespaceLifecycle();

  // Creates the four system namespaces when missing and resumes cleaning
  // any namespace left Terminating.
  absl::Status Start();

  // Admission reads namespaces from their watch cache (as kube-apiserver's
  // admission reads its informer's), not from the store on every create; a
  // namespace the cache does not hold yet is looked up in the store.
  void UseCache(const WatchCache* namespaces_cache) { cache_ = namespaces_cache; }

  // nullopt when an object may be created in `ns`; else 404 or 403.
  std::optional<ApiError> AdmitCreate(const std::string& ns, const ErrorTarget& target);

  // A new Namespace object: phase Active, spec.finalizers [kubernetes].
  static void PrepareCreate(nlohmann::json& obj);

  // DELETE of a namespace: marks it Terminating and queues its cleanup.
  Result<nlohmann::json> Delete(const std::string& name, const DeleteOptions& options);

  // One cleanup pass, synchronously: true once the namespace is gone.
  bool CleanupOnce(const std::string& name);

 private:
  void Run();
  void Enqueue(const std::string& name);

  // The namespace as admission sees it: from the cache, else the store.
  Result<nlohmann::json> Lookup(const std::string& ns);

  ResourceStorage* namespaces_;
  const WatchCache* cache_ = nullptr;
  std::vector<ResourceStorage*> contents_;
  const absl::Duration retry_interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::apiserver
