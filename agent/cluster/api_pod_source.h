// ApiPodSource: the pods bound to this node in the API (list, then watch
// with fieldSelector spec.nodeName=<node> from the list's resourceVersion;
// listed again after 410 Gone or when the server ends the watch; retried
// with a doubling back-off from 1 s to 30 s when the API is unreachable),
// sent as the full set on every change to `on_pods` (the Kubelet's
// PodConfig source "api"), as the kubelet's apiserver source does. A pod
// with a deletionTimestamp leaves the set, so the agent stops it within its
// grace period. Each pod as the API shows it also goes to `on_object` (the
// status reporter's baseline).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "api/k8s/pod.h"
#include "controlplane/client/api_client.h"

namespace berth::agent::cluster {

class ApiPodSource {
 public:
  using PodsCallback = std::function<void(std::vector<k8s::Pod> pods)>;
  using ObjectCallback = std::function<void(const nlohmann::json& pod, bool deleted)>;

  ApiPodSource(client::ApiClient* api, std::string node_name, PodsCallback on_pods, ObjectCallback on_object);
  ~ApiPodSource();
  void Start();
  void Stop();

  // The pod the Kubelet gets for an API pod: decoded leniently, with
  // kubernetes.io/config.source=api, without status, resourceVersion and
  // managedFields (so a status write is no update); an error names the pod
  // and the field.
  static absl::StatusOr<k8s::Pod> PodFromApi(const nlohmann::json& object);

 private:
  void Run();
  // One list and watch until the watch ends; the error that ended it.
  absl::Status ListAndWatch();
  void Apply(const nlohmann::json& object, bool deleted);
  void Publish();
  bool WaitFor(absl::Duration d);  // false when stopping

  client::ApiClient* api_;
  std::string node_name_;
  PodsCallback on_pods_;
  ObjectCallback on_object_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool watch_ended_ = false;
  absl::Status watch_end_;
  std::map<std::string, nlohmann::json> pods_;  // uid -> the API's object
  std::thread thread_;
};

}  // namespace berth::agent::cluster
