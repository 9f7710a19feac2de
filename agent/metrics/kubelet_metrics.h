// KubeletMetrics: the kubelet's metrics, under the kubelet's names, labels
// and buckets, in a Registry:
//   kubelet_pod_start_duration_seconds       first seen -> every container running (once per pod)
//   kubelet_pod_worker_duration_seconds      one sync, operation_type create|sync
//   kubelet_runtime_operations_total, _duration_seconds, _errors_total   operation_type (run_podsandbox, ...)
//   kubelet_running_pods, kubelet_running_containers{container_state}   read from the runtime at scrape time
//   kubelet_started_pods_total, kubelet_started_pods_errors_total       RunPodSandbox calls
//   kubelet_started_containers_total{container_type}                    container|init_container, from statuses
//   kubelet_started_containers_errors_total{container_type,code}        a start that failed, code = waiting reason
// It is the Kubelet's PodLifecycleObserver; InstrumentedRuntime reports the runtime calls.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "agent/metrics/registry.h"
#include "agent/pod/pod_lifecycle_observer.h"
#include "agent/runtime/runtime_service.h"

namespace berth::agent::metrics {

// The kubelet's operation_type for a CRI method: RunPodSandbox -> run_podsandbox,
// ImageFsInfo -> image_fs_info, ListContainers -> list_containers.
std::string KubeletOperationName(const std::string& cri_method);

class KubeletMetrics : public PodLifecycleObserver {
 public:
  // `runtime` (may be null): read at scrape time for the running pods and
  // containers; pass the uninstrumented one so scrapes are not counted.
  KubeletMetrics(Registry* registry, RuntimeService* runtime);

  // One runtime call (InstrumentedRuntime).
  void RuntimeOperation(const std::string& operation, absl::Duration took, bool failed);
  // A RunPodSandbox: the kubelet counts each as a pod started.
  void PodSandboxStarted(bool failed);

  void PodSynced(const k8s::Pod& pod, absl::Time first_seen, const k8s::PodStatus* previous,
                 const k8s::PodStatus& status, absl::Duration took) override;
  void PodKilled(const std::string& uid) override;
  void ContainerStartFailed(const std::string& container_type, const std::string& code) override;

 private:
  void CollectRunning();

  RuntimeService* runtime_;
  MetricFamily<Histogram>& pod_start_duration_;
  MetricFamily<Histogram>& pod_worker_duration_;
  MetricFamily<Counter>& runtime_operations_;
  MetricFamily<Histogram>& runtime_operations_duration_;
  MetricFamily<Counter>& runtime_operations_errors_;
  MetricFamily<Gauge>& running_pods_;
  MetricFamily<Gauge>& running_containers_;
  MetricFamily<Counter>& started_pods_;
  MetricFamily<Counter>& started_pods_errors_;
  MetricFamily<Counter>& started_containers_;
  MetricFamily<Counter>& started_containers_errors_;

  std::mutex mu_;
  std::set<std::string> start_recorded_;  // pod UIDs whose start was observed (or that were adopted running)
};

}  // namespace berth::agent::metrics
