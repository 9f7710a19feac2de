#include "agent/metrics/kubelet_metrics.h"

#include <cctype>

#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"

namespace berth::agent::metrics {
namespace {

// The kubelet's own bounds for pod start (seconds up to an hour).
std::vector<double> PodStartBuckets() {
  return {0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700,
          3600};
}

std::optional<absl::Time> ParseTime(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, *text, &t, &err)) return std::nullopt;
  return t;
}

const char* ContainerStateName(cri::ContainerState state) {
  switch (state) {
    case cri::CONTAINER_CREATED:
      return "created";
    case cri::CONTAINER_RUNNING:
      return "running";
    case cri::CONTAINER_EXITED:
      return "exited";
    default:
      return "unknown";
  }
}

// True when the container of this status started before the agent first saw
// its pod (seconds precision): a restarted agent adopting it, not a start.
bool StartedBefore(const k8s::ContainerStatus& s, absl::Time first_seen) {
  std::optional<absl::Time> started;
  if (s.state.running) started = ParseTime(s.state.running->startedAt);
  if (s.state.terminated) started = ParseTime(s.state.terminated->startedAt);
  return started && *started < absl::FromUnixSeconds(absl::ToUnixSeconds(first_seen));
}

}  // namespace

std::string KubeletOperationName(const std::string& cri_method) {
  // The kubelet writes "podsandbox" as one word.
  std::string method = absl::StrReplaceAll(cri_method, {{"PodSandbox", "Podsandbox"}});
  std::string out;
  for (size_t i = 0; i < method.size(); ++i) {
    char c = method[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0) out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

KubeletMetrics::KubeletMetrics(Registry* registry, RuntimeService* runtime)
    : runtime_(runtime),
      pod_start_duration_(registry->AddHistogram(
          "kubelet_pod_start_duration_seconds",
          "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run", {},
          PodStartBuckets())),
      pod_worker_duration_(registry->AddHistogram(
          "kubelet_pod_worker_duration_seconds",
          "Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync",
          {"operation_type"}, DefaultBuckets())),
      runtime_operations_(registry->AddCounter("kubelet_runtime_operations_total",
                                               "Cumulative number of runtime operations by operation type.",
                                               {"operation_type"})),
      runtime_operations_duration_(registry->AddHistogram(
          "kubelet_runtime_operations_duration_seconds",
          "Duration in seconds of runtime operations. Broken down by operation type.", {"operation_type"},
          ExponentialBuckets(.005, 2.5, 14))),
      runtime_operations_errors_(registry->AddCounter(
          "kubelet_runtime_operations_errors_total",
          "Cumulative number of runtime operation errors by operation type.", {"operation_type"})),
      running_pods_(registry->AddGauge("kubelet_running_pods", "Number of pods that have a running pod sandbox")),
      running_containers_(registry->AddGauge("kubelet_running_containers", "Number of containers currently running",
                                             {"container_state"})),
      started_pods_(registry->AddCounter("kubelet_started_pods_total", "Cumulative number of pods started")),
      started_pods_errors_(registry->AddCounter("kubelet_started_pods_errors_total",
                                                "Cumulative number of errors when starting pods")),
      started_containers_(registry->AddCounter("kubelet_started_containers_total",
                                               "Cumulative number of containers started", {"container_type"})),
      started_containers_errors_(registry->AddCounter("kubelet_started_containers_errors_total",
                                                      "Cumulative number of errors when starting containers",
                                                      {"container_type", "code"})) {
  // Present from the start, as the kubelet's are.
  started_pods_.Get();
  started_pods_errors_.Get();
  if (runtime_) registry->AddCollector([this] { CollectRunning(); });
}

void KubeletMetrics::RuntimeOperation(const std::string& operation, absl::Duration took, bool failed) {
  runtime_operations_.WithLabels({operation}).Inc();
  runtime_operations_duration_.WithLabels({operation}).Observe(absl::ToDoubleSeconds(took));
  if (failed) runtime_operations_errors_.WithLabels({operation}).Inc();
}

void KubeletMetrics::ContainerStartFailed(const std::string& container_type, const std::string& code) {
  started_containers_errors_.WithLabels({container_type, code}).Inc();
}

void KubeletMetrics::PodSandboxStarted(bool failed) {
  started_pods_.Get().Inc();
  if (failed) started_pods_errors_.Get().Inc();
}

void KubeletMetrics::PodSynced(const k8s::Pod& pod, absl::Time first_seen, const k8s::PodStatus* previous,
                               const k8s::PodStatus& status, absl::Duration took) {
  pod_worker_duration_.WithLabels({previous ? "sync" : "create"}).Observe(absl::ToDoubleSeconds(took));

  // Containers started since the last sync: a new container ID that has run.
  auto count_started = [&](const std::vector<k8s::ContainerStatus>& now,
                           const std::vector<k8s::ContainerStatus>* before, const char* type) {
    for (const auto& s : now) {
      if (s.containerID.empty() || !(s.state.running || s.state.terminated)) continue;
      bool known = false;
      if (before) {
        for (const auto& b : *before) known |= b.name == s.name && b.containerID == s.containerID;
      } else {
        known = StartedBefore(s, first_seen);
      }
      if (!known) started_containers_.WithLabels({type}).Inc();
    }
  };
  count_started(status.initContainerStatuses, previous ? &previous->initContainerStatuses : nullptr,
                "init_container");
  count_started(status.containerStatuses, previous ? &previous->containerStatuses : nullptr, "container");

  // Pod start: once, when every container is running.
  const std::string& uid = pod.metadata.uid;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (start_recorded_.count(uid)) return;
  }
  if (status.phase == "Succeeded" || status.phase == "Failed") {
    std::lock_guard<std::mutex> lock(mu_);
    start_recorded_.insert(uid);  // ended before it ever ran entirely: nothing to observe
    return;
  }
  if (status.phase != "Running" || status.containerStatuses.size() != pod.spec.containers.size()) return;
  bool adopted = false;
  for (const auto& s : status.containerStatuses) {
    if (!s.state.running) return;
    adopted |= !previous && StartedBefore(s, first_seen);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!start_recorded_.insert(uid).second) return;
  }
  if (!adopted) pod_start_duration_.Get().Observe(absl::ToDoubleSeconds(absl::Now() - first_seen));
}

void KubeletMetrics::PodKilled(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  start_recorded_.erase(uid);
}

void KubeletMetrics::CollectRunning() {
  cri::ListPodSandboxRequest sreq;
  cri::ListPodSandboxResponse sresp;
  if (runtime_->ListPodSandbox(sreq, &sresp).ok()) {
    int ready = 0;
    for (const auto& s : sresp.items()) ready += s.state() == cri::SANDBOX_READY;
    running_pods_.Get().Set(ready);
  }
  cri::ListContainersRequest creq;
  cri::ListContainersResponse cresp;
  if (runtime_->ListContainers(creq, &cresp).ok()) {
    std::map<std::string, int> by_state = {{"created", 0}, {"running", 0}, {"exited", 0}, {"unknown", 0}};
    for (const auto& c : cresp.containers()) ++by_state[ContainerStateName(c.state())];
    for (const auto& [state, n] : by_state) running_containers_.WithLabels({state}).Set(n);
  }
}

}  // namespace berth::agent::metrics
