// The garbage collector's decisions for one dependent (kube's
// garbagecollector): from its metadata.ownerReferences and what is known of
// each owner (gone, or its uid changed; being deleted with the
// foregroundDeletion or orphan finalizer), whether the dependent is deleted
// (in background or foreground), keeps living with some references removed,
// or is left alone; and when a foreground-deleting owner may finally go.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace berth::controllers {

struct OwnerState {
  bool exists = false;        // an object with that name and uid is stored
  bool deleting = false;      // metadata.deletionTimestamp set
  bool foreground = false;    // deleting with the foregroundDeletion finalizer
  bool orphan = false;        // deleting with the orphan finalizer
};

struct DependentAction {
  enum class Kind { kNothing, kDelete, kDeleteForeground, kRemoveReferences } kind = Kind::kNothing;
  std::vector<std::string> remove_owner_uids;  // with kRemoveReferences
};

// `owner_refs` is the dependent's metadata.ownerReferences; `owners` by uid.
// A reference to an owner not in `owners` counts as gone. Errors name the
// bad field.
absl::StatusOr<DependentAction> DecideDependent(const nlohmann::json& owner_refs,
                                                const std::map<std::string, OwnerState>& owners);

// A foreground-deleting owner loses its foregroundDeletion finalizer (and so
// goes) once none of its remaining dependents blocks it: `dependents_refs`
// is each remaining dependent's ownerReferences.
bool ForegroundOwnerMayGo(const std::string& owner_uid, const std::vector<nlohmann::json>& dependents_refs);

}  // namespace berth::controllers
