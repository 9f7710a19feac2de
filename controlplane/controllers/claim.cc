#include "controlplane/controllers/claim.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controlplane/controllers/object_refs.h"
#include "controlplane/scheduler/label_selector.h"

namespace berth::controllers {

using nlohmann::json;

namespace {

// Sets obj's ownerReferences to `refs` (a merge patch replaces the list).
absl::StatusOr<json> PatchOwnerRefs(client::ApiClient* client, const client::ResourceRef& ref, const json& obj,
                                    json refs) {
  json patch = {{"metadata",
                 {{"ownerReferences", std::move(refs)}, {"resourceVersion", ResourceVersionOf(obj)}}}};
  return client->Patch(ref, NamespaceOf(obj), NameOf(obj), client::PatchType::kMerge, patch);
}

}  // namespace

absl::StatusOr<std::vector<json>> ClaimObjects(client::ApiClient* client, const client::ResourceRef& ref,
                                               const ClaimOwner& owner, std::vector<json> candidates,
                                               const std::function<bool(const json&)>& adoptable) {
  const json& o = *owner.object;
  ASSIGN_OR_RETURN(scheduler::LabelSelector selector,
                   scheduler::LabelSelector::FromJson(o["spec"].value("selector", json()), "spec.selector"));
  const std::string uid = UidOf(o);
  const bool deleting = IsBeingDeleted(o);
  std::vector<json> owned;
  for (json& obj : candidates) {
    std::optional<json> controller = ControllerRefOf(obj);
    bool matches = selector.Matches(LabelsOf(obj));
    if (controller) {
      if (controller->value("uid", "") != uid) continue;
      if (matches || deleting) {
        owned.push_back(std::move(obj));
        continue;
      }
      json refs = json::array();
      for (const json& r : obj["metadata"]["ownerReferences"]) {
        if (r.value("uid", "") != uid) refs.push_back(r);
      }
      auto released = PatchOwnerRefs(client, ref, obj, std::move(refs));
      if (!released.ok() && !absl::IsNotFound(released.status())) {
        return absl::Status(released.status().code(),
                            absl::StrCat("release ", ref.resource, " ", KeyOf(obj), " from ", owner.kind, " ",
                                         KeyOf(o), ": ", released.status().message()));
      }
      continue;
    }
    if (!matches || deleting || IsBeingDeleted(obj) || !adoptable(obj)) continue;
    json refs = obj["metadata"].value("ownerReferences", json::array());
    refs.push_back(NewControllerRef(o, owner.api_version, owner.kind));
    auto adopted = PatchOwnerRefs(client, ref, obj, std::move(refs));
    if (!adopted.ok()) {
      if (absl::IsNotFound(adopted.status())) continue;
      return absl::Status(adopted.status().code(), absl::StrCat("adopt ", ref.resource, " ", KeyOf(obj), " into ",
                                                                owner.kind, " ", KeyOf(o), ": ",
                                                                adopted.status().message()));
    }
    owned.push_back(std::move(*adopted));
  }
  return owned;
}

absl::Status UpdateStatusIfChanged(client::ApiClient* client, const client::ResourceRef& ref, const json& obj,
                                   const std::string& api_version, const std::string& kind, json status) {
  if (status == obj.value("status", json::object())) return absl::OkStatus();
  json updated = obj;
  updated["apiVersion"] = api_version;
  updated["kind"] = kind;
  updated["status"] = std::move(status);
  auto written = client->Update(ref, NamespaceOf(obj), updated, "status");
  if (!written.ok()) {
    return absl::Status(written.status().code(), absl::StrCat("update status of ", kind, " ", KeyOf(obj), ": ",
                                                              written.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace berth::controllers
