// StaticPodSource: the pods in the static pod directory, as the kubelet's
// file source reads them. The directory is watched with inotify (a missing
// directory is waited for) and rescanned every `rescan` as a safety net;
// each change sends the full set of pods to `on_pods`.
//
// Each regular, non-hidden file holds one or more pods (JSON, YAML documents,
// v1 List). A pod is defaulted (SetDefaultsPod), named "<name>-<node>", put
// in namespace "default" when it has none, bound to the node, given its UID
// from StaticPodUid (unless the file sets one) and the annotations
// kubernetes.io/config.hash and kubernetes.io/config.source=file, then
// validated. A bad file (unreadable, undecodable, invalid) or a pod whose
// name another file already has is reported through `on_error` with the file
// and the field; it never affects other files' pods.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "api/k8s/pod.h"

namespace berth::agent {

class StaticPodSource {
 public:
  using PodsCallback = std::function<void(std::vector<k8s::Pod> pods)>;
  // Called once per file and distinct problem (not again on each rescan);
  // with an empty message when the file's problem is gone.
  using ErrorCallback = std::function<void(const std::string& file, const std::string& message)>;

  StaticPodSource(std::string dir, std::string node_name, absl::Duration rescan, PodsCallback on_pods,
                  ErrorCallback on_error);
  ~StaticPodSource();

  absl::Status Start();
  void Stop();

  // One synchronous scan (what Start's thread does on each change).
  std::vector<k8s::Pod> Scan();

  // The pods of one file's contents, defaulted and validated as above.
  static absl::StatusOr<std::vector<k8s::Pod>> PodsFromFile(const std::string& path, const std::string& text,
                                                           const std::string& node_name);

 private:
  void Run();
  void Rewatch();

  std::string dir_, node_name_;
  absl::Duration rescan_;
  PodsCallback on_pods_;
  ErrorCallback on_error_;
  std::map<std::string, std::string> reported_;  // file -> last problem reported
  int inotify_fd_ = -1;
  int stop_fd_ = -1;
  int dir_watch_ = -1, parent_watch_ = -1;
  std::thread thread_;
};

}  // namespace berth::agent
