#include "controlplane/controllers/statefulset_math.h"

#include "absl/strings/str_cat.h"

namespace berth::controllers {

std::string StatefulPodName(const std::string& set, int32_t ordinal) { return absl::StrCat(set, "-", ordinal); }

std::string StatefulClaimName(const std::string& claim, const std::string& set, int32_t ordinal) {
  return absl::StrCat(claim, "-", set, "-", ordinal);
}

StatefulSetAction NextStatefulSetAction(int32_t replicas, bool parallel, const std::map<int32_t, StatefulPod>& pods,
                                        const std::string& update_revision, int32_t partition) {
  StatefulSetAction action;
  // Anything terminating blocks an ordered set until it is gone.
  bool any_terminating = false, all_ready = true;
  for (const auto& [ordinal, pod] : pods) {
    any_terminating = any_terminating || pod.terminating;
    if (!pod.running_and_ready) all_ready = false;
  }
  // Create: the missing ordinals below replicas; ordered, only the lowest
  // and only when every existing pod is up.
  for (int32_t i = 0; i < replicas; ++i) {
    if (pods.contains(i)) continue;
    if (!parallel && (any_terminating || !all_ready)) break;
    action.create.push_back(i);
    if (!parallel) break;
  }
  if (!action.create.empty()) return action;
  // Scale down: ordinals >= replicas, highest first.
  for (auto it = pods.rbegin(); it != pods.rend(); ++it) {
    if (it->first < replicas || it->second.terminating) continue;
    if (!parallel) {
      bool others_ready = true;
      for (const auto& [ordinal, pod] : pods) {
        if (ordinal != it->first && (!pod.running_and_ready || pod.terminating)) others_ready = false;
      }
      if (!others_ready) return action;
      action.remove.push_back(it->first);
      return action;
    }
    action.remove.push_back(it->first);
  }
  if (!action.remove.empty() || any_terminating) return action;
  // Rolling update: the highest out-of-date ordinal at or above the
  // partition, once all pods are ready (both policies update one at a time).
  if (!all_ready) return action;
  for (auto it = pods.rbegin(); it != pods.rend(); ++it) {
    if (it->first < partition || it->first >= replicas) continue;
    if (it->second.revision != update_revision) {
      action.remove.push_back(it->first);
      break;
    }
  }
  return action;
}

}  // namespace berth::controllers
