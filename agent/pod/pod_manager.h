// PodManager: the desired pods by UID (what the sources say should run),
// with the time each was first admitted.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "api/k8s/pod.h"

namespace berth::agent {

class PodManager {
 public:
  void Upsert(const k8s::Pod& pod) {
    std::lock_guard<std::mutex> lock(mu_);
    pods_[pod.metadata.uid] = pod;
  }
  void Remove(const std::string& uid) {
    std::lock_guard<std::mutex> lock(mu_);
    pods_.erase(uid);
  }
  std::optional<k8s::Pod> Get(const std::string& uid) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pods_.find(uid);
    if (it == pods_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<k8s::Pod> List() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<k8s::Pod> out;
    for (const auto& [uid, pod] : pods_) out.push_back(pod);
    return out;
  }
  size_t Size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pods_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, k8s::Pod> pods_;
};

}  // namespace berth::agent
