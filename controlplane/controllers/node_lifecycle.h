// The node lifecycle controller's decisions (kube-controller-manager's
// nodelifecycle): a node whose agent stops renewing its Lease (and posting
// status) for longer than the grace period gets Ready=Unknown; Ready False
// or Unknown put the not-ready / unreachable NoExecute taints on it; pods on
// a tainted node are evicted when they do not tolerate the taint, or once
// their tolerationSeconds have passed since the taint was added (admission
// gives every pod 300 s for these two taints unless it says otherwise).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace berth::controllers {

// kube's --node-monitor-grace-period default.
inline constexpr absl::Duration kNodeMonitorGracePeriod = absl::Seconds(50);

// Ready as the controller records it: the reported value while the node is
// heard from (its Lease renewed, or its status posted, within `grace`),
// "Unknown" otherwise.
std::string EffectiveReady(const std::string& reported_ready, absl::Time last_heard, absl::Time now,
                           absl::Duration grace = kNodeMonitorGracePeriod);

struct Taint {
  std::string key;
  std::string value;
  std::string effect;  // NoSchedule, PreferNoSchedule, NoExecute
  std::optional<absl::Time> time_added;
};

// The NoExecute taint for a Ready value: node.kubernetes.io/not-ready for
// "False", node.kubernetes.io/unreachable for "Unknown", none for "True".
std::optional<Taint> ReadinessTaint(const std::string& ready, absl::Time now);

// When a pod with `tolerations` (its spec.tolerations JSON) must leave a node
// with `taints`: nullopt when it tolerates every NoExecute taint forever;
// else the earliest time (a taint it does not tolerate: the taint's time).
// Errors name the bad toleration field.
absl::StatusOr<std::optional<absl::Time>> EvictionTime(const nlohmann::json& tolerations,
                                                       const std::vector<Taint>& taints);

}  // namespace berth::controllers
