// ControllerManager (kube-controller-manager): one leader among the
// control-plane hosts, elected with the Lease kube-system/
// kube-controller-manager, runs the controllers. The elector's callbacks
// only flip a flag; the manager's own thread then starts a term (one
// informer per resource the controllers need, shared between them; the
// controllers; their workers once the informers have listed) or ends it
// (workers, informers and caches dropped, so a later term starts from a
// fresh list).
#pragma once

#include <map>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"
#include "controlplane/client/leader_election.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/controller_runner.h"

namespace berth::controllers {

struct ControllerManagerOptions {
  // The Lease holder's identity (kube: hostname + "_" + a uuid).
  std::string identity;
  std::string lease_namespace = "kube-system";
  std::string lease_name = "kube-controller-manager";
  absl::Duration lease_duration = absl::Seconds(15);
  absl::Duration renew_deadline = absl::Seconds(10);
  absl::Duration retry_period = absl::Seconds(2);
  // Which controllers run: "replicaset", "deployment", "job",
  // "garbagecollector" (all by default).
  std::set<std::string> controllers = {"replicaset", "deployment", "job", "garbagecollector"};
  int workers_per_controller = 2;
};

// The informers of one leadership term, one per resource, shared.
class InformerSet {
 public:
  explicit InformerSet(client::ApiClient* client) : client_(client) {}
  // The informer of `ref` over all namespaces (made on first use).
  client::Informer* For(const client::ResourceRef& ref);
  void StartAll();
  // True once every informer has listed (false at the deadline).
  bool WaitForSync(absl::Duration timeout);
  void StopAll();

 private:
  client::ApiClient* client_;
  std::map<std::string, std::unique_ptr<client::Informer>> informers_;
};

class ControllerManager {
 public:
  // Checks the options (errors name the option and value) and starts
  // campaigning for the Lease.
  static absl::StatusOr<std::unique_ptr<ControllerManager>> Start(client::ApiClient* client,
                                                                  ControllerManagerOptions options);
  ~ControllerManager();
  // Leaves the Lease (so another host takes over at once) and stops.
  void Stop();
  // The controllers of this term are running.
  bool running() const;
  bool IsLeader() const { return elector_ && elector_->IsLeader(); }

 private:
  ControllerManager(client::ApiClient* client, ControllerManagerOptions options);
  void Loop();
  void StartTerm();
  void EndTerm();

  client::ApiClient* client_;
  const ControllerManagerOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool want_leading_ = false;  // set by the elector's callbacks
  bool stopping_ = false;
  bool running_ = false;
  std::thread thread_;
  // The term's parts, touched only by thread_.
  std::unique_ptr<InformerSet> informers_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::unique_ptr<ControllerRunner> runner_;
  std::unique_ptr<client::LeaderElector> elector_;
};

// The controllers ControllerManager knows, by name.
const std::set<std::string>& KnownControllers();

}  // namespace berth::controllers
