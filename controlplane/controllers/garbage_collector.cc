#include "controlplane/controllers/garbage_collector.h"

#include "absl/strings/str_cat.h"

namespace berth::controllers {

absl::StatusOr<DependentAction> DecideDependent(const nlohmann::json& owner_refs,
                                                const std::map<std::string, OwnerState>& owners) {
  DependentAction action;
  if (owner_refs.is_null()) return action;
  if (!owner_refs.is_array()) return absl::InvalidArgumentError("metadata.ownerReferences: not a list");
  if (owner_refs.empty()) return action;
  size_t gone = 0, foreground = 0;
  std::vector<std::string> orphaning;
  std::vector<std::string> dangling;
  for (size_t i = 0; i < owner_refs.size(); ++i) {
    const nlohmann::json& ref = owner_refs[i];
    if (!ref.is_object() || !ref.contains("uid") || !ref["uid"].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("metadata.ownerReferences[", i, "].uid: missing"));
    }
    std::string uid = ref["uid"].get<std::string>();
    auto it = owners.find(uid);
    if (it == owners.end() || !it->second.exists) {
      ++gone;
      dangling.push_back(uid);
    } else if (it->second.deleting && it->second.orphan) {
      orphaning.push_back(uid);
    } else if (it->second.deleting && it->second.foreground) {
      ++foreground;
    }
  }
  size_t live = owner_refs.size() - gone - orphaning.size() - foreground;
  // Every owner gone or foreground-deleting: the dependent goes too; in the
  // foreground when an owner waits for it (its own dependents first).
  if (live == 0 && orphaning.empty()) {
    action.kind = foreground > 0 ? DependentAction::Kind::kDeleteForeground : DependentAction::Kind::kDelete;
    return action;
  }
  // Otherwise references to gone or orphaning owners are dropped; a
  // foreground owner with a live co-owner keeps its reference (the
  // dependent stays, and that owner's deletion waits only for blockers).
  std::vector<std::string> remove = dangling;
  remove.insert(remove.end(), orphaning.begin(), orphaning.end());
  if (!remove.empty()) {
    action.kind = DependentAction::Kind::kRemoveReferences;
    action.remove_owner_uids = std::move(remove);
  }
  return action;
}

bool ForegroundOwnerMayGo(const std::string& owner_uid, const std::vector<nlohmann::json>& dependents_refs) {
  for (const auto& refs : dependents_refs) {
    if (!refs.is_array()) continue;
    for (const auto& ref : refs) {
      if (ref.is_object() && ref.value("uid", "") == owner_uid && ref.value("blockOwnerDeletion", false)) return false;
    }
  }
  return true;
}

}  // namespace berth::controllers
