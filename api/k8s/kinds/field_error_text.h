// FieldErrors as the text kube-apiserver puts in a Status message:
// "<field>: <message>" ("spec.replicas: Invalid value: -1: must be ...").
#pragma once

#include <string>
#include <vector>

#include "api/k8s/kinds/kind_registry.h"

namespace berth::k8s::kinds {

inline std::vector<std::string> FieldErrorTexts(const std::vector<FieldError>& errs) {
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.field.empty() ? e.message : e.field + ": " + e.message);
  return out;
}

}  // namespace berth::k8s::kinds
