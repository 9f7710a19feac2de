// Where berth-agent's pods get their cgroups: the kubelet's pod cgroups under
// the QoS tiers (agent/pod/pod_cgroups.h) with the cgroupfs driver, the
// runtime's own cgroups with systemd (its transient slices).
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "agent/config/kubelet_config.h"
#include "runtime-shim/cgroups/cgroup_manager.h"

namespace berth::agent {

// The node's cgroups as the runtime sees them: the kubelet puts the pod
// cgroups under QoS tiers below the config's cgroupRoot, or below `parent`
// (the runtime's --cgroup-parent) when that is empty.
struct NodeCgroups {
  CgroupOptions options;
  std::string parent;
};

// The kubelet and the runtime must use one cgroup driver (the kubelet takes
// the runtime's). `runtime_cgroups->driver` ("auto", "cgroupfs", "systemd",
// from --cgroup-driver) is resolved in place: auto takes the config file's
// cgroupDriver when it names one, else the host's (systemd when it is PID 1).
// An explicit flag that contradicts the file is an error naming both.
// Returns the node cgroups for the cgroupfs driver, nullopt for systemd.
absl::StatusOr<std::optional<NodeCgroups>> ResolveNodeCgroups(const KubeletConfig& config,
                                                              CgroupOptions* runtime_cgroups,
                                                              const std::string& runtime_parent);

}  // namespace berth::agent
