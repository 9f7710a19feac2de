// LeaderElector: leader election on a coordination.k8s.io/v1 Lease, as
// client-go's leaderelection package does it for kube-controller-manager and
// kube-scheduler:
//   - a candidate tries every retryPeriod to take the Lease: it may when the
//     Lease is missing, has no holder, or its holder has not renewed it for
//     leaseDurationSeconds (measured from when this candidate last saw the
//     record change, on its own clock, so clocks need not agree);
//   - the leader renews every retryPeriod and stops leading when it could not
//     renew for renewDeadline;
//   - writes are conditional on the Lease's resourceVersion, so two
//     candidates never both win;
//   - Stop releases the Lease (no holder, leaseDurationSeconds 1) so another
//     candidate takes over at its next try.
// Callbacks run on the elector's thread and should return promptly.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/client/api_client.h"

namespace berth::client {

struct LeaderElectionOptions {
  std::string lease_namespace = "kube-system";
  std::string lease_name;  // "kube-scheduler", "kube-controller-manager"
  std::string identity;    // this candidate: "<host>_<random>"
  absl::Duration lease_duration = absl::Seconds(15);
  absl::Duration renew_deadline = absl::Seconds(10);
  absl::Duration retry_period = absl::Seconds(2);
  bool release_on_stop = true;
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  // The holder changed (this candidate or another; "" when released).
  std::function<void(const std::string& identity)> on_new_leader;
};

class LeaderElector {
 public:
  // InvalidArgument naming the option when the durations are not ordered
  // leaseDuration > renewDeadline > retryPeriod * 1.2, or a name is missing.
  static absl::StatusOr<std::unique_ptr<LeaderElector>> Create(ApiClient* client, LeaderElectionOptions options,
                                                               LeaderCallbacks callbacks);
  ~LeaderElector();  // Stop()

  void Start();
  // Ends the elector: when leading, releases the Lease (release_on_stop) and
  // calls on_stopped_leading.
  void Stop();

  bool IsLeader() const;
  // The holder this candidate last saw.
  std::string CurrentLeader() const;

  // A unique identity for this process: "<hostname>_<16 random hex>".
  static std::string DefaultIdentity();

 private:
  LeaderElector(ApiClient* client, LeaderElectionOptions options, LeaderCallbacks callbacks);
  void Run();
  // One try to take or renew the Lease; true when this candidate holds it.
  bool TryAcquireOrRenew();
  void Release();
  void ObserveHolder(const std::string& holder);

  ApiClient* client_;
  const LeaderElectionOptions options_;
  const LeaderCallbacks callbacks_;

  // The record as last seen (its resourceVersion) and when it changed.
  std::string observed_version_;
  absl::Time observed_time_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool leading_ = false;
  std::string leader_;
  std::thread thread_;
};

}  // namespace berth::client
