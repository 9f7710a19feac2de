#include "agent/node_agent.h"

#include "absl/strings/str_cat.h"
#include "agent/cluster/cluster_member.h"
#include "agent/metrics/agent_metrics.h"
#include "agent/devices/device_manager.h"
#include "agent/devices/node_view.h"
#include "agent/pod/kubelet.h"
#include "agent/runtime/in_process_runtime.h"
#include "agent/runtime/remote_runtime.h"
#include "agent/server/agent_endpoints.h"
#include "agent/server/http_server.h"
#include "api/k8s/codec.h"
#include "common/errors.h"
#include "controlplane/client/http_api_client.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace berth::agent {

absl::StatusOr<KubeletConfig> LoadAgentKubeletConfig(const std::string& config_file,
                                                     const std::map<std::string, std::string>& kubelet_flags) {
  KubeletConfig config;
  if (!config_file.empty()) {
    ASSIGN_OR_RETURN(config, LoadKubeletConfig(config_file));
  }
  RETURN_IF_ERROR(ApplyKubeletFlags(kubelet_flags, &config));
  return config;
}

absl::StatusOr<std::unique_ptr<NodeAgent>> NodeAgent::Start(const KubeletConfig& config, Runtime* runtime,
                                                            const std::string& state_dir, const NodeCgroups* cgroups,
                                                            const ClusterMembership& cluster) {
  std::unique_ptr<NodeAgent> agent(new NodeAgent());
  RuntimeService* runtime_service;
  ImageService* image_service;
  KubeletOptions options;
  options.config = config;
  options.pods_dir = state_dir + "/pods";
  if (!config.containerRuntimeEndpoint.empty()) {
    RemoteRuntime::Options remote_options;
    remote_options.call_timeout = config.runtimeRequestTimeout;
    agent->remote_ = RemoteRuntime::Connect(config.containerRuntimeEndpoint, remote_options);
    runtime_service = agent->remote_.get();
    image_service = agent->remote_.get();
    cri::VersionResponse version;
    absl::Status st = agent->remote_->Version(cri::VersionRequest(), &version);
    if (!st.ok()) return Annotate(st, absl::StrCat("--container-runtime-endpoint ", config.containerRuntimeEndpoint));
    options.runtime_name = version.runtime_name();
  } else {
    agent->in_process_ = std::make_unique<InProcessRuntime>(runtime);
    runtime_service = agent->in_process_.get();
    image_service = agent->in_process_.get();
    options.runtime_name = "berth";
  }
  if (cgroups) {
    ASSIGN_OR_RETURN(agent->cgroups_, NewCgroupManager(cgroups->options));
    options.cgroups = agent->cgroups_.get();
    options.default_cgroup_root = cgroups->parent;
  }
  agent->metrics_ = std::make_unique<metrics::AgentMetrics>(runtime_service, image_service);
  options.observer = agent->metrics_->observer();
  {
    // Device plugins register on <devicePluginsDir>/kubelet.sock. Without it
    // pods still run; those asking for a plugin's resource get no devices.
    devices::DeviceManagerOptions device_options;
    device_options.plugins_dir = config.devicePluginsDir;
    device_options.grace_period = config.devicePluginGracePeriod;
    auto device_manager = std::make_unique<devices::DeviceManager>(device_options);
    absl::Status st = device_manager->Start();
    if (st.ok()) {
      agent->devices_ = std::move(device_manager);
      options.devices = agent->devices_.get();
    } else {
      BERTH_LOG(Error) << "no device manager" << Kv("dir", config.devicePluginsDir) << Kv("error", st.ToString());
    }
  }
  if (!cluster.kubeconfig.empty()) {
    auto api = client::HttpApiClient::FromKubeconfig(cluster.kubeconfig);
    if (!api.ok()) return Annotate(api.status(), "--kubeconfig");
    cri::VersionResponse version;
    absl::Status st = runtime_service->Version(cri::VersionRequest(), &version);
    if (!st.ok()) return Annotate(st, "runtime version");
    cluster::ClusterMemberOptions member;
    member.node_name = config.nodeName;
    member.node_ip = cluster.node_ip;
    member.state_dir = state_dir;
    member.max_pods = config.maxPods;
    member.runtime_version = absl::StrCat(options.runtime_name, "://", version.runtime_version());
    devices::DeviceManager* device_manager = agent->devices_.get();
    member.extended_resources = [device_manager] {
      std::map<std::string, std::pair<int64_t, int64_t>> out;
      if (device_manager) {
        for (const auto& [name, view] : device_manager->Resources()) out[name] = {view.capacity, view.allocatable};
      }
      return out;
    };
    NodeAgent* self = agent.get();
    member.healthy = [self] { return self->kubelet_ && self->kubelet_->Healthy(); };
    member.set_pods = [self](std::vector<k8s::Pod> pods) { self->kubelet_->SetSourcePods("api", std::move(pods)); };
    member.next = options.observer;
    agent->member_ = std::make_unique<cluster::ClusterMember>(std::move(*api), std::move(member));
    options.observer = agent->member_.get();
    options.wait_for_sources = {"api"};  // a restarted agent adopts its API pods
  }
  agent->kubelet_ = std::make_unique<Kubelet>(agent->metrics_->runtime(), agent->metrics_->images(), options);
  RETURN_IF_ERROR(agent->kubelet_->Start());
  if (agent->member_) {
    RETURN_IF_ERROR(agent->member_->Start());
    BERTH_LOG(Info) << "cluster member" << Kv("node", config.nodeName) << Kv("kubeconfig", cluster.kubeconfig);
  }
  if (config.healthzPort > 0) {
    Kubelet* kubelet = agent->kubelet_.get();
    metrics::AgentMetrics* agent_metrics = agent->metrics_.get();
    AgentEndpointSources sources;
    sources.node_name = config.nodeName;
    sources.healthy = [kubelet] { return kubelet->Healthy(); };
    sources.pods = [kubelet] { return kubelet->GetPods(); };
    sources.events = [kubelet](const std::string& object) { return kubelet->events().List(object); };
    sources.metrics = [agent_metrics] { return agent_metrics->Render(); };
    // GET /node and the devices of each pod on /pods (agent/devices).
    auto http = HttpServer::Start(config.healthzBindAddress, config.healthzPort, devices::WithDeviceEndpoints(
                                  [sources](const std::string&, const std::string& target) {
                                    return ServeAgentEndpoint(sources, target);
                                  }, config.nodeName, config.maxPods, agent->devices_.get()));
    if (http.ok()) {
      agent->http_ = std::move(*http);
      BERTH_LOG(Info) << "serving /healthz, /pods, /events and /metrics"
                      << Kv("address", absl::StrCat(config.healthzBindAddress, ":", agent->http_->port()));
    } else {
      // The pods keep running without the endpoints; say so loudly.
      BERTH_LOG(Error) << "no HTTP endpoints" << Kv("error", http.status().ToString());
    }
  }
  return agent;
}

NodeAgent::~NodeAgent() { Stop(); }

void NodeAgent::Stop() {
  if (member_) member_->Stop();  // no more API pods; the pods keep running
  if (http_) http_->Stop();
  if (kubelet_) kubelet_->Stop();
  if (devices_) devices_->Stop();
}

}  // namespace berth::agent
