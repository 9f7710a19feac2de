#include "controlplane/scheduler/scheduler_cache.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace berth::scheduler {

std::string LabelCountKey(absl::string_view pod_namespace, absl::string_view key, absl::string_view value) {
  return absl::StrCat(pod_namespace, "\x1f", key, "\x1f", value);
}

MatchingPodCounter::MatchingPodCounter(const std::string& pod_namespace, const LabelSelector& selector)
    : namespace_(pod_namespace), selector_(selector) {
  if (const SelectorRequirement* pair = selector.RequiredPair()) {
    required_key_ = LabelCountKey(pod_namespace, pair->key, pair->values[0]);
    exact_ = selector.IsSinglePair();
  }
}

int64_t MatchingPodCounter::Count(const NodeState& node) const {
  if (node.pods.empty()) return 0;
  if (!required_key_.empty()) {
    auto it = node.label_counts.find(required_key_);
    if (it == node.label_counts.end()) return 0;
    if (exact_) return it->second;
  }
  int64_t n = 0;
  for (const PodInfo* pod : node.pods) {
    if (pod->namespace_ == namespace_ && selector_.Matches(pod->labels)) ++n;
  }
  return n;
}

NodeState& SchedulerCache::NodeFor(const std::string& name) {
  auto& slot = nodes_[name];
  if (!slot) {
    slot = std::make_unique<NodeState>();
    slot->info.name = name;
  }
  return *slot;
}

void SchedulerCache::AddOrUpdateNode(NodeInfo node) {
  ++generation_;
  NodeState& state = NodeFor(node.name);
  std::string name = node.name;
  state.info = std::move(node);
  if (!state.known) {
    state.known = true;
    node_index_[name] = node_list_.size();
    node_list_.push_back(&state);
  }
}

absl::Status SchedulerCache::RemoveNode(const std::string& name) {
  auto it = nodes_.find(name);
  if (it == nodes_.end() || !it->second->known) return absl::NotFoundError(absl::StrCat("node \"", name, "\" not in the scheduler cache"));
  ++generation_;
  size_t index = node_index_[name];
  node_index_.erase(name);
  if (index + 1 != node_list_.size()) {
    node_list_[index] = node_list_.back();
    node_index_[node_list_[index]->info.name] = index;
  }
  node_list_.pop_back();
  it->second->known = false;
  DropNodeIfEmpty(name);
  return absl::OkStatus();
}

void SchedulerCache::DropNodeIfEmpty(const std::string& name) {
  auto it = nodes_.find(name);
  if (it != nodes_.end() && !it->second->known && it->second->pods.empty()) nodes_.erase(it);
}

void SchedulerCache::AddToNode(const PodInfo& pod) {
  NodeState& node = NodeFor(pod.node_name);
  node.requested.Add(pod.requests);
  node.nonzero_requested.Add(pod.nonzero_requests);
  node.used_ports.insert(node.used_ports.end(), pod.host_ports.begin(), pod.host_ports.end());
  node.pods.push_back(&pod);
  for (const auto& [key, value] : pod.labels) {
    std::string label = LabelCountKey(pod.namespace_, key, value);
    if (++node.label_counts[label] == 1) nodes_with_label_[label].insert(&node);
  }
  if (pod.HasPodAffinity()) {
    ++node.pods_with_affinity;
    ++pods_with_affinity_;
  }
  if (!pod.required_anti_affinity.empty()) {
    ++node.pods_with_required_anti_affinity;
    ++pods_with_required_anti_affinity_;
  }
}

void SchedulerCache::RemoveFromNode(const PodInfo& pod) {
  auto it = nodes_.find(pod.node_name);
  if (it == nodes_.end()) return;
  NodeState& node = *it->second;
  node.requested.Subtract(pod.requests);
  node.nonzero_requested.Subtract(pod.nonzero_requests);
  for (const HostPort& port : pod.host_ports) {
    auto used = std::find(node.used_ports.begin(), node.used_ports.end(), port);
    if (used != node.used_ports.end()) node.used_ports.erase(used);
  }
  std::erase(node.pods, &pod);
  for (const auto& [key, value] : pod.labels) {
    std::string label = LabelCountKey(pod.namespace_, key, value);
    auto count = node.label_counts.find(label);
    if (count == node.label_counts.end() || --count->second > 0) continue;
    node.label_counts.erase(count);
    auto nodes = nodes_with_label_.find(label);
    if (nodes == nodes_with_label_.end()) continue;
    nodes->second.erase(&node);
    if (nodes->second.empty()) nodes_with_label_.erase(nodes);
  }
  if (pod.HasPodAffinity()) {
    --node.pods_with_affinity;
    --pods_with_affinity_;
  }
  if (!pod.required_anti_affinity.empty()) {
    --node.pods_with_required_anti_affinity;
    --pods_with_required_anti_affinity_;
  }
  DropNodeIfEmpty(pod.node_name);
}

void SchedulerCache::AddOrUpdatePod(PodInfo pod) {
  ++generation_;
  std::string key = pod.Key();
  auto it = pods_.find(key);
  if (it != pods_.end()) {
    RemoveFromNode(it->second->pod);
    pods_.erase(it);
  }
  if (pod.node_name.empty() || pod.terminal) return;
  auto entry = std::make_unique<PodEntry>(PodEntry{std::move(pod), false});
  AddToNode(entry->pod);
  pods_.emplace(std::move(key), std::move(entry));
}

absl::Status SchedulerCache::RemovePod(const std::string& key) {
  auto it = pods_.find(key);
  if (it == pods_.end()) return absl::NotFoundError(absl::StrCat("pod ", key, " not in the scheduler cache"));
  ++generation_;
  RemoveFromNode(it->second->pod);
  pods_.erase(it);
  return absl::OkStatus();
}

absl::Status SchedulerCache::AssumePod(PodInfo pod, const std::string& node_name) {
  std::string key = pod.Key();
  if (pods_.contains(key)) return absl::AlreadyExistsError(absl::StrCat("pod ", key, " is already in the scheduler cache"));
  auto node = nodes_.find(node_name);
  if (node == nodes_.end() || !node->second->known) {
    return absl::NotFoundError(absl::StrCat("assume pod ", key, ": node \"", node_name, "\" not in the scheduler cache"));
  }
  ++generation_;
  pod.node_name = node_name;
  auto entry = std::make_unique<PodEntry>(PodEntry{std::move(pod), true});
  AddToNode(entry->pod);
  pods_.emplace(std::move(key), std::move(entry));
  return absl::OkStatus();
}

absl::Status SchedulerCache::ForgetPod(const std::string& key) {
  auto it = pods_.find(key);
  if (it == pods_.end()) return absl::NotFoundError(absl::StrCat("pod ", key, " not in the scheduler cache"));
  if (!it->second->assumed) {
    return absl::FailedPreconditionError(absl::StrCat("pod ", key, " is bound to node \"", it->second->pod.node_name,
                                                      "\", not assumed"));
  }
  return RemovePod(key);
}

bool SchedulerCache::IsAssumed(const std::string& key) const {
  auto it = pods_.find(key);
  return it != pods_.end() && it->second->assumed;
}

const NodeState* SchedulerCache::GetNode(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() || !it->second->known ? nullptr : it->second.get();
}

const PodInfo* SchedulerCache::GetPod(const std::string& key) const {
  auto it = pods_.find(key);
  return it == pods_.end() ? nullptr : &it->second->pod;
}

}  // namespace berth::scheduler
