#include "controlplane/scheduler/scores.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "controlplane/scheduler/filters.h"

namespace berth::scheduler {
namespace {

int64_t LeastAllocated(int64_t requested, int64_t capacity) {
  if (requested > capacity) return 0;
  return (capacity - requested) * kMaxNodeScore / capacity;
}

int64_t MostAllocated(int64_t requested, int64_t capacity) {
  return std::min(requested, capacity) * kMaxNodeScore / capacity;
}

// Scales scores so the highest is 100 (or, `reverse`, so the lowest raw score gets 100).
void DefaultNormalize(bool reverse, std::vector<int64_t>* scores) {
  int64_t max = 0;
  for (int64_t s : *scores) max = std::max(max, s);
  if (max == 0) {
    if (reverse) std::fill(scores->begin(), scores->end(), kMaxNodeScore);
    return;
  }
  for (int64_t& s : *scores) {
    s = s * kMaxNodeScore / max;
    if (reverse) s = kMaxNodeScore - s;
  }
}

void AddTermScores(const std::vector<AffinityTerm>& terms, const PodInfo& target, const Labels& node_labels,
                   int64_t weight_multiplier, bool use_term_weight, int64_t fixed_weight, TopologyCounts* out) {
  for (const AffinityTerm& term : terms) {
    if (!term.Matches(target)) continue;
    auto value = node_labels.find(term.topology_key);
    if (value == node_labels.end()) continue;
    out->Add(term.topology_key, value->second, (use_term_weight ? term.weight : fixed_weight) * weight_multiplier);
  }
}

constexpr char kHostnameLabel[] = "kubernetes.io/hostname";

}  // namespace

int64_t ResourcesFitScore(const PodInfo& pod, const NodeState& node, const ScoreConfig& config) {
  int64_t total = 0, weights = 0;
  for (const ScoredResource& r : config.resources) {
    int64_t capacity = node.info.allocatable.Get(r.kind, r.name);
    if (capacity == 0) continue;
    int64_t requested = node.nonzero_requested.Get(r.kind, r.name) + pod.nonzero_requests.Get(r.kind, r.name);
    total += r.weight * (config.strategy == ScoreConfig::Strategy::kLeastAllocated ? LeastAllocated(requested, capacity)
                                                                                 : MostAllocated(requested, capacity));
    weights += r.weight;
  }
  return weights == 0 ? 0 : total / weights;
}

int64_t BalancedAllocationScore(const PodInfo& pod, const NodeState& node, const ScoreConfig& config) {
  double fractions[8];
  size_t n = 0;
  double sum = 0;
  for (const ScoredResource& r : config.resources) {
    int64_t capacity = node.info.allocatable.Get(r.kind, r.name);
    if (capacity == 0 || n == std::size(fractions)) continue;
    double fraction =
        static_cast<double>(node.requested.Get(r.kind, r.name) + pod.requests.Get(r.kind, r.name)) / capacity;
    fractions[n++] = std::min(fraction, 1.0);
    sum += fractions[n - 1];
  }
  double deviation = 0;
  if (n == 2) {
    deviation = std::abs(fractions[0] - fractions[1]) / 2;
  } else if (n > 2) {
    double mean = sum / n, squares = 0;
    for (size_t i = 0; i < n; ++i) squares += (fractions[i] - mean) * (fractions[i] - mean);
    deviation = std::sqrt(squares / n);
  }
  return static_cast<int64_t>((1 - deviation) * kMaxNodeScore);
}

void TaintTolerationScores(const PodInfo& pod, const std::vector<const NodeState*>& nodes, std::vector<int64_t>* out) {
  out->assign(nodes.size(), 0);
  std::vector<k8s::Toleration> prefer;
  for (const auto& t : pod.tolerations) {
    if (t.effect.empty() || t.effect == "PreferNoSchedule") prefer.push_back(t);
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const Taint& taint : nodes[i]->info.taints) {
      if (taint.effect == "PreferNoSchedule" && !ToleratesAny(prefer, taint)) ++(*out)[i];
    }
  }
  DefaultNormalize(true, out);
}

void NodeAffinityScores(const PodInfo& pod, const std::vector<const NodeState*>& nodes, std::vector<int64_t>* out) {
  out->assign(nodes.size(), 0);
  if (pod.preferred_node_affinity.empty()) return;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& term : pod.preferred_node_affinity) {
      if (term.selector.Matches(nodes[i]->info.name, nodes[i]->info.labels)) (*out)[i] += term.weight;
    }
  }
  DefaultNormalize(false, out);
}

void InterPodAffinityScores(const PodInfo& pod, const SchedulerCache& cache, const std::vector<const NodeState*>& nodes,
                            const ScoreConfig& config, std::vector<int64_t>* out) {
  out->assign(nodes.size(), 0);
  bool own_terms = !pod.preferred_affinity.empty() || !pod.preferred_anti_affinity.empty();
  if (!own_terms && cache.pods_with_affinity() == 0) return;
  TopologyCounts domains;
  for (const NodeState* node : cache.nodes()) {
    if (!own_terms && node->pods_with_affinity == 0) continue;
    const Labels& labels = node->info.labels;
    for (const PodInfo* existing : node->pods) {
      if (own_terms) {
        AddTermScores(pod.preferred_affinity, *existing, labels, 1, true, 0, &domains);
        AddTermScores(pod.preferred_anti_affinity, *existing, labels, -1, true, 0, &domains);
      }
      if (!existing->HasPodAffinity()) continue;
      AddTermScores(existing->required_affinity, pod, labels, 1, false, config.hard_pod_affinity_weight, &domains);
      AddTermScores(existing->preferred_affinity, pod, labels, 1, true, 0, &domains);
      AddTermScores(existing->preferred_anti_affinity, pod, labels, -1, true, 0, &domains);
    }
  }
  if (domains.empty()) return;
  int64_t min = std::numeric_limits<int64_t>::max(), max = std::numeric_limits<int64_t>::min();
  for (size_t i = 0; i < nodes.size(); ++i) {
    int64_t score = 0;
    for (const auto& [domain, weight] : domains.entries()) {
      auto value = nodes[i]->info.labels.find(domain.first);
      if (value != nodes[i]->info.labels.end() && value->second == domain.second) score += weight;
    }
    (*out)[i] = score;
    min = std::min(min, score);
    max = std::max(max, score);
  }
  for (int64_t& s : *out) {
    s = max > min ? static_cast<int64_t>(kMaxNodeScore * (static_cast<double>(s - min) / (max - min))) : 0;
  }
}

void TopologySpreadScores(const PodInfo& pod, const SchedulerCache& cache, const std::vector<const NodeState*>& nodes,
                          std::vector<int64_t>* out) {
  out->assign(nodes.size(), 0);
  std::vector<const TopologySpreadConstraint*> soft;
  for (const auto& c : pod.spread_constraints) {
    if (!c.do_not_schedule) soft.push_back(&c);
  }
  if (soft.empty()) return;
  const size_t k = soft.size();
  // The node's value for every constraint's key (false when one is missing).
  auto resolve = [&soft, k](const Labels& labels, const std::string** values) {
    for (size_t c = 0; c < k; ++c) {
      auto it = labels.find(soft[c]->topology_key);
      if (it == labels.end()) return false;
      values[c] = &it->second;
    }
    return true;
  };
  std::vector<MatchingPodCounter> counters;
  for (const TopologySpreadConstraint* c : soft) counters.emplace_back(pod.namespace_, c->selector);
  // Domains among the feasible nodes; nodes lacking a key are ignored (score 0).
  std::vector<const std::string*> node_values(nodes.size() * k, nullptr);
  std::vector<bool> ignored(nodes.size(), false);
  std::vector<absl::flat_hash_map<std::string, int64_t>> counts(k);
  size_t scored_nodes = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!resolve(nodes[i]->info.labels, &node_values[i * k])) {
      ignored[i] = true;
      continue;
    }
    ++scored_nodes;
    for (size_t c = 0; c < k; ++c) {
      if (soft[c]->topology_key != kHostnameLabel) counts[c].emplace(*node_values[i * k + c], 0);
    }
  }
  std::vector<double> weights(k);
  for (size_t c = 0; c < k; ++c) {
    size_t size = soft[c]->topology_key == kHostnameLabel ? scored_nodes : counts[c].size();
    weights[c] = std::log(static_cast<double>(size + 2));
  }
  std::vector<const std::string*> values(k);
  for (size_t c = 0; c < k; ++c) {
    if (soft[c]->topology_key == kHostnameLabel) continue;
    counters[c].ForEachNodeWithMatches(cache, [&](const NodeState& node, int64_t matching) {
      if (!resolve(node.info.labels, values.data()) || !MatchesNodeSelectorAndAffinity(pod, node.info)) return;
      auto domain = counts[c].find(*values[c]);
      if (domain != counts[c].end()) domain->second += matching;
    });
  }
  int64_t min = std::numeric_limits<int64_t>::max(), max = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (ignored[i]) continue;
    double score = 0;
    for (size_t c = 0; c < k; ++c) {
      int64_t count = soft[c]->topology_key == kHostnameLabel ? counters[c].Count(*nodes[i])
                                                              : counts[c].find(*node_values[i * k + c])->second;
      score += static_cast<double>(count) * weights[c] + static_cast<double>(soft[c]->max_skew - 1);
    }
    (*out)[i] = static_cast<int64_t>(std::round(score));
    min = std::min(min, (*out)[i]);
    max = std::max(max, (*out)[i]);
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (ignored[i]) {
      (*out)[i] = 0;
    } else if (max == 0) {
      (*out)[i] = kMaxNodeScore;
    } else {
      (*out)[i] = kMaxNodeScore * (max + min - (*out)[i]) / max;
    }
  }
}

void ScoreNodes(const CycleState& state, const SchedulerCache& cache, const std::vector<const NodeState*>& nodes,
                const ScoreConfig& config, std::vector<int64_t>* totals) {
  const PodInfo& pod = *state.pod;
  totals->assign(nodes.size(), 0);
  bool any_taints = false;
  for (size_t i = 0; i < nodes.size(); ++i) {
    (*totals)[i] = config.resources_fit_weight * ResourcesFitScore(pod, *nodes[i], config) +
                   config.balanced_allocation_weight * BalancedAllocationScore(pod, *nodes[i], config);
    any_taints = any_taints || !nodes[i]->info.taints.empty();
  }
  std::vector<int64_t> scores;
  auto add = [&](int64_t weight) {
    for (size_t i = 0; i < nodes.size(); ++i) (*totals)[i] += weight * scores[i];
  };
  if (any_taints) {
    TaintTolerationScores(pod, nodes, &scores);
    add(config.taint_toleration_weight);
  } else {
    // No PreferNoSchedule taint anywhere: every node scores the maximum.
    for (int64_t& total : *totals) total += config.taint_toleration_weight * kMaxNodeScore;
  }
  if (!pod.preferred_node_affinity.empty()) {
    NodeAffinityScores(pod, nodes, &scores);
    add(config.node_affinity_weight);
  }
  if (pod.HasPodAffinity() || cache.pods_with_affinity() > 0) {
    InterPodAffinityScores(pod, cache, nodes, config, &scores);
    add(config.inter_pod_affinity_weight);
  }
  if (!pod.spread_constraints.empty()) {
    TopologySpreadScores(pod, cache, nodes, &scores);
    add(config.topology_spread_weight);
  }
}

}  // namespace berth::scheduler
