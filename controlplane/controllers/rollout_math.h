// The Deployment controller's arithmetic, as kube-controller-manager does it
// (pkg/controller/deployment: rolling.go, recreate.go, util): how far a
// rolling update may surge and how many pods may be unavailable, how many
// replicas the new ReplicaSet gets next, and which old ReplicaSets shrink by
// how much. Pure functions over counts, so every rule is tested alone; the
// controller loop applies their answers through the API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::controllers {

// An IntOrString: "25%" or 3.
struct IntOrPercent {
  bool is_percent = false;
  int32_t value = 0;
};

// Parses 3, "3" or "25%"; an error names `field`.
absl::StatusOr<IntOrPercent> ParseIntOrPercent(const std::string& text, const std::string& field);

struct SurgeAndUnavailable {
  int32_t max_surge = 0;
  int32_t max_unavailable = 0;
};

// maxSurge rounds up and maxUnavailable down against `replicas`; both 0
// would deadlock, so maxUnavailable becomes 1 then (kube's
// ResolveFenceposts).
SurgeAndUnavailable ResolveFenceposts(IntOrPercent max_surge, IntOrPercent max_unavailable, int32_t replicas);

// One ReplicaSet as the rollout sees it.
struct ReplicaSetCounts {
  std::string name;
  int64_t created_unix = 0;   // creation time, for oldest-first
  int32_t replicas = 0;       // spec.replicas
  int32_t available = 0;      // status.availableReplicas
};

// The new ReplicaSet's next spec.replicas in a rolling update: up by what
// the surge allows, never past `replicas`.
int32_t NewReplicaSetReplicas(int32_t replicas, SurgeAndUnavailable limits, const ReplicaSetCounts& new_rs,
                              const std::vector<ReplicaSetCounts>& old_rss);

// Old ReplicaSets' next spec.replicas (same order as given) in a rolling
// update: first their unavailable pods go (they count against nothing), then
// available ones while at least replicas - maxUnavailable stay available,
// oldest ReplicaSet first.
std::vector<int32_t> ScaleDownOldReplicaSets(int32_t replicas, SurgeAndUnavailable limits,
                                             const ReplicaSetCounts& new_rs,
                                             const std::vector<ReplicaSetCounts>& old_rss);

// Recreate: old ReplicaSets go to 0 first; the new one gets `replicas` only
// once no old pod is left (`old_pods_running`).
struct RecreateStep {
  bool scale_old_to_zero = false;
  int32_t new_replicas = 0;
};
RecreateStep NextRecreateStep(int32_t replicas, const std::vector<ReplicaSetCounts>& old_rss, int32_t old_pods_running);

// The rollout is complete when the new ReplicaSet has all `replicas`
// updated and available and no old ReplicaSet has any.
bool RolloutComplete(int32_t replicas, const ReplicaSetCounts& new_rs, int32_t new_updated,
                     const std::vector<ReplicaSetCounts>& old_rss);

}  // namespace berth::controllers
