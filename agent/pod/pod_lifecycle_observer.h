// PodLifecycleObserver: what the Kubelet tells an observer (the agent's
// metrics, agent/metrics/kubelet_metrics.h) about its pods. Set through
// KubeletOptions::observer; called on the pod's worker, so keep it cheap.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "api/k8s/pod.h"

namespace berth::agent {

class PodLifecycleObserver {
 public:
  virtual ~PodLifecycleObserver() = default;
  // After each SyncPod of a desired pod. `first_seen`: when the agent first
  // saw the pod; `previous`: its status before this sync (null on the first
  // sync); `took`: how long the sync ran.
  virtual void PodSynced(const k8s::Pod& pod, absl::Time first_seen, const k8s::PodStatus* previous,
                         const k8s::PodStatus& status, absl::Duration took) = 0;
  // After a pod no source wants any more was killed.
  virtual void PodKilled(const std::string& uid) = 0;
  // A pod refused at admission (maxPods, devices): `status` is its Failed
  // status (reason OutOfpods / UnexpectedAdmissionError).
  virtual void PodRejected(const k8s::Pod& /*pod*/, const k8s::PodStatus& /*status*/) {}
  // A container of the pod could not be started (container_type "container"
  // or "init_container"; code: the waiting reason, e.g. RunContainerError).
  virtual void ContainerStartFailed(const std::string& container_type, const std::string& code) = 0;
};

}  // namespace berth::agent
