// The scores of a scheduling cycle, each normalized to 0..100 per node as
// kube-scheduler's score plugins are, then weighted with its default weights.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "controlplane/scheduler/cycle_state.h"
#include "controlplane/scheduler/scheduler_cache.h"

namespace berth::scheduler {

inline constexpr int64_t kMaxNodeScore = 100;

struct ScoredResource {
  std::string name;
  int64_t weight = 1;
  ResourceKind kind = KindOfResource(name);
};

struct ScoreConfig {
  // NodeResourcesFit's scoring strategy: spread pods (LeastAllocated, the
  // default) or pack them (MostAllocated, bin packing).
  enum class Strategy { kLeastAllocated, kMostAllocated };
  Strategy strategy = Strategy::kLeastAllocated;
  // Resources NodeResourcesFit and BalancedAllocation look at, with weights.
  std::vector<ScoredResource> resources = {{"cpu", 1}, {"memory", 1}};
  // Plugin weights (kube-scheduler's defaults).
  int64_t resources_fit_weight = 1;
  int64_t balanced_allocation_weight = 1;
  int64_t taint_toleration_weight = 3;
  int64_t node_affinity_weight = 2;
  int64_t inter_pod_affinity_weight = 2;
  int64_t topology_spread_weight = 2;
  // Weight of an existing pod's required affinity term that matches the new pod.
  int64_t hard_pod_affinity_weight = 1;
};

// NodeResourcesFit: LeastAllocated ((allocatable - requested) * 100 / allocatable)
// or MostAllocated (requested * 100 / allocatable), averaged over the configured
// resources by weight; cpu / memory requests count with the scoring defaults.
int64_t ResourcesFitScore(const PodInfo& pod, const NodeState& node, const ScoreConfig& config);
// BalancedAllocation: (1 - standard deviation of the requested fractions) * 100.
int64_t BalancedAllocationScore(const PodInfo& pod, const NodeState& node, const ScoreConfig& config);

// The plugins that score a node against the others; `out` gets one score per node.
// TaintToleration: fewer untolerated PreferNoSchedule taints score higher.
void TaintTolerationScores(const PodInfo& pod, const std::vector<const NodeState*>& nodes, std::vector<int64_t>* out);
// NodeAffinity: the weights of the matching preferred terms, scaled to the best node.
void NodeAffinityScores(const PodInfo& pod, const std::vector<const NodeState*>& nodes, std::vector<int64_t>* out);
// InterPodAffinity: preferred (anti-)affinity terms of the pod and of the
// existing pods (their required affinity counting hard_pod_affinity_weight), by topology domain.
void InterPodAffinityScores(const PodInfo& pod, const SchedulerCache& cache, const std::vector<const NodeState*>& nodes,
                            const ScoreConfig& config, std::vector<int64_t>* out);
// PodTopologySpread: the pod's ScheduleAnyway constraints; fewer matching pods in
// the node's domains score higher.
void TopologySpreadScores(const PodInfo& pod, const SchedulerCache& cache, const std::vector<const NodeState*>& nodes,
                          std::vector<int64_t>* out);

// Every plugin's score times its weight, summed per node into `totals`.
void ScoreNodes(const CycleState& state, const SchedulerCache& cache, const std::vector<const NodeState*>& nodes,
                const ScoreConfig& config, std::vector<int64_t>* totals);

}  // namespace berth::scheduler
