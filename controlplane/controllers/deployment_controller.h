// DeploymentController (kube's deployment controller): owns ReplicaSets by
// controller reference (adopting orphans that match the selector), one per
// pod template, named "<deployment>-<pod-template-hash>". The ReplicaSet
// whose template equals the Deployment's (ignoring the hash label) is the
// new one; it gets the next deployment.kubernetes.io/revision (so
// `kubectl rollout undo`, which patches an old template back, revives the
// old ReplicaSet under a new revision). RollingUpdate scales by
// rollout_math's maxSurge / maxUnavailable steps, Recreate scales old
// ReplicaSets to 0 and waits for their pods before the new one; a paused
// Deployment only scales; a change of spec.replicas mid-rollout scales the
// active ReplicaSets proportionally; old ReplicaSets past
// revisionHistoryLimit are deleted once the rollout is complete. Status:
// replicas, updated/ready/available/unavailableReplicas,
// observedGeneration, conditions Available and Progressing
// (NewReplicaSetCreated, ReplicaSetUpdated, NewReplicaSetAvailable,
// DeploymentPaused, ProgressDeadlineExceeded), so `kubectl rollout status`
// ends.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/controller.h"
#include "nlohmann/json.hpp"

namespace berth::controllers {

inline constexpr char kRevisionAnnotation[] = "deployment.kubernetes.io/revision";
inline constexpr char kDesiredReplicasAnnotation[] = "deployment.kubernetes.io/desired-replicas";
inline constexpr char kMaxReplicasAnnotation[] = "deployment.kubernetes.io/max-replicas";
inline constexpr char kPodTemplateHashLabel[] = "pod-template-hash";

// The pod template's hash as the ReplicaSet name suffix and the
// pod-template-hash label: FNV-1a 32 of the template's JSON (nulls and
// empty objects or arrays left out) and the
// collision count, written in kube's safe alphabet (no vowels).
std::string PodTemplateHash(const nlohmann::json& pod_template, int32_t collision_count);
// Two pod templates equal once the pod-template-hash label is left out
// (nulls and empty objects or arrays count as absent, as in Go).
bool EqualIgnoringHash(const nlohmann::json& a, const nlohmann::json& b);

class DeploymentController : public Controller {
 public:
  // The informers (Deployments, ReplicaSets, Pods; all namespaces) must
  // outlive it.
  DeploymentController(client::ApiClient* client, client::Informer* deployments, client::Informer* replicasets,
                       client::Informer* pods);

  std::string Name() const override { return "deployment"; }
  absl::Status Sync(const std::string& key) override;

 private:
  struct Rollout;  // one sync's view: the deployment, its new and old ReplicaSets

  // The key of the cached Deployment `obj`'s controller reference names, or "".
  std::string OwnerKey(const nlohmann::json& obj) const;
  void OnReplicaSetEvent(const nlohmann::json& rs);
  void OnPodDeleted(const nlohmann::json& pod);

  absl::StatusOr<std::vector<nlohmann::json>> ClaimReplicaSets(const nlohmann::json& d);
  // Finds the new ReplicaSet (creating it when `create`), brings its
  // revision to the next one and records it on the Deployment.
  absl::Status FindNewReplicaSet(Rollout& r, bool create);
  absl::Status CreateNewReplicaSet(Rollout& r);
  // spec.replicas of `rs` (and its desired/max annotations) to `replicas`.
  absl::Status ScaleReplicaSet(const Rollout& r, nlohmann::json& rs, int32_t replicas);
  absl::Status ScaleProportionally(Rollout& r);
  absl::Status RolloutRolling(Rollout& r);
  absl::Status RolloutRecreate(Rollout& r);
  absl::Status CleanupHistory(const Rollout& r);
  absl::Status SyncStatus(const Rollout& r);

  client::ApiClient* client_;
  client::Informer* deployments_;
  client::Informer* replicasets_;
  client::Informer* pods_;
};

}  // namespace berth::controllers
