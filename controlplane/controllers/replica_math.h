// The ReplicaSet controller's decisions (kube's replica_set.go and
// controller_utils.go): how many pods to create or delete, in which
// slow-start batches, and which pods go first when scaling down.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace berth::controllers {

// kube's burstReplicas: at most this many creates or deletes per sync.
inline constexpr int32_t kBurstReplicas = 500;

// Positive: pods to create; negative: pods to delete (both capped by
// kBurstReplicas); `active` counts pods not terminating and not finished.
int32_t ReplicaDiff(int32_t replicas, int32_t active);

// Creation batches of 1, 2, 4, ... (kube's slowStartBatch), summing to
// `count`: a failing create (quota, admission) stops after a small batch
// instead of after `count` errors.
std::vector<int32_t> SlowStartBatches(int32_t count);

struct PodForRanking {
  std::string name;
  std::string node_name;      // "" when not scheduled
  std::string phase;          // Pending, Running, Unknown, ...
  bool ready = false;
  int64_t ready_since_unix = 0;
  int32_t restarts = 0;       // the most restarts of its containers
  int64_t created_unix = 0;
};

// The pods in the order they are deleted when scaling down: unscheduled
// before scheduled, Pending before Unknown before Running, not ready before
// ready, ready for less time first, more restarts first, newer first.
std::vector<PodForRanking> DeletionOrder(std::vector<PodForRanking> pods);

}  // namespace berth::controllers
