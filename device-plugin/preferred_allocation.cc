#include "device-plugin/preferred_allocation.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "device-plugin/device_ids.h"

namespace berth::gpu {
namespace {

// Larger is better: NVLinks, PCI closeness, then lower indexes.
using Score = std::tuple<long, long, long>;

Score ScoreSet(const std::vector<int>& set, const std::vector<Gpu>& gpus, const GpuTopology& topo) {
  long links = 0, pci = 0, index_sum = 0;
  for (size_t a = 0; a < set.size(); ++a) {
    index_sum += gpus[set[a]].index;
    for (size_t b = a + 1; b < set.size(); ++b) {
      if (!topo.nvlinks.empty()) links += topo.nvlinks[set[a]][set[b]];
      if (!topo.pci_closeness.empty()) pci += topo.pci_closeness[set[a]][set[b]];
    }
  }
  return {links, pci, -index_sum};
}

// Every k-subset of `candidates` (appended to `fixed`) while there are at
// most `limit` of them; returns false when there are more.
bool BestByEnumeration(const std::vector<int>& fixed, const std::vector<int>& candidates, size_t k,
                       const std::vector<Gpu>& gpus, const GpuTopology& topo, std::vector<int>* best) {
  constexpr double kLimit = 50000;
  double combos = 1;
  for (size_t i = 0; i < k; ++i) {
    combos = combos * static_cast<double>(candidates.size() - i) / static_cast<double>(i + 1);
    if (combos > kLimit) return false;
  }
  std::vector<size_t> pick(k);
  for (size_t i = 0; i < k; ++i) pick[i] = i;
  bool have = false;
  Score best_score;
  while (true) {
    std::vector<int> set = fixed;
    for (size_t p : pick) set.push_back(candidates[p]);
    Score s = ScoreSet(set, gpus, topo);
    if (!have || s > best_score) {
      have = true;
      best_score = s;
      *best = set;
    }
    // Next combination in lexicographic order.
    size_t i = k;
    while (i > 0 && pick[i - 1] == candidates.size() - k + (i - 1)) --i;
    if (i == 0) break;
    ++pick[i - 1];
    for (size_t j = i; j < k; ++j) pick[j] = pick[j - 1] + 1;
  }
  return true;
}

std::vector<int> BestGreedy(std::vector<int> set, std::vector<int> candidates, size_t k, const std::vector<Gpu>& gpus,
                            const GpuTopology& topo) {
  for (size_t n = 0; n < k; ++n) {
    size_t best = 0;
    Score best_score;
    for (size_t c = 0; c < candidates.size(); ++c) {
      std::vector<int> trial = set;
      trial.push_back(candidates[c]);
      Score s = ScoreSet(trial, gpus, topo);
      if (c == 0 || s > best_score) {
        best = c;
        best_score = s;
      }
    }
    set.push_back(candidates[best]);
    candidates.erase(candidates.begin() + static_cast<long>(best));
  }
  return set;
}

}  // namespace

std::vector<std::string> PreferredAllocation(const std::vector<Gpu>& gpus, const GpuTopology& topology,
                                             const std::vector<std::string>& available,
                                             const std::vector<std::string>& must_include, int size) {
  std::map<std::string, int> position;  // uuid -> position in gpus
  for (size_t i = 0; i < gpus.size(); ++i) position[gpus[i].uuid] = static_cast<int>(i);

  std::vector<std::string> result;
  std::set<std::string> taken;
  for (const auto& id : must_include) {
    if (taken.insert(id).second) result.push_back(id);
  }
  if (size <= 0 || result.size() >= static_cast<size_t>(size)) return result;
  size_t need = static_cast<size_t>(size) - result.size();

  std::vector<std::string> unknown;
  bool replicas = false;
  std::vector<std::string> free_ids;
  for (const auto& id : available) {
    if (taken.count(id)) continue;
    ParsedDeviceId parsed = ParseDeviceId(id);
    if (!position.count(parsed.uuid)) {
      unknown.push_back(id);
      continue;
    }
    replicas = replicas || parsed.replica >= 0;
    free_ids.push_back(id);
  }

  if (replicas) {
    // Spread: per GPU, how many replicas this answer already uses and how
    // many are still free on the node (more free = less used by others).
    std::map<int, int> used_here, free_on_gpu;
    for (const auto& id : result) {
      auto it = position.find(ParseDeviceId(id).uuid);
      if (it != position.end()) ++used_here[it->second];
    }
    for (const auto& id : free_ids) ++free_on_gpu[position[ParseDeviceId(id).uuid]];
    while (need > 0 && !free_ids.empty()) {
      auto key = [&](const std::string& id) {
        ParsedDeviceId p = ParseDeviceId(id);
        int g = position[p.uuid];
        return std::make_tuple(used_here[g], -free_on_gpu[g], gpus[g].index, p.replica);
      };
      auto best = std::min_element(free_ids.begin(), free_ids.end(),
                                   [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
      int g = position[ParseDeviceId(*best).uuid];
      ++used_here[g];
      --free_on_gpu[g];
      result.push_back(*best);
      free_ids.erase(best);
      --need;
    }
  } else {
    std::vector<int> fixed, candidates;
    for (const auto& id : result) {
      auto it = position.find(id);
      if (it != position.end()) fixed.push_back(it->second);
    }
    for (const auto& id : free_ids) candidates.push_back(position[id]);
    std::sort(candidates.begin(), candidates.end(),
              [&](int a, int b) { return gpus[a].index < gpus[b].index; });
    size_t k = std::min(need, candidates.size());
    std::vector<int> best;
    if (!BestByEnumeration(fixed, candidates, k, gpus, topology, &best)) {
      best = BestGreedy(fixed, candidates, k, gpus, topology);
    }
    for (size_t i = fixed.size(); i < best.size(); ++i) result.push_back(gpus[best[i]].uuid);
    need -= k;
  }
  for (size_t i = 0; i < unknown.size() && need > 0; ++i, --need) result.push_back(unknown[i]);
  return result;
}

}  // namespace berth::gpu
