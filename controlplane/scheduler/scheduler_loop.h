// SchedulerLoop: the scheduler wired to the API, as kube-scheduler runs:
//   - informers on nodes and pods feed the SchedulerCache (bound pods) and the
//     scheduling queue (pods with no spec.nodeName whose schedulerName is this
//     scheduler's, "default-scheduler" when unset; other pods are left alone);
//   - one loop thread owns the cache: it applies the informers' changes, then
//     takes the next pod (higher priority first, then first come) and runs
//     Scheduler::SchedulePod, which assumes the pod on its node so the next
//     cycle already counts it;
//   - bind workers POST pods/binding; a failed binding forgets the assumed pod
//     and queues it again after a back-off (1 s doubling to 10 s; at once
//     when a cluster change moves it), unless it was deleted or bound
//     elsewhere;
//   - a pod that fits nowhere gets a core/v1 Event (Warning FailedScheduling,
//     "0/3 nodes are available: ...") and the condition PodScheduled=False
//     reason Unschedulable, and waits, without a timer, until a node is added
//     or changes in what the filters read, or a bound pod goes or changes (or, for pods with pod
//     affinity or topology spreading, a pod is bound), then is tried again;
//   - it schedules only while it holds the Lease kube-system/kube-scheduler
//     (leader_elect), so two control-plane hosts never both bind.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"
#include "controlplane/client/leader_election.h"
#include "controlplane/scheduler/scheduler.h"

namespace berth::scheduler {

struct SchedulerLoopOptions {
  SchedulerOptions scheduler;
  bool leader_elect = true;
  client::LeaderElectionOptions election;  // lease_name defaults to kube-scheduler
  int bind_workers = 8;                    // concurrent pods/binding requests
};

struct SchedulerLoopStats {
  int64_t scheduled = 0;      // bindings that succeeded
  int64_t bind_failures = 0;
  int64_t unschedulable = 0;  // cycles that found no node
  int64_t events_recorded = 0;
};

class SchedulerLoop {
 public:
  // InvalidArgument for bad options (leader election durations, workers).
  static absl::StatusOr<std::unique_ptr<SchedulerLoop>> Create(client::ApiClient* client,
                                                              SchedulerLoopOptions options);
  ~SchedulerLoop();  // Stop()

  void Start();
  void Stop();

  bool IsLeader() const;
  SchedulerLoopStats stats() const;
  // Pods waiting for a change in the cluster (unschedulable), and queued.
  size_t unschedulable_pods() const;
  size_t queued_pods() const;

 private:
  // A change from an informer or a finished binding, applied by the loop.
  struct Change {
    enum class Type { kNode, kNodeDelete, kPod, kPodBound, kPodDelete, kBound, kBindFailed, kLeading };
    Type type = Type::kNode;
    std::shared_ptr<NodeInfo> node;
    std::string name;  // node name or pod key
    std::string node_name;  // kPodBound: where the pod was bound
    nlohmann::json pod_json;  // kPodBound: the object, parsed by the loop when it was not assumed there
    std::shared_ptr<PodInfo> pod;
    bool spec_changed = false;  // pod updates: spec or labels differ from the old object
    // Pending pods: the PodScheduled condition as the pod shows it ("status|message").
    std::string scheduled_condition;
    std::string uid, resource_version;
    bool deleting = false;  // metadata.deletionTimestamp set
    absl::Status bind_error;
    bool leading = false;
  };
  struct Pending {
    std::shared_ptr<PodInfo> pod;
    std::string scheduled_condition;
    std::string uid, resource_version;
    std::string last_event_message;
    int64_t sequence = 0;
    int bind_failures = 0;  // in a row: the back-off doubles from 1 s up to 10 s
  };

  SchedulerLoop(client::ApiClient* client, SchedulerLoopOptions options);
  void Post(Change change);
  void OnPod(const nlohmann::json* old_obj, const nlohmann::json& obj);
  void OnPodDelete(const nlohmann::json& obj);
  void OnNode(const nlohmann::json& obj);

  void Run();
  void Apply(Change& change);
  void Enqueue(const std::string& key);
  // Unschedulable pods back to the queue; `only_pod_terms`: only those with
  // pod affinity or topology spreading.
  void MoveUnschedulable(bool only_pod_terms);
  void ScheduleOne(const std::string& key);
  void ReportUnschedulable(Pending& pending, const std::string& key, const std::string& message);

  // The bind workers' queue.
  void RunWorker();
  void Submit(std::function<void()> job);

  client::ApiClient* client_;
  SchedulerLoopOptions options_;
  SchedulerCache cache_;
  Scheduler scheduler_;
  std::unique_ptr<client::Informer> nodes_;
  std::unique_ptr<client::Informer> pods_;
  std::unique_ptr<client::LeaderElector> elector_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Change> changes_;
  bool stopping_ = false;
  SchedulerLoopStats stats_;
  size_t unschedulable_count_ = 0;
  size_t queued_count_ = 0;
  bool leading_ = false;

  // Loop thread only.
  std::unordered_map<std::string, Pending> pending_;
  std::set<std::tuple<int32_t, int64_t, std::string>> queue_;  // (-priority, sequence, key)
  std::unordered_map<std::string, std::tuple<int32_t, int64_t>> queued_;  // key -> its queue_ entry
  std::set<std::string> unschedulable_;
  std::set<std::string> binding_;
  std::multimap<absl::Time, std::string> backoff_;  // failed bindings, queued again at their time
  int64_t sequence_ = 0;

  std::mutex work_mu_;
  std::condition_variable work_cv_;
  std::deque<std::function<void()>> work_;
  bool work_stopping_ = false;
  std::vector<std::thread> workers_;
  std::thread thread_;
};

}  // namespace berth::scheduler
