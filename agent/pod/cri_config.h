// The CRI configs the kubelet makes from a Pod: PodSandboxConfig (metadata,
// hostname, log dir, DNS, port mappings, labels, namespaces, security
// context, sysctls) and ContainerConfig (image, command/args with $(VAR)
// expansion, env with fieldRef/resourceFieldRef, working dir, mounts,
// resources, security context, log path, the kubelet's labels/annotations).
// Pure functions of their inputs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/runtime/runtime_service.h"
#include "api/k8s/pod.h"

namespace berth::agent {

struct CriConfigOptions {
  std::string pod_logs_dir = "/var/log/pods";
  std::vector<std::string> cluster_dns;
  std::string cluster_domain;
  std::string host_resolv_conf;  // contents of the host's resolv.conf (dnsPolicy Default)
  std::string cgroup_parent;     // the pod cgroup (empty: the runtime's own)
  int64_t node_memory_bytes = 0;  // for the Burstable oom_score_adj
  int64_t node_milli_cpu = 0;     // resourceFieldRef limits.cpu without a limit
  std::string seccomp_root = "/var/lib/kubelet/seccomp";
};

// Per container start: what the pod's environment knows right now.
struct ContainerRuntimeInputs {
  int32_t restart_count = 0;
  std::string pod_ip;
  std::vector<std::string> pod_ips;
  std::string host_ip;
  // Volume name -> host path of the prepared volume.
  std::map<std::string, std::string> volume_paths;
  // The container's CRI mounts as the volume manager made them (subPath,
  // readOnly, propagation); when set, volume_paths is not used.
  std::optional<std::vector<cri::Mount>> mounts;
};

// "<ns>_<name>_<uid>" under pod_logs_dir.
std::string PodLogDir(const k8s::Pod& pod, const std::string& pod_logs_dir);

// Guaranteed, Burstable or BestEffort (the pod's QoS class).
std::string QosClass(const k8s::Pod& pod);

cri::PodSandboxConfig MakeSandboxConfig(const k8s::Pod& pod, uint32_t attempt, const CriConfigOptions& options);
// A hash of the sandbox config without its attempt: a change means a new sandbox.
std::string SandboxConfigHash(const cri::PodSandboxConfig& config);

// Errors are the kubelet's CreateContainerConfigError cases (an env var from a
// ConfigMap or Secret, a volume mount without a volume, ...), naming the field.
absl::StatusOr<cri::ContainerConfig> MakeContainerConfig(const k8s::Pod& pod, const k8s::Container& container,
                                                         const ContainerRuntimeInputs& inputs,
                                                         const CriConfigOptions& options);

// The container's env as a list of (name, value) after expansion (exported for tests).
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> MakeEnv(
    const k8s::Pod& pod, const k8s::Container& container, const ContainerRuntimeInputs& inputs,
    const CriConfigOptions& options);

}  // namespace berth::agent
