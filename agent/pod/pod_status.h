// ComputePodStatus: the pod's status from its spec, what the runtime has and
// what the last sync ran into, as the kubelet's generateAPIPodStatus and
// getPhase build it: phase, conditions, container statuses, IPs, QoS class.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "agent/pod/observed_pod.h"
#include "api/k8s/pod.h"

namespace berth::agent {

// Why a container is not running, from the last sync (CrashLoopBackOff,
// ErrImagePull, ImagePullBackOff, CreateContainerConfigError, ...).
struct WaitingReason {
  std::string reason;
  std::string message;
};

struct PodStatusInputs {
  std::map<std::string, WaitingReason> waiting;  // by container name
  // Readiness of running containers by container id, from the prober; a
  // running container without a result is ready unless it has a readiness probe.
  std::map<std::string, bool> readiness;
  std::map<std::string, bool> started;  // startup probe results by container id
  std::string runtime_name = "berth";   // containerID is "<runtime_name>://<id>"
  std::string host_ip;
  absl::Time start_time;
  bool pod_failed = false;  // an init container failed for good
  absl::Time now;
};

// `previous` carries the conditions' lastTransitionTime over when their status did not change.
k8s::PodStatus ComputePodStatus(const k8s::Pod& pod, const ObservedPod& observed, const PodStatusInputs& in,
                                const k8s::PodStatus* previous);

std::string K8sTime(absl::Time t);

}  // namespace berth::agent
