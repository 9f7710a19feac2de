#include "agent/devices/extended_resources.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/k8s/validation.h"

namespace berth::agent::devices {

std::string ExtendedResourceNameError(const std::string& name) {
  if (name.empty()) return "must not be empty";
  size_t slash = name.find('/');
  if (slash == std::string::npos) return "has no domain prefix (a native resource such as cpu or memory)";
  std::string domain = name.substr(0, slash);
  if (domain == "kubernetes.io" || absl::EndsWith(domain, ".kubernetes.io")) {
    return "is in the kubernetes.io namespace (native resources)";
  }
  if (absl::StartsWith(name, "requests.")) return "must not start with \"requests.\"";
  std::vector<std::string> errors = k8s::IsQualifiedName("requests." + name);
  if (!errors.empty()) return absl::StrJoin(errors, "; ");
  return "";
}

std::map<std::string, int64_t> ExtendedResourceLimits(const k8s::Container& container) {
  std::map<std::string, int64_t> out;
  for (const auto& [name, quantity] : container.resources.limits) {
    if (!IsExtendedResourceName(name)) continue;
    int64_t n = quantity.Value();
    if (n > 0) out[name] = n;
  }
  return out;
}

}  // namespace berth::agent::devices
