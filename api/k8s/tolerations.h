// core/v1 Toleration.ToleratesTaint, shared by the scheduler's filters and
// the node lifecycle controller's evictions: the effect and the key must
// match (an empty one in the toleration matches any), then operator Exists
// tolerates any value and Equal (or none) needs the same value.
#pragma once

#include <string_view>

#include "api/k8s/pod.h"

namespace berth::k8s {

inline bool ToleratesTaint(const Toleration& toleration, std::string_view key, std::string_view value,
                           std::string_view effect) {
  if (!toleration.effect.empty() && toleration.effect != effect) return false;
  if (!toleration.key.empty() && toleration.key != key) return false;
  if (toleration.operator_ == "Exists") return true;
  return toleration.value == value;
}

}  // namespace berth::k8s
