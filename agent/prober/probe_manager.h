// ProbeManager: the kubelet's prober manager. One worker per container and
// probe type (liveness, readiness, startup) of every pod it is told about,
// all driven by one timer heap served by a small pool of threads (no thread
// per probe): a probe runs first at container start + initialDelaySeconds,
// then every periodSeconds, each bounded by timeoutSeconds. successThreshold
// and failureThreshold consecutive results flip a result. A startup probe
// gates the container's liveness and readiness probes until it succeeds.
// Readiness starts as failure, liveness as success, startup as unknown (the
// kubelet's initial values). Every change of a result is delivered to the
// `on_update` callback (from a pool thread, outside every lock).
//
// The agent tells it what happens: AddPod / RemovePod, SetPodIP,
// ContainerStarted / ContainerStopped, PodTerminating. After a liveness or
// startup failure the worker holds until the container is started again.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "agent/prober/exec_in_container.h"
#include "agent/prober/probe_result.h"
#include "agent/prober/prober.h"
#include "api/k8s/pod.h"

namespace berth::agent::prober {

struct ProbeUpdate {
  std::string pod_uid;
  std::string container_name;
  std::string container_id;
  ProbeType type = ProbeType::kReadiness;
  ProbeResult result = ProbeResult::kUnknown;  // kSuccess, kFailure or (startup only) kUnknown
  std::string output;  // what the last probe said, for events ("Liveness probe failed: ...")
};

class ProbeManager {
 public:
  struct Options {
    ExecInContainer exec;
    std::function<void(const ProbeUpdate&)> on_update;
    int threads = 4;
    // How long one "second" of a probe spec lasts; tests shrink it.
    absl::Duration second = absl::Seconds(1);
  };

  explicit ProbeManager(Options options);
  ~ProbeManager();  // stops the pool; no callback runs after it returns
  ProbeManager(const ProbeManager&) = delete;
  ProbeManager& operator=(const ProbeManager&) = delete;

  // Makes workers for every probe of the pod's containers and sidecars
  // (restartable init containers). Nothing runs until ContainerStarted.
  // A pod already known is left as it is.
  void AddPod(const k8s::Pod& pod);
  // Stops the pod's workers and forgets their results.
  void RemovePod(const std::string& pod_uid);
  // The pod IP: the default host of httpGet and tcpSocket probes, the grpc host.
  void SetPodIP(const std::string& pod_uid, const std::string& pod_ip);
  // A (new) container with this id runs since `started_at`: results reset to
  // the initial values, probing starts after initialDelaySeconds.
  void ContainerStarted(const std::string& pod_uid, const std::string& container_name,
                        const std::string& container_id, absl::Time started_at);
  // The container exited: readiness becomes failure, probing stops until the
  // next ContainerStarted.
  void ContainerStopped(const std::string& pod_uid, const std::string& container_name,
                        const std::string& container_id);
  // The pod is shutting down: liveness and startup probes stop (a terminating
  // container is not restarted for them); readiness goes on.
  void PodTerminating(const std::string& pod_uid);

  // The current result of a container's probe; nullopt when it has none.
  std::optional<ProbeResult> Result(const std::string& container_id, ProbeType type) const;
  // Ready: readiness success, or no readiness probe and the container started.
  bool IsReady(const std::string& pod_uid, const std::string& container_name) const;
  // Started (ContainerStatus.started): the startup probe succeeded, or there is none.
  bool IsStarted(const std::string& pod_uid, const std::string& container_name) const;
  // How many workers exist (for tests and metrics).
  size_t WorkerCount() const;

 private:
  struct Worker;
  struct PodEntry;
  struct TimerEntry {
    absl::Time when;
    std::shared_ptr<Worker> worker;
    uint64_t generation;
    bool operator>(const TimerEntry& o) const { return when > o.when; }
  };

  void Loop();
  void Schedule(const std::shared_ptr<Worker>& w, absl::Time when);  // mu_ held
  void RunWorker(const std::shared_ptr<Worker>& w, std::unique_lock<std::mutex>& lock);
  // Sets a result; returns the update to deliver when it changed. mu_ held.
  std::optional<ProbeUpdate> SetResult(Worker& w, ProbeResult r, const std::string& output);
  void Deliver(const std::vector<ProbeUpdate>& updates);
  Worker* FindWorker(const std::string& pod_uid, const std::string& name, ProbeType type) const;  // mu_ held
  bool StartedLocked(const PodEntry& pod, const std::string& name, const std::string& container_id) const;

  Options options_;
  Prober prober_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, std::unique_ptr<PodEntry>> pods_;
  // container id -> probe type -> result
  std::map<std::string, std::map<ProbeType, ProbeResult>> results_;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<TimerEntry>> timers_;
  std::vector<std::thread> threads_;
};

}  // namespace berth::agent::prober
