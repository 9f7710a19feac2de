// ReplicaSetController (kube's replicaset controller): keeps
// spec.replicas pods for each ReplicaSet. Pods are made from
// spec.template with generateName "<rs>-" and a controller ownerReference;
// orphans matching the selector are adopted and owned pods that stop
// matching are released (both by patch, guarded by resourceVersion). Creates
// go in slow-start batches and deletes in replica_math's DeletionOrder;
// Expectations hold further creates and deletes until the pod informer has
// seen the last ones. Status: replicas, fullyLabeledReplicas,
// readyReplicas, availableReplicas (ready for minReadySeconds; the key is
// re-queued for when the next pod becomes available), observedGeneration.
#pragma once

#include <string>
#include <vector>

#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/expectations.h"
#include "nlohmann/json.hpp"

namespace berth::controllers {

class ReplicaSetController : public Controller {
 public:
  // The informers (ReplicaSets and Pods, all namespaces) must outlive it.
  ReplicaSetController(client::ApiClient* client, client::Informer* replicasets, client::Informer* pods);

  std::string Name() const override { return "replicaset"; }
  absl::Status Sync(const std::string& key) override;

 private:
  void OnPodAdded(const nlohmann::json& pod);
  void OnPodUpdated(const nlohmann::json& old_pod, const nlohmann::json& pod);
  void OnPodDeleted(const nlohmann::json& pod);
  // The key of the cached ReplicaSet `pod`'s controller reference names, or "".
  std::string OwnerKey(const nlohmann::json& pod) const;
  // Queues every ReplicaSet of the pod's namespace whose selector matches it.
  void QueueMatchingReplicaSets(const nlohmann::json& pod);

  // Owned pods after adoption and release.
  absl::StatusOr<std::vector<nlohmann::json>> ClaimPods(const nlohmann::json& rs);
  absl::Status ManageReplicas(const nlohmann::json& rs, const std::vector<nlohmann::json>& active);
  absl::Status UpdateStatus(const nlohmann::json& rs, const std::vector<nlohmann::json>& active);

  client::ApiClient* client_;
  client::Informer* replicasets_;
  client::Informer* pods_;
  Expectations expectations_;
};

// A pod for `rs` from its template (labels, annotations, spec), with
// generateName "<rs>-" and a controller reference (exported for tests and
// the other workload controllers).
nlohmann::json PodFromTemplate(const nlohmann::json& template_spec, const nlohmann::json& owner,
                               const std::string& owner_api_version, const std::string& owner_kind);

}  // namespace berth::controllers
