// Small helpers for reading API objects field by field: a member or null, and
// the InvalidArgument error that names a field ("spec.taints[0].key: Required value").
#pragma once

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace berth::scheduler {

inline absl::Status InvalidField(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// j[name], or null when j is not an object or has no such member.
inline const nlohmann::json& Member(const nlohmann::json& j, const char* name) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(name);
  return it == j.end() ? kNull : *it;
}

}  // namespace berth::scheduler
