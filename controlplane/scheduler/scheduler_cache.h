// The scheduler's view of the cluster: every node, the pods bound to each (their
// requested totals, the host ports in use, the pods themselves for inter-pod
// affinity and topology spreading), and "assumed" pods: placed by a scheduling
// cycle but not yet seen bound, so that the next cycle already counts them.
//
// Not thread-safe: one scheduling loop owns it (as kube-scheduler's cache is
// driven by its informers and its one scheduling goroutine).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "controlplane/scheduler/node_info.h"
#include "controlplane/scheduler/pod_info.h"
#include "controlplane/scheduler/resources.h"

namespace berth::scheduler {

struct NodeState {
  NodeInfo info;
  bool known = false;          // the Node object exists (pods may name a node not yet seen)
  Resources requested;         // sum of the pods' requests
  Resources nonzero_requested; // the same with the scoring defaults for cpu / memory
  std::vector<HostPort> used_ports;
  std::vector<const PodInfo*> pods;
  // How many of the pods carry each label, keyed LabelCountKey(namespace, key, value).
  absl::flat_hash_map<std::string, int32_t> label_counts;
  int pods_with_affinity = 0;               // pods with any pod (anti-)affinity term
  int pods_with_required_anti_affinity = 0;
};

class SchedulerCache;

// The key of NodeState::label_counts.
std::string LabelCountKey(absl::string_view pod_namespace, absl::string_view key, absl::string_view value);

// Counts the pods of one namespace matching a label selector on a node, using
// the node's label counts to skip (or answer without) walking its pods.
class MatchingPodCounter {
 public:
  MatchingPodCounter(const std::string& pod_namespace, const LabelSelector& selector);
  int64_t Count(const NodeState& node) const;
  // Calls fn(node, count) for every existing node with at least one matching pod;
  // with a required label pair, only the nodes whose pods carry it are looked at.
  template <class Fn>
  void ForEachNodeWithMatches(const SchedulerCache& cache, Fn fn) const;

 private:
  const std::string& namespace_;
  const LabelSelector& selector_;
  std::string required_key_;  // empty: no required pair
  bool exact_ = false;        // the count of required_key_ is the answer
};

class SchedulerCache {
 public:
  SchedulerCache() = default;
  SchedulerCache(const SchedulerCache&) = delete;
  SchedulerCache& operator=(const SchedulerCache&) = delete;

  // Adds the node or replaces what is known of it; its pods stay.
  void AddOrUpdateNode(NodeInfo node);
  // NotFound when no such node. Pods still bound to it stay counted until removed.
  absl::Status RemoveNode(const std::string& name);

  // A pod bound to pod.node_name (spec.nodeName set): counts it there, replacing
  // an earlier version (a move between nodes included) and confirming an assumed
  // one. A pod with no node name, or terminal (Succeeded / Failed), is dropped.
  void AddOrUpdatePod(PodInfo pod);
  // NotFound when the pod is not in the cache.
  absl::Status RemovePod(const std::string& key);

  // Counts `pod` on `node_name` until it is confirmed (AddOrUpdatePod) or forgotten.
  // AlreadyExists when the pod is already in the cache; NotFound for an unknown node.
  absl::Status AssumePod(PodInfo pod, const std::string& node_name);
  // Undoes AssumePod (binding failed). FailedPrecondition when the pod is bound, not assumed.
  absl::Status ForgetPod(const std::string& key);
  bool IsAssumed(const std::string& key) const;

  // The nodes that exist, in a stable order (the order they were added; a removed
  // node's slot is filled by the last one).
  const std::vector<NodeState*>& nodes() const { return node_list_; }
  const NodeState* GetNode(const std::string& name) const;
  const PodInfo* GetPod(const std::string& key) const;
  size_t pod_count() const { return pods_.size(); }
  // Bumped by every change, so that callers can tell their precomputation is stale.
  uint64_t generation() const { return generation_; }
  // Pods in the cache with any pod (anti-)affinity term / a required anti-affinity term.
  int64_t pods_with_affinity() const { return pods_with_affinity_; }
  int64_t pods_with_required_anti_affinity() const { return pods_with_required_anti_affinity_; }
  // The nodes (known or not) with a pod carrying LabelCountKey(ns, key, value); nullptr when none.
  const absl::flat_hash_set<const NodeState*>* NodesWithLabel(const std::string& label_count_key) const {
    auto it = nodes_with_label_.find(label_count_key);
    return it == nodes_with_label_.end() ? nullptr : &it->second;
  }

 private:
  struct PodEntry {
    PodInfo pod;
    bool assumed = false;
  };
  NodeState& NodeFor(const std::string& name);
  void AddToNode(const PodInfo& pod);
  void RemoveFromNode(const PodInfo& pod);
  void DropNodeIfEmpty(const std::string& name);

  std::unordered_map<std::string, std::unique_ptr<NodeState>> nodes_;
  std::vector<NodeState*> node_list_;
  std::unordered_map<std::string, size_t> node_index_;
  std::unordered_map<std::string, std::unique_ptr<PodEntry>> pods_;
  uint64_t generation_ = 0;
  int64_t pods_with_affinity_ = 0;
  int64_t pods_with_required_anti_affinity_ = 0;
  absl::flat_hash_map<std::string, absl::flat_hash_set<const NodeState*>> nodes_with_label_;
};

template <class Fn>
void MatchingPodCounter::ForEachNodeWithMatches(const SchedulerCache& cache, Fn fn) const {
  auto visit = [&](const NodeState* node) {
    if (!node->known) return;
    int64_t n = Count(*node);
    if (n > 0) fn(*node, n);
  };
  if (required_key_.empty()) {
    for (const NodeState* node : cache.nodes()) visit(node);
  } else if (const auto* nodes = cache.NodesWithLabel(required_key_)) {
    for (const NodeState* node : *nodes) visit(node);
  }
}

}  // namespace berth::scheduler
