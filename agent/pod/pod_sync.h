// PodSyncer: SyncPod and KillPod over a RuntimeService/ImageService. SyncPod
// observes the pod in the runtime, asks ComputePodActions what to do, and
// does it: kill, create the sandbox, pull images per imagePullPolicy, create
// and start containers (CrashLoopBackOff and ImagePullBackOff through
// Backoff), garbage-collect old instances; then computes the pod's status.
// Volumes come from the VolumeManager (set up before the first container,
// torn down once the pod is gone); postStart runs after StartContainer and
// preStop before StopContainer, within the grace period (LifecycleHookRunner
// over CRI ExecSync).
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/pod/backoff.h"
#include "agent/pod/cri_config.h"
#include "agent/pod/events.h"
#include "agent/pod/observed_pod.h"
#include "agent/pod/pod_devices.h"
#include "agent/pod/pod_cgroups.h"
#include "agent/pod/pod_status.h"
#include "agent/prober/lifecycle_hook_runner.h"
#include "agent/runtime/runtime_service.h"
#include "agent/volume/volume_manager.h"
#include "api/k8s/pod.h"

namespace berth::agent {

struct PodSyncOptions {
  CriConfigOptions cri;
  std::string pods_dir;  // <root>/<uid>/volumes/... (the VolumeManager's)
  std::string runtime_name = "berth";
  std::string host_ip;
  bool serialize_image_pulls = true;
  absl::Duration backoff_base = absl::Seconds(10);
  absl::Duration backoff_max = absl::Minutes(5);
  // Each container's devices go into its CRI config (agent/devices); null: none. Not owned.
  PodDevices* devices = nullptr;
  // The pod cgroups under the QoS tiers (the sandbox's cgroup_parent); null:
  // the runtime's own cgroup for each pod. Not owned.
  PodCgroups* pod_cgroups = nullptr;
};

struct SyncResult {
  k8s::PodStatus status;
  // When to sync again (a backoff expires); zero: only on events.
  absl::Duration resync_after = absl::ZeroDuration();
  // What the runtime has after the sync (the prober follows its containers).
  ObservedPod observed;
  std::string pod_ip;
  // Containers this sync tried to start and could not, as the kubelet counts
  // them (kubelet_started_containers_errors_total): container_type
  // ("container" or "init_container") and code (the waiting reason:
  // ErrImagePull, CreateContainerConfigError, CreateContainerError,
  // RunContainerError, PostStartHookError, ...).
  struct StartError {
    std::string container_type;
    std::string code;
  };
  std::vector<StartError> start_errors;
};

// What the prober says about a pod's containers (by container id).
struct ProbeState {
  std::map<std::string, bool> readiness;
  std::map<std::string, bool> started;
  // Containers whose liveness or startup probe failed, by name: which
  // instance (a newer one is left alone) and why (kLivenessProbeFailed or
  // kStartupProbeFailed).
  struct Failure {
    std::string container_id;
    std::string reason;
  };
  std::map<std::string, Failure> liveness_failed;
};

class PodSyncer {
 public:
  PodSyncer(RuntimeService* runtime, ImageService* images, EventRecorder* events, PodSyncOptions options);

  // One sync of a desired pod. `previous` is the last status (for transition times).
  SyncResult SyncPod(const k8s::Pod& pod, const k8s::PodStatus* previous, absl::Time start_time,
                     const ProbeState& probes);

  // Stops every container of the pod (SIGTERM, then SIGKILL after the grace
  // period, all containers at once) and its sandboxes. `pod` may be null (an
  // orphan found in the runtime: its grace period comes from the annotations).
  absl::Status KillPod(const std::string& uid, const k8s::Pod* pod, std::optional<int64_t> grace_override);

  // Removes the stopped containers and sandboxes of a pod that is gone, and its volumes.
  absl::Status RemovePod(const ObservedPod& observed);
  // Unmounts and removes the pod's volumes (after its containers stopped).
  absl::Status TearDownVolumes(const std::string& uid);
  volume::VolumeManager& volumes() { return volumes_; }

  const PodSyncOptions& options() const { return options_; }
  Backoff& crash_backoff() { return crash_backoff_; }

 private:
  // On success `image` is the image's ImageStatus (its user, for runAsNonRoot).
  absl::Status EnsureImage(const k8s::Pod& pod, const k8s::Container& c, WaitingReason* waiting, cri::Image* image);
  // Stops containers in parallel; with `pod`, each container's preStop hook
  // runs first and the grace period covers hook and stop.
  void StopContainers(const k8s::Pod* pod, const std::string& pod_ip,
                      const std::vector<std::pair<std::string, std::string>>& id_names, int64_t grace,
                      const std::string& object, const std::string& why);
  // The container's postStart hook; false (and the container killed) when it failed.
  bool RunPostStart(const k8s::Pod& pod, const k8s::Container& spec, const std::string& id, const std::string& pod_ip,
                    int64_t grace, WaitingReason* waiting);
  void GarbageCollect(const k8s::Pod& pod, const ObservedPod& observed, const std::string& keep_sandbox);

  RuntimeService* runtime_;
  ImageService* images_;
  EventRecorder* events_;
  PodSyncOptions options_;
  volume::VolumeManager volumes_;
  prober::LifecycleHookRunner hooks_;
  Backoff crash_backoff_;
  Backoff pull_backoff_;
  std::mutex pull_mu_;
  std::mutex waiting_mu_;
  std::map<std::string, std::map<std::string, WaitingReason>> waiting_;  // uid -> container -> reason
};

std::string PodObject(const k8s::Pod& pod);

}  // namespace berth::agent
