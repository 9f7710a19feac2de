#include "agent/cluster/cluster_member.h"

#include "absl/strings/str_cat.h"
#include "agent/cluster/node_lease.h"
#include "common/errors.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace berth::agent::cluster {

ClusterMember::ClusterMember(std::shared_ptr<client::ApiClient> api, ClusterMemberOptions options)
    : api_(std::move(api)), options_(std::move(options)) {
  reporter_ = std::make_unique<PodStatusReporter>(api_.get());
}

ClusterMember::~ClusterMember() { Stop(); }

NodeFacts ClusterMember::Facts() const {
  NodeFactsSource source;
  source.node_name = options_.node_name;
  source.node_ip = options_.node_ip;
  source.state_dir = options_.state_dir;
  source.max_pods = options_.max_pods;
  if (options_.extended_resources) source.extended = options_.extended_resources();
  source.runtime_version = options_.runtime_version;
  source.kubelet_version = options_.kubelet_version;
  source.healthy = !options_.healthy || options_.healthy();
  return ReadNodeFacts(source);
}

absl::Status ClusterMember::RegisterNode() {
  absl::Time now = absl::Now();
  NodeFacts facts = Facts();
  nlohmann::json node = NodeObject(facts, now);
  auto created = api_->Create(client::resources::kNodes, "", node);
  nlohmann::json stored;
  if (created.ok()) {
    stored = *created;
    BERTH_LOG(Info) << "node registered" << Kv("node", options_.node_name);
  } else if (absl::IsAlreadyExists(created.status())) {
    // As the kubelet: an existing Node of this name is this node again; its labels are made current.
    auto patched = api_->Patch(client::resources::kNodes, "", options_.node_name, client::PatchType::kMerge,
                               {{"metadata", {{"labels", node["metadata"]["labels"]}}}});
    if (!patched.ok()) return Annotate(patched.status(), absl::StrCat("update node ", options_.node_name));
    stored = *patched;
    BERTH_LOG(Info) << "node exists; taken over" << Kv("node", options_.node_name);
  } else {
    return Annotate(created.status(), absl::StrCat("register node ", options_.node_name));
  }
  node_uid_ = stored.value("/metadata/uid"_json_pointer, "");
  reported_status_ = stored.value("status", nlohmann::json::object());
  return UpdateNodeStatus(/*force=*/true);
}

absl::Status ClusterMember::UpdateNodeStatus(bool force) {
  absl::Time now = absl::Now();
  nlohmann::json status = NodeStatus(Facts(), now, reported_status_);
  if (!force && !NodeStatusChanged(status, reported_status_) && now - last_report_ < options_.status_report_interval) {
    return absl::OkStatus();
  }
  // The whole status (conditions and addresses are lists: a merge patch replaces them).
  nlohmann::json patch = {{"status", CreateMergePatch(reported_status_, status)}};
  auto result =
      api_->Patch(client::resources::kNodes, "", options_.node_name, client::PatchType::kMerge, patch, "status");
  if (!result.ok()) return Annotate(result.status(), absl::StrCat("update the status of node ", options_.node_name));
  reported_status_ = result->value("status", status);
  last_report_ = now;
  return absl::OkStatus();
}

absl::Status ClusterMember::Start() {
  timer_ = std::thread([this] { TimerLoop(); });
  return absl::OkStatus();
}

void ClusterMember::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (timer_.joinable()) timer_.join();
  if (source_) source_->Stop();
  if (reporter_) reporter_->Stop();
}

bool ClusterMember::Join() {
  absl::Duration backoff = absl::Milliseconds(500);
  while (true) {
    absl::Status st = RegisterNode();
    if (st.ok()) st = RenewNodeLease(*api_, options_.node_name, node_uid_, absl::Now());
    if (st.ok()) break;
    // The API server may not be up yet (berthadm init runs it as this agent's static pod).
    BERTH_LOG(Warning) << "join the cluster" << Kv("node", options_.node_name) << Kv("error", st.ToString())
                       << Kv("retry_in", absl::FormatDuration(backoff));
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, absl::ToChronoNanoseconds(backoff), [&] { return stop_; })) return false;
    backoff = std::min(backoff * 2, absl::Seconds(10));
  }
  reporter_->Start();
  auto source = std::make_unique<ApiPodSource>(
      api_.get(), options_.node_name,
      [this](std::vector<k8s::Pod> pods) {
        if (options_.set_pods) options_.set_pods(std::move(pods));
      },
      [this](const nlohmann::json& pod, bool deleted) { reporter_->Observe(pod, deleted); });
  source->Start();
  std::lock_guard<std::mutex> lock(mu_);
  source_ = std::move(source);
  return !stop_;
}

void ClusterMember::TimerLoop() {
  if (!Join()) return;
  absl::Time next_lease = absl::Now() + options_.lease_renew_interval;
  absl::Time next_status = absl::Now() + options_.status_update_interval;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    absl::Time next = std::min(next_lease, next_status);
    cv_.wait_until(lock, absl::ToChronoTime(next), [&] { return stop_; });
    if (stop_) return;
    lock.unlock();
    absl::Time now = absl::Now();
    if (now >= next_lease) {
      absl::Status st = RenewNodeLease(*api_, options_.node_name, node_uid_, now);
      if (!st.ok()) {
        BERTH_LOG(Warning) << "node lease" << Kv("error", st.ToString());
      }
      // A failed renewal is tried again soon, well inside the 40 s the Lease lasts.
      next_lease = now + (st.ok() ? options_.lease_renew_interval
                                  : std::min(options_.lease_renew_interval, absl::Seconds(2)));
    }
    if (now >= next_status) {
      absl::Status st = UpdateNodeStatus(/*force=*/false);
      if (!st.ok()) {
        BERTH_LOG(Warning) << "node status" << Kv("error", st.ToString());
      }
      next_status = now + options_.status_update_interval;
    }
    lock.lock();
  }
}

void ClusterMember::PodSynced(const k8s::Pod& pod, absl::Time first_seen, const k8s::PodStatus* previous,
                              const k8s::PodStatus& status, absl::Duration took) {
  reporter_->Report(pod, status);
  if (options_.next) options_.next->PodSynced(pod, first_seen, previous, status, took);
}

void ClusterMember::PodKilled(const std::string& uid) {
  reporter_->PodKilled(uid);
  if (options_.next) options_.next->PodKilled(uid);
}

void ClusterMember::PodRejected(const k8s::Pod& pod, const k8s::PodStatus& status) {
  reporter_->Report(pod, status);  // Failed with the admission's reason, as the kubelet reports it
  if (options_.next) options_.next->PodRejected(pod, status);
}

void ClusterMember::ContainerStartFailed(const std::string& container_type, const std::string& code) {
  if (options_.next) options_.next->ContainerStartFailed(container_type, code);
}

}  // namespace berth::agent::cluster
