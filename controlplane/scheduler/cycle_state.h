// What one scheduling cycle computes once for its pod before looking at nodes
// (kube-scheduler's PreFilter / PreScore state): the inter-pod affinity counts
// by topology domain and the topology spread counts.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "controlplane/scheduler/pod_info.h"
#include "controlplane/scheduler/scheduler_cache.h"

namespace berth::scheduler {

// Matching pods per topology domain: ("zone", "a") -> 3.
class TopologyCounts {
 public:
  void Add(const std::string& key, const std::string& value, int64_t n);
  int64_t Get(const std::string& key, const std::string& value) const;
  bool empty() const { return counts_.empty(); }
  // Whether some domain with a positive count is one of `labels`' key/value pairs.
  bool AnyPositiveIn(const Labels& labels) const;
  // Every domain's count, for node-by-node sums.
  const absl::flat_hash_map<std::pair<std::string, std::string>, int64_t>& entries() const { return counts_; }

 private:
  absl::flat_hash_map<std::pair<std::string, std::string>, int64_t> counts_;
};

struct InterPodAffinityState {
  TopologyCounts existing_anti_affinity;  // existing pods' required anti-affinity terms matching our pod
  TopologyCounts affinity;                // existing pods matching all our required affinity terms
  TopologyCounts anti_affinity;           // existing pods matching one of our required anti-affinity terms
};

struct SpreadConstraintState {
  const TopologySpreadConstraint* constraint = nullptr;
  bool self_match = false;  // our pod matches the constraint's selector
  absl::flat_hash_map<std::string, int64_t> counts;  // topology value -> matching pods
  int64_t min_count = 0;
};

struct CycleState {
  const PodInfo* pod = nullptr;
  bool check_inter_pod_affinity = false;  // our pod has required terms, or existing pods have anti-affinity
  InterPodAffinityState inter_pod;
  std::vector<SpreadConstraintState> hard_spread;  // whenUnsatisfiable: DoNotSchedule
};

// Whether `node` passes the pod's nodeSelector and required node affinity.
bool MatchesNodeSelectorAndAffinity(const PodInfo& pod, const NodeInfo& node);

// Fills `state` for `pod` from everything in `cache`.
void PrepareCycle(const PodInfo& pod, const SchedulerCache& cache, CycleState* state);

// Counts per topology value of the pods matching `constraint` (in `pod`'s
// namespace) on the nodes that pass the pod's node affinity and carry the key.
void CountSpread(const PodInfo& pod, const TopologySpreadConstraint& constraint, const SchedulerCache& cache,
                 SpreadConstraintState* out);

}  // namespace berth::scheduler
