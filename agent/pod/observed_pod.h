// What the runtime says about one pod: its sandboxes and containers, read
// back from CRI (labels and annotations carry the pod and container identity).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/runtime/runtime_service.h"

namespace berth::agent {

struct ObservedSandbox {
  std::string id;
  bool ready = false;
  uint32_t attempt = 0;
  int64_t created_at = 0;  // unix ns
  std::vector<std::string> ips;
  bool host_network = false;
  std::string config_hash;  // kSandboxHashAnnotation
};

struct ObservedContainer {
  std::string id;
  std::string name;
  std::string sandbox_id;
  std::string hash;  // kContainerHashAnnotation
  int32_t restart_count = 0;
  cri::ContainerState state = cri::CONTAINER_UNKNOWN;
  int64_t created_at = 0, started_at = 0, finished_at = 0;  // unix ns
  int32_t exit_code = 0;
  std::string reason, message;
  std::string image, image_ref;
  bool running() const { return state == cri::CONTAINER_RUNNING; }
  bool exited() const { return state == cri::CONTAINER_EXITED; }
};

struct ObservedPod {
  std::string uid, name, namespace_;
  std::vector<ObservedSandbox> sandboxes;      // newest first
  std::vector<ObservedContainer> containers;   // newest first
  // The newest instance of container `name` (any state), or nullptr.
  const ObservedContainer* Latest(const std::string& name) const;
  // The instance before the newest one, or nullptr.
  const ObservedContainer* Previous(const std::string& name) const;
  bool Empty() const { return sandboxes.empty() && containers.empty(); }
};

// Every kubelet-managed pod the runtime has (sandboxes and containers that carry
// io.kubernetes.pod.uid), grouped by UID. With `uid` set, only that pod.
// Container exit codes and times come from ContainerStatus for each container.
absl::StatusOr<std::vector<ObservedPod>> ObservePods(RuntimeService& runtime, const std::string& uid = "");

}  // namespace berth::agent
