// ClusterMember: berth-agent as a member of a cluster (--kubeconfig), the
// kubelet's node-side API duties:
//   - registers its Node (node_status.h): created, or taken over when it
//     exists (labels merged, status replaced);
//   - renews its Lease every 10 s (node_lease.h);
//   - checks the node status every 10 s and sends it when it changed (the
//     conditions' heartbeat times aside) or 5 minutes after the last report;
//   - runs the pods bound to it (ApiPodSource, a second PodConfig source) and
//     reports their status (PodStatusReporter).
// It is the Kubelet's PodLifecycleObserver (forwarding to `next`, the
// metrics), which is how synced statuses and killed pods reach it.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/cluster/api_pod_source.h"
#include "agent/cluster/node_status.h"
#include "agent/cluster/pod_status_reporter.h"
#include "agent/pod/pod_lifecycle_observer.h"
#include "controlplane/client/api_client.h"

namespace berth::agent::cluster {

struct ClusterMemberOptions {
  std::string node_name;
  std::string node_ip;    // --node-ip
  std::string state_dir;
  int64_t max_pods = 110;
  std::string runtime_version;  // "berth://0.1.0"
  std::string kubelet_version = "v1.32.0-berth";
  absl::Duration lease_renew_interval = absl::Seconds(10);
  absl::Duration status_update_interval = absl::Seconds(10);
  absl::Duration status_report_interval = absl::Minutes(5);
  // The device plugins' resources: name -> {capacity, allocatable}; may be empty.
  std::function<std::map<std::string, std::pair<int64_t, int64_t>>()> extended_resources;
  // Whether the agent's pod lifecycle runs (the Ready condition).
  std::function<bool()> healthy;
  // The pods of source "api" for the Kubelet's PodConfig.
  std::function<void(std::vector<k8s::Pod>)> set_pods;
  PodLifecycleObserver* next = nullptr;  // may be null
};

class ClusterMember : public PodLifecycleObserver {
 public:
  ClusterMember(std::shared_ptr<client::ApiClient> api, ClusterMemberOptions options);
  ~ClusterMember() override;

  // Starts its thread, which registers the Node and takes the Lease
  // (retried with a back-off from 0.5 s to 10 s while the API server is
  // unreachable or refuses: the agent may run the control plane itself as a
  // static pod), then starts the pod source, the status reporter and the
  // 10 s timers.
  absl::Status Start();
  void Stop();

  // PodLifecycleObserver.
  void PodSynced(const k8s::Pod& pod, absl::Time first_seen, const k8s::PodStatus* previous,
                 const k8s::PodStatus& status, absl::Duration took) override;
  void PodKilled(const std::string& uid) override;
  void PodRejected(const k8s::Pod& pod, const k8s::PodStatus& status) override;
  void ContainerStartFailed(const std::string& container_type, const std::string& code) override;

 private:
  NodeFacts Facts() const;
  absl::Status RegisterNode();
  // Registration, the first Lease, the pod source; false when stopped first.
  bool Join();
  absl::Status UpdateNodeStatus(bool force);
  void TimerLoop();

  std::shared_ptr<client::ApiClient> api_;
  ClusterMemberOptions options_;
  std::string node_uid_;
  nlohmann::json reported_status_;
  absl::Time last_report_;
  std::unique_ptr<PodStatusReporter> reporter_;
  std::unique_ptr<ApiPodSource> source_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread timer_;
};

}  // namespace berth::agent::cluster
