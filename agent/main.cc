// berth-agent: the CRI runtime server, the kubelet (static pods, pod workers,
// probes, endpoints) over it, and the offline subcommands (pods, describe,
// logs, images).
#include <signal.h>

#include <cstdio>

#include "absl/strings/str_join.h"
#include "agent/agent_flags.h"
#include "agent/describe_command.h"
#include "agent/node_agent.h"
#include "agent/pods_command.h"
#include "agent/images_command.h"
#include "agent/logs_command.h"
#include "common/errors.h"
#include "common/logging.h"
#include "common/stop_signals.h"
#include "controlplane/client/kubeconfig_loader.h"
#include "grpcpp/grpcpp.h"
#include "runtime-shim/cri/cri_service.h"
#include "runtime-shim/image/image_store.h"
#include "runtime-shim/image/import_watcher.h"

namespace berth {
namespace {

int Fail(const absl::Status& status) { return FailWith("berth-agent", status); }

int Serve(const AgentFlags& flags) {
  // Block the stop signals before any thread starts, then wait for them.
  sigset_t stop = BlockStopSignals();

  // A bad kubeconfig stops the agent before it touches anything.
  if (!flags.kubeconfig.empty()) {
    if (auto creds = client::LoadKubeconfig(flags.kubeconfig); !creds.ok()) {
      return Fail(Annotate(creds.status(), "--kubeconfig"));
    }
  }
  RuntimeOptions options = flags.runtime;
  auto kubelet_config = agent::LoadAgentKubeletConfig(flags.config_file, flags.kubelet_flags);
  if (!kubelet_config.ok()) return Fail(kubelet_config.status());
  // One cgroup driver for the runtime and the kubelet; with cgroupfs the pods
  // go into the kubelet's pod cgroups under the QoS tiers.
  auto node_cgroups = agent::ResolveNodeCgroups(*kubelet_config, &options.cgroups, options.cgroup_parent);
  if (!node_cgroups.ok()) return Fail(node_cgroups.status());
  auto registries = LoadAgentRegistryConfig(flags);
  if (!registries.ok()) return Fail(registries.status());
  options.registries = *registries;
  auto runtime = Runtime::Open(options);
  if (!runtime.ok()) return Fail(runtime.status());
  std::unique_ptr<image::ImportWatcher> import_watcher;  // airgap: archives dropped into --image-import-dir
  if (!flags.image_import_dir.empty()) {
    auto watcher = image::ImportWatcher::Start(
        &(*runtime)->images(), {flags.image_import_dir, flags.runtime.state_dir + "/images/import-ledger.json", {}});
    if (!watcher.ok()) return Fail(watcher.status());
    import_watcher = std::move(*watcher);
  }
  auto server = ServeCri(runtime->get(), flags.listen);
  if (!server.ok()) return Fail(server.status());
  BERTH_LOG(Info) << "serving CRI" << Kv("endpoint", flags.listen) << Kv("state_dir", flags.runtime.state_dir)
                  << Kv("shim", flags.runtime.shim_path);
  // The kubelet: static pods through the in-process runtime (or --container-runtime-endpoint).
  // The shims rotate container logs as they write them.
  (*runtime)->SetContainerLogRotation(agent::ContainerLogMaxSizeBytes(*kubelet_config),
                                      kubelet_config->containerLogMaxFiles);
  if (!*node_cgroups) {
    BERTH_LOG(Info) << "pods use the runtime's cgroups" << Kv("cgroup_driver", options.cgroups.driver);
  }
  auto node = agent::NodeAgent::Start(*kubelet_config, runtime->get(), flags.runtime.state_dir,
                                      node_cgroups->has_value() ? &**node_cgroups : nullptr,
                                      {.kubeconfig = flags.kubeconfig, .node_ip = flags.node_ip});
  if (!node.ok()) return Fail(node.status());
  int sig = WaitForStopSignal(stop);
  BERTH_LOG(Info) << "stopping; containers keep running" << Kv("signal", sig);
  (*node)->Stop();
  (*server)->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}

}  // namespace
}  // namespace berth

int main(int argc, char** argv) {
  // `logs` has kubectl's flags (-c, -f, --tail, ...), not the agent's.
  if (argc > 1 && std::string(argv[1]) == "logs") {
    return berth::agent::RunLogsCommand(std::vector<std::string>(argv + 2, argv + argc));
  }
  auto flags = berth::ParseAgentFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s\n", std::string(flags.status().message()).c_str());
    return 2;
  }
  if (flags->log_level == "debug") berth::SetLogLevel(berth::LogLevel::kDebug);
  if (flags->log_level == "warning") berth::SetLogLevel(berth::LogLevel::kWarning);
  if (flags->log_level == "error") berth::SetLogLevel(berth::LogLevel::kError);
  if (!flags->positional.empty() && flags->positional[0] == "images") return berth::RunImagesCommand(*flags);
  if (!flags->positional.empty() && flags->positional[0] == "pods") {
    auto config = berth::agent::LoadAgentKubeletConfig(flags->config_file, flags->kubelet_flags);
    if (!config.ok()) return berth::Fail(config.status());
    return berth::agent::RunPodsCommand(*config, flags->positional.size() > 1 && flags->positional[1] == "json");
  }
  if (!flags->positional.empty() && flags->positional[0] == "describe") {
    auto config = berth::agent::LoadAgentKubeletConfig(flags->config_file, flags->kubelet_flags);
    if (!config.ok()) return berth::Fail(config.status());
    return berth::agent::RunDescribeCommand(*config, {flags->positional.begin() + 1, flags->positional.end()});
  }
  if (!flags->positional.empty()) {
    std::fputs(berth::kAgentUsage, stderr);
    return 2;
  }
  return berth::Serve(*flags);
}
