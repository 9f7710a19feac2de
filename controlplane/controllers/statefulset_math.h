// The StatefulSet controller's next step (kube's stateful_set_control.go):
// pods named <set>-<ordinal>, created in order 0..n-1 and removed from the
// highest ordinal down; with podManagementPolicy OrderedReady each step waits
// for every other pod to be Running and Ready, with Parallel it does not; a
// RollingUpdate replaces pods at or above the partition from the highest
// ordinal down, one at a time once the others are ready.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace berth::controllers {

struct StatefulPod {
  bool running_and_ready = false;
  bool terminating = false;
  std::string revision;  // controller-revision-hash label
};

struct StatefulSetAction {
  std::vector<int32_t> create;  // ordinals to create now
  std::vector<int32_t> remove;  // ordinals to delete now (scale down or update)
};

// `pods` by ordinal (any ordinal, also >= replicas).
StatefulSetAction NextStatefulSetAction(int32_t replicas, bool parallel, const std::map<int32_t, StatefulPod>& pods,
                                        const std::string& update_revision, int32_t partition = 0);

// "<set>-<ordinal>", and a volumeClaimTemplate's claim "<claim>-<set>-<ordinal>".
std::string StatefulPodName(const std::string& set, int32_t ordinal);
std::string StatefulClaimName(const std::string& claim, const std::string& set, int32_t ordinal);

}  // namespace berth::controllers
