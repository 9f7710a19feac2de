#include "controlplane/scheduler/scheduler_loop.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/time.h"

namespace berth::scheduler {

using nlohmann::json;

namespace {

// How many pods one turn of the loop schedules before it looks at the
// informers' changes again.
constexpr int kPodsPerTurn = 64;

std::string Rfc3339Now() { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()); }

const json& Field(const json& obj, const char* name) {
  static const json kEmpty = json::object();
  auto it = obj.find(name);
  return it == obj.end() ? kEmpty : *it;
}

// The pod's PodScheduled condition as "status|message" ("" when none).
std::string ScheduledCondition(const json& pod) {
  const json& conditions = Field(Field(pod, "status"), "conditions");
  if (!conditions.is_array()) return "";
  for (const auto& c : conditions) {
    if (c.value("type", "") == "PodScheduled") return absl::StrCat(c.value("status", ""), "|", c.value("message", ""));
  }
  return "";
}

// Whether two versions of a node are the same to the filters and scores (a
// heartbeat, an annotation: nothing to retry pods for).
bool SameForScheduling(const NodeInfo& a, const NodeInfo& b) {
  return a.labels == b.labels && a.allocatable == b.allocatable && a.allowed_pods == b.allowed_pods &&
         a.taints == b.taints && a.unschedulable == b.unschedulable && a.ready == b.ready;
}

// Whether a binding is all that changed: spec equal but for nodeName, the
// same labels and phase.
bool OnlyBound(const json& old_obj, const json& obj) {
  const json& old_spec = Field(old_obj, "spec");
  const json& spec = Field(obj, "spec");
  if (!Field(old_spec, "nodeName").empty() || spec.size() != old_spec.size() + 1) return false;
  for (auto it = old_spec.begin(); it != old_spec.end(); ++it) {
    auto other = spec.find(it.key());
    if (other == spec.end() || *other != it.value()) return false;
  }
  return Field(Field(old_obj, "metadata"), "labels") == Field(Field(obj, "metadata"), "labels") &&
         Field(old_obj, "status").value("phase", "") == Field(obj, "status").value("phase", "");
}

}  // namespace

absl::StatusOr<std::unique_ptr<SchedulerLoop>> SchedulerLoop::Create(client::ApiClient* client,
                                                                    SchedulerLoopOptions options) {
  if (options.bind_workers < 1) {
    return absl::InvalidArgumentError(absl::StrCat("scheduler: bind workers: ", options.bind_workers,
                                                   ": must be at least 1"));
  }
  if (options.election.lease_name.empty()) options.election.lease_name = "kube-scheduler";
  if (options.election.identity.empty()) options.election.identity = client::LeaderElector::DefaultIdentity();
  std::unique_ptr<SchedulerLoop> loop(new SchedulerLoop(client, std::move(options)));
  if (loop->options_.leader_elect) {
    SchedulerLoop* raw = loop.get();
    client::LeaderCallbacks callbacks;
    callbacks.on_started_leading = [raw] {
      std::lock_guard<std::mutex> lock(raw->mu_);
      raw->leading_ = true;
      raw->cv_.notify_all();
    };
    callbacks.on_stopped_leading = [raw] {
      std::lock_guard<std::mutex> lock(raw->mu_);
      raw->leading_ = false;
    };
    auto elector = client::LeaderElector::Create(client, loop->options_.election, std::move(callbacks));
    if (!elector.ok()) return elector.status();
    loop->elector_ = std::move(*elector);
  }
  return loop;
}

SchedulerLoop::SchedulerLoop(client::ApiClient* client, SchedulerLoopOptions options)
    : client_(client), options_(std::move(options)), scheduler_(&cache_, options_.scheduler) {
  nodes_ = std::make_unique<client::Informer>(client_, client::resources::kNodes);
  pods_ = std::make_unique<client::Informer>(client_, client::resources::kPods);
  client::InformerHandlers node_handlers;
  node_handlers.on_add = [this](const json& obj) { OnNode(obj); };
  node_handlers.on_update = [this](const json&, const json& obj) { OnNode(obj); };
  node_handlers.on_delete = [this](const json& obj) {
    Change c;
    c.type = Change::Type::kNodeDelete;
    c.name = Field(obj, "metadata").value("name", "");
    Post(std::move(c));
  };
  nodes_->AddHandlers(std::move(node_handlers));
  client::InformerHandlers pod_handlers;
  pod_handlers.on_add = [this](const json& obj) { OnPod(nullptr, obj); };
  pod_handlers.on_update = [this](const json& old_obj, const json& obj) { OnPod(&old_obj, obj); };
  pod_handlers.on_delete = [this](const json& obj) { OnPodDelete(obj); };
  pods_->AddHandlers(std::move(pod_handlers));
}

SchedulerLoop::~SchedulerLoop() { Stop(); }

void SchedulerLoop::Start() {
  for (int i = 0; i < options_.bind_workers; ++i) workers_.emplace_back([this] { RunWorker(); });
  thread_ = std::thread([this] { Run(); });
  nodes_->Start();
  pods_->Start();
  if (elector_) {
    elector_->Start();
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    leading_ = true;
    cv_.notify_all();
  }
}

void SchedulerLoop::Stop() {
  if (elector_) elector_->Stop();
  nodes_->Stop();
  pods_->Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(work_mu_);
    work_stopping_ = true;
    work_cv_.notify_all();
  }
  for (auto& w : workers_) w.join();
  workers_.clear();
}

bool SchedulerLoop::IsLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leading_;
}

SchedulerLoopStats SchedulerLoop::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

size_t SchedulerLoop::unschedulable_pods() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unschedulable_count_;
}

size_t SchedulerLoop::queued_pods() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_count_;
}

void SchedulerLoop::Post(Change change) {
  std::lock_guard<std::mutex> lock(mu_);
  changes_.push_back(std::move(change));
  cv_.notify_all();
}

// Informer threads: parse here, so the loop thread only applies.
void SchedulerLoop::OnNode(const json& obj) {
  absl::StatusOr<NodeInfo> node = NodeInfoFromJson(obj);
  if (!node.ok()) {
    BERTH_LOG(Warning) << "scheduler: node ignored" << Kv("node", Field(obj, "metadata").value("name", ""))
                       << Kv("error", node.status().ToString());
    return;
  }
  Change c;
  c.type = Change::Type::kNode;
  c.name = node->name;
  c.node = std::make_shared<NodeInfo>(std::move(*node));
  Post(std::move(c));
}

void SchedulerLoop::OnPod(const json* old_obj, const json& obj) {
  if (old_obj != nullptr && OnlyBound(*old_obj, obj)) {
    // Most likely our own binding: the loop confirms the assumed pod without
    // decoding it again.
    Change c;
    c.type = Change::Type::kPodBound;
    c.name = client::Informer::KeyOf(obj);
    c.node_name = Field(obj, "spec").value("nodeName", "");
    c.pod_json = obj;
    Post(std::move(c));
    return;
  }
  absl::StatusOr<PodInfo> pod = PodInfoFromJson(obj);
  if (!pod.ok()) {
    BERTH_LOG(Warning) << "scheduler: pod ignored" << Kv("pod", client::Informer::KeyOf(obj))
                       << Kv("error", pod.status().ToString());
    return;
  }
  Change c;
  c.type = Change::Type::kPod;
  c.name = pod->Key();
  const json& meta = Field(obj, "metadata");
  c.uid = meta.value("uid", "");
  c.resource_version = meta.value("resourceVersion", "");
  c.deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
  if (pod->node_name.empty()) c.scheduled_condition = ScheduledCondition(obj);
  c.spec_changed = old_obj == nullptr || Field(*old_obj, "spec") != Field(obj, "spec") ||
                   Field(Field(*old_obj, "metadata"), "labels") != Field(meta, "labels");
  c.pod = std::make_shared<PodInfo>(std::move(*pod));
  Post(std::move(c));
}

void SchedulerLoop::OnPodDelete(const json& obj) {
  Change c;
  c.type = Change::Type::kPodDelete;
  c.name = client::Informer::KeyOf(obj);
  c.spec_changed = !Field(obj, "spec").value("nodeName", "").empty();  // a bound pod frees its node
  Post(std::move(c));
}

void SchedulerLoop::Run() {
  // Nothing is scheduled before the nodes and pods are known.
  for (client::Informer* informer : {nodes_.get(), pods_.get()}) {
    while (!informer->WaitForSync(absl::Seconds(1))) {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
  }
  while (true) {
    std::vector<Change> batch;
    bool leading;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto ready = [&] { return stopping_ || !changes_.empty() || (leading_ && !queue_.empty()); };
      if (backoff_.empty()) {
        cv_.wait(lock, ready);
      } else {
        absl::Duration wait = std::max(backoff_.begin()->first - absl::Now(), absl::ZeroDuration());
        cv_.wait_for(lock, absl::ToChronoNanoseconds(wait), ready);
      }
      if (stopping_) return;
      batch.swap(changes_);
      leading = leading_;
    }
    for (auto& c : batch) Apply(c);
    for (absl::Time now = absl::Now(); !backoff_.empty() && backoff_.begin()->first <= now;) {
      std::string key = std::move(backoff_.begin()->second);
      backoff_.erase(backoff_.begin());
      Enqueue(key);
    }
    if (leading) {
      for (int i = 0; i < kPodsPerTurn && !queue_.empty(); ++i) {
        auto first = queue_.begin();
        std::string key = std::get<2>(*first);
        queue_.erase(first);
        queued_.erase(key);
        ScheduleOne(key);
        std::lock_guard<std::mutex> lock(mu_);
        if (!changes_.empty() || stopping_) break;
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    unschedulable_count_ = unschedulable_.size();
    queued_count_ = queue_.size();
  }
}

void SchedulerLoop::Enqueue(const std::string& key) {
  auto it = pending_.find(key);
  if (it == pending_.end() || queued_.count(key) || binding_.count(key)) return;
  unschedulable_.erase(key);
  int32_t priority = -it->second.pod->priority;
  int64_t sequence = it->second.sequence;
  queue_.emplace(priority, sequence, key);
  queued_[key] = {priority, sequence};
}

void SchedulerLoop::MoveUnschedulable(bool only_pod_terms) {
  std::vector<std::string> keys;
  for (const auto& key : unschedulable_) {
    auto it = pending_.find(key);
    if (it == pending_.end()) continue;
    const PodInfo& pod = *it->second.pod;
    if (only_pod_terms && pod.required_affinity.empty() && pod.spread_constraints.empty()) continue;
    keys.push_back(key);
  }
  for (const auto& key : keys) Enqueue(key);
}

void SchedulerLoop::Apply(Change& c) {
  const std::string& key = c.name;
  auto drop_pending = [&] {
    pending_.erase(key);
    if (auto q = queued_.find(key); q != queued_.end()) {
      queue_.erase({std::get<0>(q->second), std::get<1>(q->second), key});
      queued_.erase(q);
    }
    unschedulable_.erase(key);
  };
  switch (c.type) {
    case Change::Type::kNode: {
      const NodeState* known = cache_.GetNode(key);
      if (known != nullptr && known->known && SameForScheduling(known->info, *c.node)) return;
      cache_.AddOrUpdateNode(*c.node);
      MoveUnschedulable(false);
      return;
    }
    case Change::Type::kNodeDelete:
      (void)cache_.RemoveNode(key);
      return;
    case Change::Type::kPodDelete: {
      bool was_counted = cache_.GetPod(key) != nullptr;
      if (was_counted) (void)cache_.RemovePod(key);
      drop_pending();
      if (was_counted || c.spec_changed) MoveUnschedulable(false);
      return;
    }
    case Change::Type::kBound: {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.scheduled;
      binding_.erase(key);
      pending_.erase(key);
      return;
    }
    case Change::Type::kBindFailed: {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.bind_failures;
      }
      binding_.erase(key);
      if (cache_.IsAssumed(key)) (void)cache_.ForgetPod(key);
      BERTH_LOG(Warning) << "scheduler: binding failed" << Kv("pod", key) << Kv("error", c.bind_error.ToString());
      auto code = c.bind_error.code();
      if (code == absl::StatusCode::kNotFound || code == absl::StatusCode::kAborted) {
        drop_pending();  // deleted, or bound by someone else: the watch says what became of it
      } else if (auto it = pending_.find(key); it != pending_.end()) {
        int failures = std::min(++it->second.bind_failures, 5);
        absl::Duration wait = std::min(absl::Seconds(1) * (1 << (failures - 1)), absl::Seconds(10));
        unschedulable_.insert(key);  // a cluster change may move it sooner
        backoff_.emplace(absl::Now() + wait, key);
      }
      return;
    }
    case Change::Type::kLeading:
      return;
    case Change::Type::kPodBound: {
      const PodInfo* assumed = cache_.IsAssumed(key) ? cache_.GetPod(key) : nullptr;
      if (assumed != nullptr && assumed->node_name == c.node_name) {
        cache_.AddOrUpdatePod(*assumed);  // confirms it
        drop_pending();
        return;
      }
      absl::StatusOr<PodInfo> pod = PodInfoFromJson(c.pod_json);
      if (!pod.ok()) {
        BERTH_LOG(Warning) << "scheduler: pod ignored" << Kv("pod", key) << Kv("error", pod.status().ToString());
        return;
      }
      c.pod = std::make_shared<PodInfo>(std::move(*pod));
      c.spec_changed = true;
      break;
    }
    case Change::Type::kPod:
      break;
  }
  PodInfo& pod = *c.pod;
  if (!pod.node_name.empty()) {
    bool known = cache_.GetPod(key) != nullptr;
    bool assumed_by_us = cache_.IsAssumed(key);
    cache_.AddOrUpdatePod(pod);
    drop_pending();
    if (!known && !assumed_by_us) {
      MoveUnschedulable(true);
    } else if (known && !assumed_by_us && (c.spec_changed || pod.terminal)) {
      MoveUnschedulable(false);
    }
    return;
  }
  if (c.deleting || !scheduler_.IsResponsibleFor(pod)) {
    drop_pending();
    return;
  }
  auto [it, inserted] = pending_.try_emplace(key);
  Pending& p = it->second;
  p.pod = c.pod;
  p.scheduled_condition = c.scheduled_condition;
  p.uid = c.uid;
  p.resource_version = c.resource_version;
  if (inserted) {
    p.sequence = ++sequence_;
    Enqueue(key);
  } else if (c.spec_changed && unschedulable_.count(key)) {
    Enqueue(key);
  }
}

void SchedulerLoop::ScheduleOne(const std::string& key) {
  auto it = pending_.find(key);
  if (it == pending_.end() || binding_.count(key)) return;
  Pending& pending = it->second;
  absl::StatusOr<std::string> node = scheduler_.SchedulePod(*pending.pod);
  if (node.ok()) {
    binding_.insert(key);
    unschedulable_.erase(key);
    const PodInfo& pod = *pending.pod;
    json binding = {{"apiVersion", "v1"},
                    {"kind", "Binding"},
                    {"metadata", {{"name", pod.name}, {"namespace", pod.namespace_}}},
                    {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", *node}}}};
    if (!pending.uid.empty()) binding["metadata"]["uid"] = pending.uid;
    Submit([this, key, ns = pod.namespace_, name = pod.name, binding = std::move(binding)] {
      absl::StatusOr<json> bound =
          client_->CreateSubresource(client::resources::kPods, ns, name, "binding", binding);
      Change c;
      c.name = key;
      c.type = bound.ok() ? Change::Type::kBound : Change::Type::kBindFailed;
      if (!bound.ok()) c.bind_error = bound.status();
      Post(std::move(c));
    });
    return;
  }
  if (IsUnschedulable(node.status())) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.unschedulable;
    }
    unschedulable_.insert(key);
    ReportUnschedulable(pending, key, std::string(node.status().message()));
    return;
  }
  if (node.status().code() == absl::StatusCode::kAlreadyExists ||
      node.status().code() == absl::StatusCode::kFailedPrecondition) {
    pending_.erase(key);
    return;
  }
  BERTH_LOG(Warning) << "scheduler: cannot schedule" << Kv("pod", key) << Kv("error", node.status().ToString());
  unschedulable_.insert(key);
}

void SchedulerLoop::ReportUnschedulable(Pending& pending, const std::string& key, const std::string& message) {
  if (pending.last_event_message == message) return;  // said already; the next change may alter it
  pending.last_event_message = message;
  BERTH_LOG(Info) << "scheduler: unschedulable" << Kv("pod", key) << Kv("reason", message);
  const PodInfo& pod = *pending.pod;
  bool write_condition = pending.scheduled_condition != absl::StrCat("False|", message);
  std::string now = Rfc3339Now();
  json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata",
       {{"name", absl::StrFormat("%s.%016x", pod.name, static_cast<uint64_t>(NowUnixNanos()))},
        {"namespace", pod.namespace_}}},
      {"involvedObject",
       {{"apiVersion", "v1"},
        {"kind", "Pod"},
        {"namespace", pod.namespace_},
        {"name", pod.name},
        {"uid", pending.uid},
        {"resourceVersion", pending.resource_version}}},
      {"reason", "FailedScheduling"},
      {"message", message},
      {"type", "Warning"},
      {"source", {{"component", options_.scheduler.scheduler_name}}},
      {"reportingComponent", options_.scheduler.scheduler_name},
      {"reportingInstance", options_.election.identity},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"count", 1}};
  json condition_patch = {
      {"status",
       {{"conditions",
         {{{"type", "PodScheduled"},
           {"status", "False"},
           {"reason", "Unschedulable"},
           {"message", message},
           {"lastProbeTime", nullptr},
           {"lastTransitionTime", now}}}}}}};
  Submit([this, ns = pod.namespace_, name = pod.name, event = std::move(event),
          condition_patch = std::move(condition_patch), write_condition] {
    absl::StatusOr<json> recorded = client_->Create(client::resources::kEvents, ns, event);
    if (!recorded.ok()) {
      BERTH_LOG(Warning) << "scheduler: event not recorded" << Kv("pod", name)
                         << Kv("error", recorded.status().ToString());
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.events_recorded;
    }
    if (!write_condition) return;
    absl::StatusOr<json> patched = client_->Patch(client::resources::kPods, ns, name,
                                                  client::PatchType::kStrategicMerge, condition_patch, "status");
    if (!patched.ok() && patched.status().code() != absl::StatusCode::kNotFound) {
      BERTH_LOG(Warning) << "scheduler: PodScheduled condition not written" << Kv("pod", name)
                         << Kv("error", patched.status().ToString());
    }
  });
}

void SchedulerLoop::Submit(std::function<void()> job) {
  std::lock_guard<std::mutex> lock(work_mu_);
  work_.push_back(std::move(job));
  work_cv_.notify_one();
}

void SchedulerLoop::RunWorker() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(work_mu_);
      work_cv_.wait(lock, [&] { return work_stopping_ || !work_.empty(); });
      if (work_stopping_) return;
      job = std::move(work_.front());
      work_.pop_front();
    }
    job();
  }
}

}  // namespace berth::scheduler
