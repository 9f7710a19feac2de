// PodStatusReporter: the agent's pod statuses back to the API, as the
// kubelet's status manager does for pods from the API server:
//   - Report (from the pod worker, after each sync) queues the pod's status;
//     a thread of its own sends it as a JSON merge patch of pods/<name>/status
//     holding only what differs from the status the API last showed
//     (Observe) — and nothing when it equals what was last sent;
//   - a pod being deleted (deletionTimestamp) that the agent has killed
//     (PodKilled) is deleted for good: DELETE with gracePeriodSeconds 0 and
//     the uid as precondition, as the kubelet finishes a graceful deletion.
// Pods of other sources (static pods) are not reported.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "api/k8s/pod.h"
#include "controlplane/client/api_client.h"

namespace berth::agent::cluster {

// The annotation the agent puts on pods from the API (kubernetes.io/config.source=api).
inline constexpr char kApiSource[] = "api";

// RFC 7386 merge patch turning `from` into `to` (removed keys as null; arrays whole); {} when equal.
nlohmann::json CreateMergePatch(const nlohmann::json& from, const nlohmann::json& to);

class PodStatusReporter {
 public:
  explicit PodStatusReporter(client::ApiClient* api);
  ~PodStatusReporter();
  void Start();
  void Stop();

  // The pod as the API shows it now (from the pod source's list and watch);
  // `deleted`: it is gone from the API.
  void Observe(const nlohmann::json& pod, bool deleted);
  // After a sync: the pod's status (ignored unless the pod came from the API).
  void Report(const k8s::Pod& pod, const k8s::PodStatus& status);
  // After the agent killed the pod.
  void PodKilled(const std::string& uid);

  // Patches sent so far (tests).
  int patches_sent() const;

 private:
  struct Tracked {
    std::string ns, name;
    nlohmann::json api_status = nlohmann::json::object();  // the last the API showed
    nlohmann::json sent;                                    // the last status sent (null: none)
    std::optional<nlohmann::json> pending;                  // queued, not sent yet
    bool deleting = false;
    bool killed = false;  // to finish the deletion
  };
  void Run();
  void Send(const std::string& uid);

  client::ApiClient* api_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Tracked> pods_;  // uid -> state
  std::set<std::string> dirty_;          // uids with work
  bool stop_ = false;
  int patches_ = 0;
  std::thread thread_;
};

}  // namespace berth::agent::cluster
