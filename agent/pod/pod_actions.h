// ComputePodActions: what SyncPod must do to move a pod from what the runtime
// has (ObservedPod) to what its spec asks for, as the kubelet's
// computePodActions decides it. Pure: no runtime calls, no clock.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/pod/observed_pod.h"
#include "api/k8s/pod.h"

namespace berth::agent {

// The kill reasons of a failed liveness or startup probe.
inline constexpr char kLivenessProbeFailed[] = "liveness probe failed";
inline constexpr char kStartupProbeFailed[] = "startup probe failed";

struct ContainerToStart {
  bool init = false;  // spec.initContainers[index] (else spec.containers[index])
  size_t index = 0;
  std::string name;
  std::string reason;  // why: "not created", "exited with 1", "spec hash changed", ...
};

struct ContainerToKill {
  std::string id;
  std::string name;
  std::string reason;
};

struct PodActions {
  // Stop every container and sandbox first (the sandbox is replaced, or the
  // pod has nothing left to run).
  bool kill_pod = false;
  bool create_sandbox = false;
  uint32_t sandbox_attempt = 0;
  std::string sandbox_id;  // the ready sandbox to use when not creating one
  std::vector<ContainerToKill> containers_to_kill;
  // In order; init containers first and one at a time (sidecars included).
  std::vector<ContainerToStart> containers_to_start;
  // The pod failed for good (an init container failed with restartPolicy Never).
  bool pod_failed = false;
  std::string reason;  // for the log
};

struct PodActionInputs {
  // The hash of the sandbox config the pod would get now.
  std::string sandbox_hash;
  // Containers whose liveness (or startup) probe failed: name -> why
  // (kLivenessProbeFailed or kStartupProbeFailed). They are killed, and
  // started again unless restartPolicy is Never.
  std::map<std::string, std::string> liveness_failed;
  // Sidecars (restartable init containers) that count as started; without a
  // startup probe a running sidecar is started.
  std::set<std::string> sidecars_not_started;
};

// Whether a container that is not running should be started (again) under
// the pod's restartPolicy: never seen -> yes; Never -> no; OnFailure and exit 0 -> no.
bool ShouldRestart(const std::string& restart_policy, const ObservedContainer* latest);

bool IsSidecar(const k8s::Container& c);

PodActions ComputePodActions(const k8s::Pod& pod, const ObservedPod& observed,
                             const PodActionInputs& inputs = {});

// The hash of a container spec (FNV-1a 32 of its canonical JSON, hex), as the
// io.kubernetes.container.hash annotation carries it.
std::string ContainerHash(const k8s::Container& c);

}  // namespace berth::agent
