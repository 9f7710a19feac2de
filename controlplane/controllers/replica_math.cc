#include "controlplane/controllers/replica_math.h"

#include <algorithm>
#include <tuple>

namespace berth::controllers {
namespace {

int PhaseRank(const std::string& phase) {
  if (phase == "Pending") return 0;
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 3;
}

}  // namespace

int32_t ReplicaDiff(int32_t replicas, int32_t active) {
  int32_t diff = replicas - active;
  return std::clamp(diff, -kBurstReplicas, kBurstReplicas);
}

std::vector<int32_t> SlowStartBatches(int32_t count) {
  std::vector<int32_t> batches;
  for (int32_t size = 1, left = count; left > 0; size *= 2) {
    batches.push_back(std::min(size, left));
    left -= batches.back();
  }
  return batches;
}

std::vector<PodForRanking> DeletionOrder(std::vector<PodForRanking> pods) {
  auto key = [](const PodForRanking& p) {
    // Smaller sorts first (deleted first).
    return std::make_tuple(!p.node_name.empty(), PhaseRank(p.phase), p.ready,
                           p.ready ? -p.ready_since_unix : int64_t{0}, -p.restarts, -p.created_unix);
  };
  std::stable_sort(pods.begin(), pods.end(),
                   [&](const PodForRanking& a, const PodForRanking& b) { return key(a) < key(b); });
  return pods;
}

}  // namespace berth::controllers
