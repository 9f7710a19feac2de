#include "agent/cluster/pod_status_reporter.h"

#include "api/k8s/codec.h"
#include "common/logging.h"

namespace berth::agent::cluster {

nlohmann::json CreateMergePatch(const nlohmann::json& from, const nlohmann::json& to) {
  if (!from.is_object() || !to.is_object()) return to;
  nlohmann::json patch = nlohmann::json::object();
  for (auto it = from.begin(); it != from.end(); ++it) {
    if (!to.contains(it.key())) patch[it.key()] = nullptr;
  }
  for (auto it = to.begin(); it != to.end(); ++it) {
    auto old = from.find(it.key());
    if (old == from.end()) {
      patch[it.key()] = *it;
    } else if (*old != *it) {
      patch[it.key()] = old->is_object() && it->is_object() ? CreateMergePatch(*old, *it) : *it;
    }
  }
  return patch;
}

PodStatusReporter::PodStatusReporter(client::ApiClient* api) : api_(api) {}
PodStatusReporter::~PodStatusReporter() { Stop(); }

void PodStatusReporter::Start() { thread_ = std::thread([this] { Run(); }); }

void PodStatusReporter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

int PodStatusReporter::patches_sent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return patches_;
}

void PodStatusReporter::Observe(const nlohmann::json& pod, bool deleted) {
  const nlohmann::json& meta = pod["metadata"];
  std::string uid = meta.value("uid", "");
  if (uid.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (deleted) {
    pods_.erase(uid);
    dirty_.erase(uid);
    return;
  }
  Tracked& t = pods_[uid];
  t.ns = meta.value("namespace", "");
  t.name = meta.value("name", "");
  t.api_status = pod.value("status", nlohmann::json::object());
  t.deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
}

void PodStatusReporter::Report(const k8s::Pod& pod, const k8s::PodStatus& status) {
  auto source = pod.metadata.annotations.find("kubernetes.io/config.source");
  if (source == pod.metadata.annotations.end() || source->second != kApiSource) return;
  k8s::Pod with_status;
  with_status.status = status;
  nlohmann::json json = k8s::PodToJson(with_status);
  nlohmann::json status_json = json.value("status", nlohmann::json::object());
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(pod.metadata.uid);
  if (it == pods_.end()) return;  // not (or no longer) in the API
  if (it->second.sent == status_json) return;
  it->second.pending = std::move(status_json);
  dirty_.insert(pod.metadata.uid);
  cv_.notify_all();
}

void PodStatusReporter::PodKilled(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(uid);
  if (it == pods_.end()) return;
  it->second.killed = true;
  dirty_.insert(uid);
  cv_.notify_all();
}

void PodStatusReporter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || !dirty_.empty(); });
    if (stop_) return;
    std::string uid = *dirty_.begin();
    dirty_.erase(dirty_.begin());
    lock.unlock();
    Send(uid);
    lock.lock();
  }
}

void PodStatusReporter::Send(const std::string& uid) {
  std::string ns, name;
  std::optional<nlohmann::json> status;
  nlohmann::json api_status;
  bool finish_deletion = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pods_.find(uid);
    if (it == pods_.end()) return;
    Tracked& t = it->second;
    ns = t.ns;
    name = t.name;
    status = std::move(t.pending);
    t.pending.reset();
    api_status = t.api_status;
    finish_deletion = t.killed && t.deleting;
    if (t.killed && !t.deleting) {
      pods_.erase(it);  // gone from the node without an API deletion: nothing to finish
      return;
    }
  }
  if (finish_deletion) {
    client::DeleteOptions options;
    options.grace_period_seconds = 0;
    options.precondition_uid = uid;
    auto deleted = api_->Delete(client::resources::kPods, ns, name, options);
    if (!deleted.ok() && !absl::IsNotFound(deleted.status())) {
      BERTH_LOG(Warning) << "finish the pod's deletion" << Kv("pod", ns + "/" + name)
                         << Kv("error", deleted.status().ToString());
    } else {
      BERTH_LOG(Info) << "pod deleted from the API after it stopped" << Kv("pod", ns + "/" + name);
    }
    std::lock_guard<std::mutex> lock(mu_);
    pods_.erase(uid);
    return;
  }
  if (!status) return;
  nlohmann::json patch = CreateMergePatch(api_status, *status);
  if (patch.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = pods_.find(uid); it != pods_.end()) it->second.sent = *status;
    return;
  }
  nlohmann::json body = {{"metadata", {{"uid", uid}}}, {"status", patch}};
  auto result = api_->Patch(client::resources::kPods, ns, name, client::PatchType::kMerge, body, "status");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(uid);
  if (!result.ok()) {
    BERTH_LOG(Warning) << "report pod status" << Kv("pod", ns + "/" + name) << Kv("error", result.status().ToString());
    // Sent again with the next sync's report; a pod that is gone is forgotten.
    if (absl::IsNotFound(result.status()) && it != pods_.end()) pods_.erase(it);
    return;
  }
  ++patches_;
  if (it != pods_.end()) {
    it->second.sent = *status;
    it->second.api_status = result->value("status", nlohmann::json::object());
  }
}

}  // namespace berth::agent::cluster
