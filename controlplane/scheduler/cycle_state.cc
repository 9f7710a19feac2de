#include "controlplane/scheduler/cycle_state.h"

#include <algorithm>
#include <limits>

namespace berth::scheduler {
namespace {

bool MatchesAllTerms(const std::vector<AffinityTerm>& terms, const PodInfo& pod) {
  return !terms.empty() &&
         std::all_of(terms.begin(), terms.end(), [&pod](const AffinityTerm& t) { return t.Matches(pod); });
}

void CountTerm(const AffinityTerm& term, const Labels& node_labels, int64_t n, TopologyCounts* out) {
  auto value = node_labels.find(term.topology_key);
  if (value != node_labels.end()) out->Add(term.topology_key, value->second, n);
}

}  // namespace

void TopologyCounts::Add(const std::string& key, const std::string& value, int64_t n) {
  counts_[{key, value}] += n;
}

int64_t TopologyCounts::Get(const std::string& key, const std::string& value) const {
  auto it = counts_.find(std::make_pair(key, value));
  return it == counts_.end() ? 0 : it->second;
}

bool TopologyCounts::AnyPositiveIn(const Labels& labels) const {
  for (const auto& [domain, count] : counts_) {
    if (count <= 0) continue;
    auto it = labels.find(domain.first);
    if (it != labels.end() && it->second == domain.second) return true;
  }
  return false;
}

bool MatchesNodeSelectorAndAffinity(const PodInfo& pod, const NodeInfo& node) {
  for (const auto& [key, value] : pod.node_selector) {
    auto it = node.labels.find(key);
    if (it == node.labels.end() || it->second != value) return false;
  }
  return !pod.required_node_affinity || pod.required_node_affinity->Matches(node.name, node.labels);
}

void PrepareCycle(const PodInfo& pod, const SchedulerCache& cache, CycleState* state) {
  *state = CycleState{};
  state->pod = &pod;
  bool own_terms = !pod.required_affinity.empty() || !pod.required_anti_affinity.empty();
  for (const NodeState* node : cache.nodes()) {
    if (!own_terms && cache.pods_with_required_anti_affinity() == 0) break;
    if (own_terms) {
      for (const PodInfo* existing : node->pods) {
        if (MatchesAllTerms(pod.required_affinity, *existing)) {
          for (const AffinityTerm& term : pod.required_affinity) {
            CountTerm(term, node->info.labels, 1, &state->inter_pod.affinity);
          }
        }
        for (const AffinityTerm& term : pod.required_anti_affinity) {
          if (term.Matches(*existing)) CountTerm(term, node->info.labels, 1, &state->inter_pod.anti_affinity);
        }
      }
    }
    if (node->pods_with_required_anti_affinity == 0) continue;
    for (const PodInfo* existing : node->pods) {
      for (const AffinityTerm& term : existing->required_anti_affinity) {
        if (term.Matches(pod)) CountTerm(term, node->info.labels, 1, &state->inter_pod.existing_anti_affinity);
      }
    }
  }
  state->check_inter_pod_affinity = own_terms || !state->inter_pod.existing_anti_affinity.empty();
  for (const TopologySpreadConstraint& c : pod.spread_constraints) {
    if (!c.do_not_schedule) continue;
    SpreadConstraintState spread;
    CountSpread(pod, c, cache, &spread);
    state->hard_spread.push_back(std::move(spread));
  }
}

void CountSpread(const PodInfo& pod, const TopologySpreadConstraint& constraint, const SchedulerCache& cache,
                 SpreadConstraintState* out) {
  out->constraint = &constraint;
  out->self_match = constraint.selector.Matches(pod.labels);
  out->counts.clear();
  MatchingPodCounter counter(pod.namespace_, constraint.selector);
  for (const NodeState* node : cache.nodes()) {
    auto value = node->info.labels.find(constraint.topology_key);
    if (value == node->info.labels.end() || !MatchesNodeSelectorAndAffinity(pod, node->info)) continue;
    out->counts[value->second] += counter.Count(*node);
  }
  out->min_count = out->counts.empty() ? 0 : std::numeric_limits<int64_t>::max();
  for (const auto& [value, count] : out->counts) out->min_count = std::min(out->min_count, count);
}

}  // namespace berth::scheduler
