#include "agent/cluster/api_pod_source.h"

#include "absl/strings/str_cat.h"
#include "agent/cluster/pod_status_reporter.h"
#include "api/k8s/codec.h"
#include "api/k8s/defaults.h"
#include "common/errors.h"
#include "common/logging.h"

namespace berth::agent::cluster {

ApiPodSource::ApiPodSource(client::ApiClient* api, std::string node_name, PodsCallback on_pods,
                           ObjectCallback on_object)
    : api_(api), node_name_(std::move(node_name)), on_pods_(std::move(on_pods)), on_object_(std::move(on_object)) {}

ApiPodSource::~ApiPodSource() { Stop(); }

void ApiPodSource::Start() { thread_ = std::thread([this] { Run(); }); }

void ApiPodSource::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<k8s::Pod> ApiPodSource::PodFromApi(const nlohmann::json& object) {
  // Items of a List carry no kind of their own.
  nlohmann::json typed = object;
  typed["apiVersion"] = "v1";
  typed["kind"] = "Pod";
  auto pod = k8s::PodFromJson(typed, {.strict = false});
  if (!pod.ok()) {
    return Annotate(pod.status(), absl::StrCat("pod ", object.value("/metadata/namespace"_json_pointer, ""), "/",
                                               object.value("/metadata/name"_json_pointer, "")));
  }
  k8s::SetDefaultsPod(&*pod);
  pod->metadata.annotations["kubernetes.io/config.source"] = kApiSource;
  // The agent's own status reports come back as new versions of the pod:
  // without what they change, they are no update for the Kubelet.
  pod->status = k8s::PodStatus();
  pod->metadata.resourceVersion.clear();
  pod->metadata.managedFields.clear();
  return pod;
}

bool ApiPodSource::WaitFor(absl::Duration d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoNanoseconds(d), [&] { return stop_; });
  return !stop_;
}

void ApiPodSource::Run() {
  absl::Duration backoff = absl::Seconds(1);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    absl::Status ended = ListAndWatch();
    if (absl::IsCancelled(ended)) return;  // stopping
    if (ended.ok() || absl::IsOutOfRange(ended)) {
      backoff = absl::Seconds(1);  // the server closed it, or the version is too old: list again now
      continue;
    }
    BERTH_LOG(Warning) << "pods from the API" << Kv("node", node_name_) << Kv("error", ended.ToString())
                       << Kv("retry_in", absl::FormatDuration(backoff));
    if (!WaitFor(backoff)) return;
    backoff = std::min(backoff * 2, absl::Seconds(30));
  }
}

absl::Status ApiPodSource::ListAndWatch() {
  client::ListOptions options;
  options.field_selector = "spec.nodeName=" + node_name_;
  auto list = api_->List(client::resources::kPods, "", options);
  if (!list.ok()) return Annotate(list.status(), "list pods");
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, nlohmann::json> listed;
    for (const auto& item : (*list)["items"]) listed[item.value("/metadata/uid"_json_pointer, "")] = item;
    for (const auto& [uid, old] : pods_) {
      if (!listed.count(uid)) on_object_(old, true);
    }
    pods_ = std::move(listed);
    watch_ended_ = false;
    watch_end_ = absl::OkStatus();
  }
  for (const auto& [uid, pod] : pods_) on_object_(pod, false);
  Publish();
  options.resource_version = (*list)["metadata"].value("resourceVersion", "");
  options.allow_watch_bookmarks = true;
  auto watch = api_->Watch(
      client::resources::kPods, "", options,
      [this](client::WatchEvent event) {
        if (event.type == client::WatchEvent::Type::kBookmark) return;
        Apply(event.object, event.type == client::WatchEvent::Type::kDeleted);
        Publish();
      },
      [this](absl::Status reason) {
        std::lock_guard<std::mutex> lock(mu_);
        watch_ended_ = true;
        watch_end_ = reason;
        cv_.notify_all();
      });
  if (!watch.ok()) return Annotate(watch.status(), "watch pods");
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return stop_ || watch_ended_; });
  absl::Status end = stop_ ? absl::CancelledError("stopping") : watch_end_;
  lock.unlock();
  (*watch)->Stop();
  return end;
}

void ApiPodSource::Apply(const nlohmann::json& object, bool deleted) {
  std::string uid = object.value("/metadata/uid"_json_pointer, "");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (deleted) {
      pods_.erase(uid);
    } else {
      pods_[uid] = object;
    }
  }
  on_object_(object, deleted);
}

void ApiPodSource::Publish() {
  std::vector<k8s::Pod> pods;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [uid, object] : pods_) {
      if (object.contains("/metadata/deletionTimestamp"_json_pointer) &&
          !object["metadata"]["deletionTimestamp"].is_null()) {
        continue;  // being deleted: the agent stops it
      }
      auto pod = PodFromApi(object);
      if (!pod.ok()) {
        BERTH_LOG(Warning) << "pod from the API not run" << Kv("error", pod.status().ToString());
        continue;
      }
      pods.push_back(std::move(*pod));
    }
  }
  on_pods_(std::move(pods));
}

}  // namespace berth::agent::cluster
