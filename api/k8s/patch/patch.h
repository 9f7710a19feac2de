// PATCH and server-side apply over objects in their JSON wire shape, as
// kube-apiserver does them. The kind's schema (api/k8s/kinds) supplies the
// strategic-merge keys and list types.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "api/k8s/kinds/kind_registry.h"

namespace berth::k8s::patch {

// application/json-patch+json (RFC 6902). A failed "test" or a bad path is
// InvalidArgument naming the operation index and path.
absl::StatusOr<nlohmann::json> ApplyJsonPatch(const nlohmann::json& doc,
                                              const nlohmann::json& patch);

// application/merge-patch+json (RFC 7386).
absl::StatusOr<nlohmann::json> ApplyMergePatch(const nlohmann::json& doc,
                                               const nlohmann::json& patch);

// application/strategic-merge-patch+json: lists with a patch merge key
// (containers by name, ports by containerPort, ...) merged by key, the
// $patch / $retainKeys / $setElementOrder / $deleteFromPrimitiveList directives.
absl::StatusOr<nlohmann::json> ApplyStrategicMergePatch(const nlohmann::json& doc,
                                                        const nlohmann::json& patch,
                                                        const kinds::KindInfo& kind);

// One field another manager owns that the applied config sets differently.
struct ApplyConflict {
  std::string manager;  // "kubectl-client-side-apply"
  std::string field;    // ".spec.replicas"
};

struct ApplyResult {
  nlohmann::json object;               // the merged object, managedFields updated
  std::vector<ApplyConflict> conflicts;  // non-empty: nothing applied (unless force)
};

// application/apply-patch+yaml (server-side apply). `live` is null when the
// object does not exist yet. With force, conflicting fields change owner.
absl::StatusOr<ApplyResult> ServerSideApply(const nlohmann::json& live,
                                            const nlohmann::json& applied,
                                            std::string_view field_manager, bool force,
                                            const kinds::KindInfo& kind);

// After a non-apply write (create, update, patch): records `field_manager`
// (operation "Update") as the owner of the fields it changed in managedFields.
void RecordUpdateManager(const nlohmann::json* old_obj, nlohmann::json& new_obj,
                         std::string_view field_manager, const kinds::KindInfo& kind);

}  // namespace berth::k8s::patch
