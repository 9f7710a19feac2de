// One scheduling cycle for one pod, as kube-scheduler runs it: filter the nodes
// (a sample of them in big clusters, starting where the last cycle stopped),
// score the feasible ones, pick the best (ties broken at random) and assume the
// pod there in the cache. Binding is the caller's job: on success it binds and
// later sees the bound pod (SchedulerCache::AddOrUpdatePod); on failure it calls
// SchedulerCache::ForgetPod.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controlplane/scheduler/cycle_state.h"
#include "controlplane/scheduler/filters.h"
#include "controlplane/scheduler/pod_info.h"
#include "controlplane/scheduler/scheduler_cache.h"
#include "controlplane/scheduler/scores.h"

namespace berth::scheduler {

struct SchedulerOptions {
  std::string scheduler_name = kDefaultSchedulerName;
  // Percentage of the nodes to find feasible before scoring; 0 is kube-scheduler's
  // adaptive default (50% minus 1% per 125 nodes, at least 5%, at least 100 nodes).
  int percentage_of_nodes_to_score = 0;
  ScoreConfig score;
  uint64_t seed = std::random_device{}();
};

// kube-scheduler's FitError text: "0/3 nodes are available: 1 Insufficient cpu,
// 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }."
// (each reason with its node count, sorted as strings).
std::string FailedSchedulingMessage(size_t all_nodes, const std::map<std::string, int>& reason_counts);

// Whether `status` is SchedulePod's "no node fits" (Unavailable, with the
// FailedScheduling text as its message), as opposed to a pod that is not ours.
bool IsUnschedulable(const absl::Status& status);

class Scheduler {
 public:
  Scheduler(SchedulerCache* cache, SchedulerOptions options);

  // Whether spec.schedulerName names this scheduler.
  bool IsResponsibleFor(const PodInfo& pod) const { return pod.scheduler_name == options_.scheduler_name; }

  // The node chosen for `pod`, which is then assumed there in the cache.
  // FailedPrecondition: another scheduler's pod. AlreadyExists: the pod is
  // already assumed or bound. Unavailable (IsUnschedulable): no node fits; the
  // message is the FailedScheduling text.
  absl::StatusOr<std::string> SchedulePod(const PodInfo& pod);

  // How many feasible nodes a cycle looks for among `all_nodes`.
  static size_t NumFeasibleNodesToFind(size_t all_nodes, int percentage);

 private:
  SchedulerCache* cache_;
  SchedulerOptions options_;
  std::mt19937_64 random_;
  size_t next_start_node_index_ = 0;
  // Reused between cycles.
  CycleState state_;
  Reasons reasons_;
  std::vector<const NodeState*> feasible_;
  std::vector<int64_t> totals_;
};

}  // namespace berth::scheduler
