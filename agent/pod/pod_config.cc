#include "absl/time/clock.h"
#include "agent/pod/pod_config.h"

#include <algorithm>
#include <set>

#include "agent/pod/labels.h"
#include "agent/pod/pod_status.h"

namespace berth::agent {

void PodConfig::Set(const std::string& source, std::vector<k8s::Pod> pods) {
  std::vector<PodUpdate> updates;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::find(source_order_.begin(), source_order_.end(), source) == source_order_.end()) {
      source_order_.push_back(source);
    }
    // Names the other sources hold.
    std::map<std::string, std::string> taken;  // ns/name -> source
    for (const auto& other : source_order_) {
      if (other == source) continue;
      for (const auto& [uid, pod] : pods_[other]) taken[pod.metadata.namespace_ + "/" + pod.metadata.name] = other;
    }
    auto& current = pods_[source];
    std::map<std::string, k8s::Pod> next;
    for (auto& pod : pods) {
      auto it = taken.find(pod.metadata.namespace_ + "/" + pod.metadata.name);
      if (it != taken.end()) {
        if (on_duplicate_) on_duplicate_(source, pod, it->second);
        continue;
      }
      if (next.count(pod.metadata.uid)) continue;
      auto old = current.find(pod.metadata.uid);
      if (old == current.end()) {
        pod.metadata.annotations[kConfigSeenAnnotation] = K8sTime(absl::Now());
        updates.push_back({PodOp::kAdd, pod, source});
      } else {
        pod.metadata.annotations[kConfigSeenAnnotation] = old->second.metadata.annotations[kConfigSeenAnnotation];
        if (!(old->second == pod)) updates.push_back({PodOp::kUpdate, pod, source});
      }
      next.emplace(pod.metadata.uid, std::move(pod));
    }
    for (const auto& [uid, pod] : current) {
      if (!next.count(uid)) updates.push_back({PodOp::kRemove, pod, source});
    }
    current = std::move(next);
  }
  if (!updates.empty()) listener_(updates);
}

}  // namespace berth::agent
