// PodDevices: what the Kubelet asks of the device manager (agent/devices),
// set through KubeletOptions::devices (null: no device manager).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "agent/runtime/runtime_service.h"
#include "api/k8s/pod.h"

namespace berth::agent {

class PodDevices {
 public:
  virtual ~PodDevices() = default;
  // Admission of a new pod: devices for every container asking for a
  // plugin's extended resource. An error rejects the pod (phase Failed,
  // reason UnexpectedAdmissionError, the error's message).
  virtual absl::Status AllocatePod(const k8s::Pod& pod) = 0;
  // Before CreateContainer: the container's devices into its CRI config. An
  // error is the container's CreateContainerConfigError.
  virtual absl::Status AddContainerDevices(const k8s::Pod& pod, const k8s::Container& container,
                                           cri::ContainerConfig* config) = 0;
  // The pod was killed and is gone: its devices are free.
  virtual void RemovePod(const std::string& uid) = 0;
};

}  // namespace berth::agent
