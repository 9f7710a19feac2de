// PodSyncer: SyncPod and KillPod over a RuntimeService/ImageService. SyncPod
// observes the pod in the runtime, asks ComputePodActions what to do, and
// does it: kill, create the sandbox, pull images per imagePullPolicy, create
// and start containers (CrashLoopBackOff and ImagePullBackOff through
// Backoff), garbage-collect old instances; then computes the pod's status.
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
#include "agent/pod/pod_status.h"
#include "agent/runtime/runtime_service.h"
#include "api/k8s/pod.h"

namespace berth::agent {

struct PodSyncOptions {
  CriConfigOptions cri;
  std::string pods_dir;  // <root>/<uid>/volumes/... for emptyDir
  std::string runtime_name = "berth";
  std::string host_ip;
  bool serialize_image_pulls = true;
  absl::Duration backoff_base = absl::Seconds(10);
  absl::Duration backoff_max = absl::Minutes(5);
};

struct SyncResult {
  k8s::PodStatus status;
  // When to sync again (a backoff expires); zero: only on events.
  absl::Duration resync_after = absl::ZeroDuration();
};

// What the prober says about a pod's containers (by container id).
struct ProbeState {
  std::map<std::string, bool> readiness;
  std::map<std::string, bool> started;
  std::set<std::string> liveness_failed;  // container names to restart
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

  // Removes the stopped containers and sandboxes of a pod that is gone.
  absl::Status RemovePod(const ObservedPod& observed);

  const PodSyncOptions& options() const { return options_; }
  Backoff& crash_backoff() { return crash_backoff_; }

 private:
  absl::Status EnsureImage(const k8s::Pod& pod, const k8s::Container& c, WaitingReason* waiting);
  absl::StatusOr<std::map<std::string, std::string>> PrepareVolumes(const k8s::Pod& pod);
  void StopContainers(const std::vector<std::pair<std::string, std::string>>& id_names, int64_t grace,
                      const std::string& object, const std::string& why);
  void GarbageCollect(const k8s::Pod& pod, const ObservedPod& observed, const std::string& keep_sandbox);

  RuntimeService* runtime_;
  ImageService* images_;
  EventRecorder* events_;
  PodSyncOptions options_;
  Backoff crash_backoff_;
  Backoff pull_backoff_;
  std::mutex pull_mu_;
  std::mutex waiting_mu_;
  std::map<std::string, std::map<std::string, WaitingReason>> waiting_;  // uid -> container -> reason
};

std::string PodObject(const k8s::Pod& pod);

}  // namespace berth::agent
