// GarbageCollectorController (kube's garbagecollector, background
// propagation): watches the workload kinds berth's controllers own
// (Deployments, ReplicaSets, Jobs, Pods); when an object's owners are gone —
// missing from the owner's informer and confirmed by a live GET, or there
// under another uid — garbage_collector's DecideDependent says whether it is
// deleted (every owner gone) or keeps living with the dangling references
// removed. An owner's deletion queues the objects that name it. Orphan and
// foreground deletion need the API server to set the orphan /
// foregroundDeletion finalizers, which it does not yet: owners' deletes are
// background ones.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "nlohmann/json.hpp"

namespace berth::controllers {

class GarbageCollectorController : public Controller {
 public:
  // One watched kind: its API resource and its informer (all namespaces).
  struct Kind {
    std::string api_version;  // "apps/v1"
    std::string kind;         // "ReplicaSet"
    client::ResourceRef ref;
    client::Informer* informer = nullptr;
  };
  // The informers must outlive it.
  GarbageCollectorController(client::ApiClient* client, std::vector<Kind> kinds);

  std::string Name() const override { return "garbagecollector"; }
  // `key` is "<resource>|<namespace>/<name>".
  absl::Status Sync(const std::string& key) override;

 private:
  void OnObject(size_t kind, const nlohmann::json& obj);
  void OnOwnerDeleted(const nlohmann::json& owner);
  // Whether the owner `ref` (in `ns`) exists with its uid, from the
  // informer, else from the API.
  absl::StatusOr<bool> OwnerExists(const std::string& ns, const nlohmann::json& ref);

  client::ApiClient* client_;
  std::vector<Kind> kinds_;
};

}  // namespace berth::controllers
