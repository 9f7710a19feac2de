// Kubelet: the agent's pod lifecycle loop. Sources (the static pod dir) feed
// PodConfig; its updates go to PodManager and PodWorkers; each worker run is
// a SyncPod (desired pod) or KillPod (pod gone) through PodSyncer. Runtime
// events (GetContainerEvents) wake the pod they concern; a relist every
// syncFrequency resyncs every pod and cleans up pods the runtime has but no
// source wants. A restarted agent adopts what the runtime has: nothing healthy
// is restarted because SyncPod starts from the runtime's state.
// The ProbeManager follows every running container (told after each sync
// what started and what stopped); its result changes come back through
// SetReadiness / SetStarted / ReportProbeFailure and wake the pod's worker.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/config/kubelet_config.h"
#include "agent/pod/events.h"
#include "agent/pod/pod_config.h"
#include "agent/pod/pod_devices.h"
#include "agent/pod/pod_lifecycle_observer.h"
#include "agent/pod/pod_manager.h"
#include "agent/pod/pod_sync.h"
#include "agent/pod/pod_workers.h"
#include "agent/pod/static_pod_source.h"
#include "agent/prober/probe_manager.h"
#include "agent/runtime/runtime_service.h"

namespace berth::agent {

struct KubeletOptions {
  KubeletConfig config;
  // Pod cgroups under the QoS tiers (cgroupfs), below config.cgroupRoot or,
  // when that is empty, `default_cgroup_root` (the runtime's parent). Null:
  // pods use the runtime's own cgroups. Not owned.
  CgroupManager* cgroups = nullptr;
  std::string default_cgroup_root;
  std::string pods_dir;  // emptyDir volumes: <pods_dir>/<uid>/volumes/...
  std::string runtime_name = "berth";
  // The device manager: admission and each container's devices; null: none. Not owned.
  PodDevices* devices = nullptr;
  PodLifecycleObserver* observer = nullptr;  // told of each sync and kill (agent/metrics); may be null
  int workers = 8;
  // How long one second of a probe spec lasts (tests shrink it).
  absl::Duration probe_second = absl::Seconds(1);
  // Sources besides the static pod dir ("api") whose first set must arrive
  // before pods no source wants are stopped (the kubelet's sourcesReady), so
  // that a restarted agent adopts their running pods.
  std::vector<std::string> wait_for_sources;
};

class Kubelet {
 public:
  Kubelet(RuntimeService* runtime, ImageService* images, KubeletOptions options);
  ~Kubelet();

  absl::Status Start();
  void Stop();

  // The desired pods with their current status (and rejected ones), sorted by namespace/name.
  std::vector<k8s::Pod> GetPods();
  EventRecorder& events() { return events_; }
  bool Healthy() const { return started_; }

  // The prober's hook: results by pod UID and container id. A liveness or
  // startup failure restarts the container; readiness drives Ready.
  void SetReadiness(const std::string& uid, const std::string& container_id, bool ready);
  void SetStarted(const std::string& uid, const std::string& container_id, bool started);
  // `reason`: kLivenessProbeFailed or kStartupProbeFailed (pod_actions.h).
  void ReportProbeFailure(const std::string& uid, const std::string& container_name, const std::string& container_id,
                          const std::string& reason);

  // Runs a relist now (tests, and the periodic timer).
  void Relist();

  // The full set of pods of another source (agent/cluster's "api"), into the
  // same PodConfig as the static pods. Call after Start.
  void SetSourcePods(const std::string& source, std::vector<k8s::Pod> pods);

 private:
  void HandleUpdates(const std::vector<PodUpdate>& updates);
  void Work(const std::string& uid);
  void EventLoop();
  void RelistLoop();
  void OnProbeUpdate(const prober::ProbeUpdate& update);
  // Tells the prober which containers of the pod started or stopped since the last sync.
  void FollowContainers(const k8s::Pod& pod, const SyncResult& result);
  // The pod is gone: its probes stop and its results are dropped.
  void ForgetContainers(const std::string& uid);
  // Pod cgroups of pods that are neither wanted, terminating nor known to the
  // runtime (they went while the agent was down): removed, as the kubelet's
  // housekeeping does.
  void RemoveOrphanedPodCgroups(const std::vector<ObservedPod>& observed);

  RuntimeService* runtime_;
  ImageService* images_;
  KubeletOptions options_;
  std::unique_ptr<PodCgroups> pod_cgroups_;  // before syncer_, which uses it
  EventRecorder events_;
  PodManager manager_;
  PodSyncer syncer_;
  PodConfig config_;
  std::unique_ptr<StaticPodSource> source_;
  std::unique_ptr<PodWorkers> workers_;
  std::unique_ptr<prober::ProbeManager> probe_manager_;
  std::mutex probed_mu_;
  std::map<std::string, std::map<std::string, std::string>> probed_;  // uid -> running container id -> name

  std::mutex mu_;
  std::map<std::string, k8s::PodStatus> statuses_;  // uid -> last status
  std::map<std::string, absl::Time> start_times_;
  std::map<std::string, k8s::Pod> rejected_;      // uid -> pod (maxPods)
  std::map<std::string, k8s::Pod> terminating_;   // uid -> the removed pod, until killed
  std::map<std::string, ProbeState> probes_;

  std::set<std::string> sources_pending_;  // wait_for_sources not heard from yet (under mu_)
  bool SourcesReady();
  bool relist_now_ = false;  // under relist_mu_

  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  std::thread events_thread_, relist_thread_;
  std::mutex relist_mu_;
  std::condition_variable relist_cv_;
};

}  // namespace berth::agent
