// What the scheduler needs of a core/v1 Pod, parsed once from the object as the
// API server stores it: requests as kube-scheduler computes them, placement
// constraints (nodeName, nodeSelector, node and inter-pod affinity,
// tolerations, topology spread constraints), host ports, schedulerName, priority.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "api/k8s/pod.h"
#include "controlplane/scheduler/label_selector.h"
#include "controlplane/scheduler/resources.h"

namespace berth::scheduler {

inline constexpr char kDefaultSchedulerName[] = "default-scheduler";

struct PodInfo;

struct HostPort {
  std::string ip;  // "0.0.0.0" when the container port names no hostIP
  std::string protocol;
  int32_t port = 0;
  bool operator==(const HostPort&) const = default;
  // Two host ports clash when protocol and port agree and either IP is the
  // wildcard or both are the same.
  bool ConflictsWith(const HostPort& other) const;
};

// A PodAffinityTerm (weight is set for the preferred terms only).
struct AffinityTerm {
  LabelSelector selector;
  std::vector<std::string> namespaces;  // resolved: the pod's own when none given
  bool all_namespaces = false;          // namespaceSelector: {}
  std::string topology_key;
  int32_t weight = 1;

  bool Matches(const PodInfo& pod) const;
};

struct TopologySpreadConstraint {
  int32_t max_skew = 1;
  std::string topology_key;
  bool do_not_schedule = true;  // whenUnsatisfiable: DoNotSchedule / ScheduleAnyway
  LabelSelector selector;
};

struct WeightedNodeSelector {
  int32_t weight = 0;
  NodeSelector selector;
};

struct PodInfo {
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string node_name;       // spec.nodeName
  std::string scheduler_name;  // defaulted to default-scheduler
  int32_t priority = 0;
  bool terminal = false;  // phase Succeeded or Failed: holds no resources
  Labels labels;

  Resources requests;          // what NodeResourcesFit checks
  Resources nonzero_requests;  // cpu / memory with the scoring defaults filled in
  std::vector<HostPort> host_ports;

  Labels node_selector;
  std::optional<NodeSelector> required_node_affinity;
  std::vector<WeightedNodeSelector> preferred_node_affinity;
  std::vector<AffinityTerm> required_affinity;
  std::vector<AffinityTerm> required_anti_affinity;
  std::vector<AffinityTerm> preferred_affinity;
  std::vector<AffinityTerm> preferred_anti_affinity;
  std::vector<k8s::Toleration> tolerations;
  std::vector<TopologySpreadConstraint> spread_constraints;

  // "namespace/name": the cache's key.
  std::string Key() const { return namespace_ + "/" + name; }
  bool HasPodAffinity() const {
    return !required_affinity.empty() || !required_anti_affinity.empty() || !preferred_affinity.empty() ||
           !preferred_anti_affinity.empty();
  }
};

// Errors are InvalidArgument naming the field ("spec.affinity.podAffinity.
// requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value").
absl::StatusOr<PodInfo> PodInfoFromJson(const nlohmann::json& pod);
absl::StatusOr<PodInfo> PodInfoFromPod(const k8s::Pod& pod);

// Requests as kube's resourcehelper.PodRequests: the sum over containers, the
// larger of that and each init container (sidecars, restartPolicy Always, add
// to everything after them), plus spec.overhead. With `nonzero`, a container
// without a cpu / memory request counts as 100m / 200Mi.
absl::StatusOr<Resources> ComputePodRequests(const k8s::PodSpec& spec, bool nonzero);

}  // namespace berth::scheduler
