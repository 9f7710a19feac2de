// The pod cgroups under the node's QoS tiers, as the kubelet's QoS and pod
// container managers lay them out (cgroupfs driver):
//
//   <root>/kubepods/pod<uid>              Guaranteed
//   <root>/kubepods/burstable/pod<uid>    Burstable
//   <root>/kubepods/besteffort/pod<uid>   BestEffort
//
// (<root>/pod<uid> with cgroupsPerQOS false). The kubelet makes and owns the
// pod cgroup (pids.max = podPidsLimit) and hands it to the runtime as the
// sandbox's linux.cgroup_parent; containers go below it. The tiers are made
// once at start (besteffort with the minimum cpu.shares of 2, as the kubelet).
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/k8s/pod.h"
#include "runtime-shim/cgroups/cgroup_manager.h"

namespace berth::agent {

struct PodCgroupsOptions {
  std::string root;          // parent of the tiers, a cgroupfs path ("/berth")
  bool per_qos = true;       // cgroupsPerQOS
  int64_t pids_limit = -1;   // podPidsLimit; 0 or -1: unlimited
};

// The pod's cgroup name for a QoS class ("Guaranteed", "Burstable", "BestEffort").
std::string PodCgroupName(const PodCgroupsOptions& options, const std::string& qos_class, const std::string& uid);

class PodCgroups {
 public:
  // `manager` must outlive this.
  PodCgroups(CgroupManager* manager, PodCgroupsOptions options);

  // Makes the tiers (idempotent).
  absl::Status EnsureTiers();
  std::string NameFor(const k8s::Pod& pod) const;
  // Makes the pod's cgroup with its pids limit (idempotent).
  absl::Status Create(const k8s::Pod& pod);
  // Removes the pod's cgroup in whichever tier it is (after its containers stopped).
  absl::Status Destroy(const std::string& uid);
  // The UIDs of the pod cgroups now in the tiers (`pod<uid>` directories; the
  // runtime's own `pod-<id>` ones are not the kubelet's), to find the orphans
  // of pods that went while the agent was down.
  absl::StatusOr<std::set<std::string>> ListPodUids() const;

 private:
  CgroupManager* manager_;
  PodCgroupsOptions options_;
};

}  // namespace berth::agent
