// NodeAgent: the kubelet side of berth-agent, started by main.cc next to the
// CRI server: loads the KubeletConfiguration (--config, then the kubelet
// flags over it), picks the runtime (berth's in-process Runtime, or a remote
// CRI endpoint with --container-runtime-endpoint), runs the Kubelet loop and
// serves /healthz, /pods, /events and /metrics on the healthz address.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/config/kubelet_config.h"
#include "agent/node_cgroups.h"
#include "runtime-shim/cgroups/cgroup_manager.h"
#include "runtime-shim/cri/runtime.h"

namespace berth::agent {

class Kubelet;
namespace cluster {
class ClusterMember;
}
namespace devices {
class DeviceManager;
}
class HttpServer;
class InProcessRuntime;
class RemoteRuntime;
namespace metrics {
class AgentMetrics;
}

// The KubeletConfig from --config (may be empty) and the kubelet flags.
absl::StatusOr<KubeletConfig> LoadAgentKubeletConfig(const std::string& config_file,
                                                     const std::map<std::string, std::string>& kubelet_flags);

// Cluster membership (agent/cluster): with a kubeconfig the agent registers
// its Node, renews its Lease and runs the pods bound to it.
struct ClusterMembership {
  std::string kubeconfig;  // empty: not a cluster member
  std::string node_ip;
};

class NodeAgent {
 public:
  // `runtime` is berth's in-process runtime (used unless the config names an
  // endpoint). Without `cgroups` pods stay in the runtime's own cgroups.
  static absl::StatusOr<std::unique_ptr<NodeAgent>> Start(const KubeletConfig& config, Runtime* runtime,
                                                          const std::string& state_dir,
                                                          const NodeCgroups* cgroups = nullptr,
                                                          const ClusterMembership& cluster = {});
  ~NodeAgent();
  void Stop();

 private:
  NodeAgent() = default;
  std::unique_ptr<InProcessRuntime> in_process_;
  std::unique_ptr<RemoteRuntime> remote_;
  std::unique_ptr<CgroupManager> cgroups_;  // before kubelet_, which uses it
  std::unique_ptr<metrics::AgentMetrics> metrics_;  // the Kubelet's runtime goes through it
  std::unique_ptr<devices::DeviceManager> devices_;  // used by kubelet_
  std::unique_ptr<cluster::ClusterMember> member_;   // the Kubelet's observer: outlives kubelet_
  std::unique_ptr<Kubelet> kubelet_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace berth::agent
