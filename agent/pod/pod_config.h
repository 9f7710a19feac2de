// PodConfig: merges the pod sources (the static pod dir now; the control
// plane later) into one stream of ADD / UPDATE / REMOVE by pod UID, as the
// kubelet's config.PodConfig does. Each source sends its full set (Set); the
// difference from the last set becomes updates. A pod whose namespace/name
// another source already has is dropped and reported.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "api/k8s/pod.h"

namespace berth::agent {

enum class PodOp { kAdd, kUpdate, kRemove };

struct PodUpdate {
  PodOp op;
  k8s::Pod pod;
  std::string source;
};

class PodConfig {
 public:
  using Listener = std::function<void(const std::vector<PodUpdate>&)>;
  using DuplicateReporter = std::function<void(const std::string& source, const k8s::Pod& pod,
                                               const std::string& other_source)>;

  PodConfig(Listener listener, DuplicateReporter on_duplicate = nullptr)
      : listener_(std::move(listener)), on_duplicate_(std::move(on_duplicate)) {}

  // The full set of pods of `source` ("file", "api"); sets kubernetes.io/config.seen on new pods.
  void Set(const std::string& source, std::vector<k8s::Pod> pods);

 private:
  Listener listener_;
  DuplicateReporter on_duplicate_;
  std::mutex mu_;
  std::vector<std::string> source_order_;                        // first registered wins duplicates
  std::map<std::string, std::map<std::string, k8s::Pod>> pods_;  // source -> uid -> pod
};

}  // namespace berth::agent
