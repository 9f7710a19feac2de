// `berth-agent describe POD [-n NAMESPACE]` (or NAMESPACE/POD): what
// `kubectl describe pod` prints, from a running agent's /pods and
// /events?pod=NAMESPACE/NAME&format=json. POD is the pod's name (a static
// pod's is "<name>-<node>"; the manifest's <name> alone is tried too).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/config/kubelet_config.h"
#include "api/k8s/pod.h"

namespace berth::agent {

struct DescribeTarget {
  std::string namespace_ = "default";
  bool namespace_given = false;
  std::string name;
};

// From the words after "describe": POD, NAMESPACE/POD, -n NAMESPACE, -nNAMESPACE.
absl::StatusOr<DescribeTarget> ParseDescribeArgs(const std::vector<std::string>& args);

// The pod `target` names among `pods`: by name in its namespace, else by
// "<name>-<its node>" (a static pod named as in its manifest). NotFound says
// which namespaces have a pod of that name.
absl::StatusOr<k8s::Pod> FindPod(const std::vector<k8s::Pod>& pods, const DescribeTarget& target);

// Prints the description to stdout; returns the process exit code.
int RunDescribeCommand(const KubeletConfig& config, const std::vector<std::string>& args);

}  // namespace berth::agent
