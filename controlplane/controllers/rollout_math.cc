#include "controlplane/controllers/rollout_math.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace berth::controllers {
namespace {

int32_t Resolve(IntOrPercent v, int32_t replicas, bool round_up) {
  if (!v.is_percent) return v.value;
  int64_t scaled = static_cast<int64_t>(v.value) * replicas;
  return static_cast<int32_t>(round_up ? (scaled + 99) / 100 : scaled / 100);
}

int32_t SumReplicas(const std::vector<ReplicaSetCounts>& rss) {
  return std::accumulate(rss.begin(), rss.end(), 0, [](int32_t n, const ReplicaSetCounts& r) { return n + r.replicas; });
}

}  // namespace

absl::StatusOr<IntOrPercent> ParseIntOrPercent(const std::string& text, const std::string& field) {
  IntOrPercent out;
  absl::string_view number = text;
  if (absl::ConsumeSuffix(&number, "%")) out.is_percent = true;
  if (!absl::SimpleAtoi(number, &out.value) || out.value < 0 || (out.is_percent && out.value > 100)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", text, "\" is not a non-negative integer or a percentage up to 100%"));
  }
  return out;
}

SurgeAndUnavailable ResolveFenceposts(IntOrPercent max_surge, IntOrPercent max_unavailable, int32_t replicas) {
  SurgeAndUnavailable out{Resolve(max_surge, replicas, /*round_up=*/true),
                          Resolve(max_unavailable, replicas, /*round_up=*/false)};
  if (out.max_surge == 0 && out.max_unavailable == 0) out.max_unavailable = 1;
  return out;
}

int32_t NewReplicaSetReplicas(int32_t replicas, SurgeAndUnavailable limits, const ReplicaSetCounts& new_rs,
                              const std::vector<ReplicaSetCounts>& old_rss) {
  if (new_rs.replicas >= replicas) return replicas;  // scaling down is not the surge's business
  int32_t current = new_rs.replicas + SumReplicas(old_rss);
  int32_t max_total = replicas + limits.max_surge;
  if (current >= max_total) return new_rs.replicas;
  int32_t up = std::min(max_total - current, replicas - new_rs.replicas);
  return new_rs.replicas + up;
}

std::vector<int32_t> ScaleDownOldReplicaSets(int32_t replicas, SurgeAndUnavailable limits,
                                             const ReplicaSetCounts& new_rs,
                                             const std::vector<ReplicaSetCounts>& old_rss) {
  std::vector<int32_t> next;
  for (const auto& rs : old_rss) next.push_back(rs.replicas);
  int32_t old_pods = SumReplicas(old_rss);
  if (old_pods == 0) return next;
  int32_t all_pods = old_pods + new_rs.replicas;
  int32_t min_available = replicas - limits.max_unavailable;
  int32_t new_unavailable = new_rs.replicas - new_rs.available;
  int32_t max_scaled_down = all_pods - min_available - new_unavailable;
  if (max_scaled_down <= 0) return next;

  std::vector<size_t> oldest_first(old_rss.size());
  std::iota(oldest_first.begin(), oldest_first.end(), 0);
  std::stable_sort(oldest_first.begin(), oldest_first.end(), [&](size_t a, size_t b) {
    return old_rss[a].created_unix < old_rss[b].created_unix;
  });
  // Unhealthy first: pods that are not available cost no availability.
  int32_t cleaned = 0;
  for (size_t i : oldest_first) {
    if (cleaned >= max_scaled_down) break;
    int32_t unhealthy = std::max(0, next[i] - old_rss[i].available);
    int32_t down = std::min(unhealthy, max_scaled_down - cleaned);
    next[i] -= down;
    cleaned += down;
  }
  // Then available ones while more than min_available are available (by
  // status, which the unhealthy ones did not count in).
  int32_t available = new_rs.available;
  for (const auto& rs : old_rss) available += rs.available;
  if (available <= min_available) return next;
  int32_t budget = available - min_available;
  for (size_t i : oldest_first) {
    if (budget <= 0) break;
    int32_t down = std::min(next[i], budget);
    next[i] -= down;
    budget -= down;
  }
  return next;
}

RecreateStep NextRecreateStep(int32_t replicas, const std::vector<ReplicaSetCounts>& old_rss, int32_t old_pods_running) {
  RecreateStep step;
  step.scale_old_to_zero = SumReplicas(old_rss) > 0;
  step.new_replicas = (!step.scale_old_to_zero && old_pods_running == 0) ? replicas : 0;
  return step;
}

bool RolloutComplete(int32_t replicas, const ReplicaSetCounts& new_rs, int32_t new_updated,
                     const std::vector<ReplicaSetCounts>& old_rss) {
  return new_rs.replicas == replicas && new_updated == replicas && new_rs.available >= replicas &&
         SumReplicas(old_rss) == 0;
}

}  // namespace berth::controllers
