// RFC 7386 JSON Merge Patch.
#include "api/k8s/patch/patch.h"

namespace berth::k8s::patch {
namespace {

nlohmann::json Merge(nlohmann::json target, const nlohmann::json& patch) {
  if (!patch.is_object()) return patch;
  if (!target.is_object()) target = nlohmann::json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it->is_null()) {
      target.erase(it.key());
    } else {
      auto existing = target.find(it.key());
      target[it.key()] = Merge(existing == target.end() ? nlohmann::json() : std::move(*existing), *it);
    }
  }
  return target;
}

}  // namespace

absl::StatusOr<nlohmann::json> ApplyMergePatch(const nlohmann::json& doc, const nlohmann::json& patch) {
  if (!patch.is_object()) {
    return absl::InvalidArgumentError("merge patch must be a JSON object, got " + std::string(patch.type_name()));
  }
  return Merge(doc, patch);
}

}  // namespace berth::k8s::patch
