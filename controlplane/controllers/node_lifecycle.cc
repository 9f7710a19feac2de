#include "controlplane/controllers/node_lifecycle.h"

#include "absl/strings/str_cat.h"
#include "api/k8s/tolerations.h"

namespace berth::controllers {

std::string EffectiveReady(const std::string& reported_ready, absl::Time last_heard, absl::Time now,
                           absl::Duration grace) {
  if (now - last_heard > grace) return "Unknown";
  return reported_ready.empty() ? "Unknown" : reported_ready;
}

std::optional<Taint> ReadinessTaint(const std::string& ready, absl::Time now) {
  if (ready == "False") return Taint{"node.kubernetes.io/not-ready", "", "NoExecute", now};
  if (ready == "Unknown") return Taint{"node.kubernetes.io/unreachable", "", "NoExecute", now};
  return std::nullopt;
}

absl::StatusOr<std::optional<absl::Time>> EvictionTime(const nlohmann::json& tolerations,
                                                       const std::vector<Taint>& taints) {
  if (!tolerations.is_null() && !tolerations.is_array()) {
    return absl::InvalidArgumentError("spec.tolerations: not a list");
  }
  std::optional<absl::Time> evict;
  auto earlier = [&](absl::Time t) { evict = evict ? std::min(*evict, t) : t; };
  for (const Taint& taint : taints) {
    if (taint.effect != "NoExecute") continue;
    absl::Time added = taint.time_added.value_or(absl::InfinitePast());
    // The longest time any matching toleration allows (forever wins).
    bool tolerated = false;
    std::optional<absl::Duration> allowed;  // the longest tolerationSeconds
    bool forever = false;
    for (size_t i = 0; tolerations.is_array() && i < tolerations.size(); ++i) {
      const nlohmann::json& t = tolerations[i];
      std::string field = absl::StrCat("spec.tolerations[", i, "]");
      k8s::Toleration toleration{.key = t.value("key", ""), .operator_ = t.value("operator", "Equal"),
                                 .value = t.value("value", ""), .effect = t.value("effect", "")};
      if (toleration.operator_ != "Equal" && toleration.operator_ != "Exists") {
        return absl::InvalidArgumentError(field + ".operator: want Equal or Exists");
      }
      if (toleration.key.empty() && toleration.operator_ != "Exists") {
        return absl::InvalidArgumentError(field + ".key: empty needs operator Exists");
      }
      if (!k8s::ToleratesTaint(toleration, taint.key, taint.value, taint.effect)) continue;
      tolerated = true;
      if (!t.contains("tolerationSeconds") || t["tolerationSeconds"].is_null()) {
        forever = true;
      } else if (!t["tolerationSeconds"].is_number_integer()) {
        return absl::InvalidArgumentError(field + ".tolerationSeconds: not an integer");
      } else {
        absl::Duration d = absl::Seconds(std::max<int64_t>(0, t["tolerationSeconds"].get<int64_t>()));
        allowed = allowed ? std::max(*allowed, d) : d;
      }
    }
    if (!tolerated) {
      earlier(added);
    } else if (!forever) {
      earlier(added + *allowed);
    }
  }
  return evict;
}

}  // namespace berth::controllers
