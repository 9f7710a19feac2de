#include "controlplane/controllers/garbage_collector_controller.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "controlplane/controllers/garbage_collector.h"
#include "controlplane/controllers/object_refs.h"

namespace berth::controllers {

using nlohmann::json;

namespace {

bool HasOwners(const json& obj) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return false;
  auto refs = meta->find("ownerReferences");
  return refs != meta->end() && refs->is_array() && !refs->empty();
}

}  // namespace

GarbageCollectorController::GarbageCollectorController(client::ApiClient* client, std::vector<Kind> kinds)
    : client_(client), kinds_(std::move(kinds)) {
  for (size_t i = 0; i < kinds_.size(); ++i) {
    client::InformerHandlers handlers;
    handlers.on_add = [this, i](const json& obj) { OnObject(i, obj); };
    handlers.on_update = [this, i](const json& old_obj, const json& obj) {
      if (old_obj.value("/metadata/ownerReferences"_json_pointer, json()) !=
          obj.value("/metadata/ownerReferences"_json_pointer, json())) {
        OnObject(i, obj);
      }
    };
    handlers.on_delete = [this](const json& obj) { OnOwnerDeleted(obj); };
    kinds_[i].informer->AddHandlers(std::move(handlers));
  }
}

void GarbageCollectorController::OnObject(size_t kind, const json& obj) {
  if (HasOwners(obj)) queue_.Add(absl::StrCat(kinds_[kind].ref.resource, "|", KeyOf(obj)));
}

void GarbageCollectorController::OnOwnerDeleted(const json& owner) {
  const std::string uid = UidOf(owner);
  const std::string ns = NamespaceOf(owner);
  for (const Kind& k : kinds_) {
    for (const json& obj : InNamespace(k.informer->List(), ns)) {
      for (const json& ref : obj["metadata"].value("ownerReferences", json::array())) {
        if (ref.value("uid", "") == uid) queue_.Add(absl::StrCat(k.ref.resource, "|", KeyOf(obj)));
      }
    }
  }
}

absl::StatusOr<bool> GarbageCollectorController::OwnerExists(const std::string& ns, const json& ref) {
  const std::string api_version = ref.value("apiVersion", "");
  const std::string kind = ref.value("kind", "");
  const std::string name = ref.value("name", "");
  const std::string uid = ref.value("uid", "");
  for (const Kind& k : kinds_) {
    if (k.api_version != api_version || k.kind != kind) continue;
    if (std::optional<json> cached = k.informer->Get(ns, name); cached && UidOf(*cached) == uid) return true;
    // Not in the cache: it may be newer than the informer; ask the API.
    auto live = client_->Get(k.ref, ns, name);
    if (live.ok()) return UidOf(*live) == uid;
    if (absl::IsNotFound(live.status())) return false;
    return live.status();
  }
  return true;  // a kind this collector does not know: never assume it gone
}

absl::Status GarbageCollectorController::Sync(const std::string& key) {
  size_t bar = key.find('|');
  if (bar == std::string::npos) return absl::OkStatus();
  const std::string resource = key.substr(0, bar);
  auto [ns, name] = SplitKey(key.substr(bar + 1));
  const Kind* kind = nullptr;
  for (const Kind& k : kinds_) {
    if (k.ref.resource == resource) kind = &k;
  }
  if (kind == nullptr) return absl::OkStatus();
  std::optional<json> obj = kind->informer->Get(ns, name);
  if (!obj || !HasOwners(*obj) || IsBeingDeleted(*obj)) return absl::OkStatus();
  const json& refs = (*obj)["metadata"]["ownerReferences"];
  std::map<std::string, OwnerState> owners;
  for (const json& ref : refs) {
    ASSIGN_OR_RETURN(bool exists, OwnerExists(ns, ref));
    owners[ref.value("uid", "")] = OwnerState{exists, false, false, false};
  }
  auto action = DecideDependent(refs, owners);
  if (!action.ok()) {
    BERTH_LOG(Warning) << "garbage collector: bad ownerReferences" << Kv("object", key)
                       << Kv("error", action.status().ToString());
    return absl::OkStatus();
  }
  switch (action->kind) {
    case DependentAction::Kind::kNothing:
      return absl::OkStatus();
    case DependentAction::Kind::kDelete:
    case DependentAction::Kind::kDeleteForeground: {
      client::DeleteOptions options;
      options.precondition_uid = UidOf(*obj);
      options.propagation_policy = "Background";
      auto deleted = client_->Delete(kind->ref, ns, name, options);
      if (!deleted.ok() && !absl::IsNotFound(deleted.status())) {
        return absl::Status(deleted.status().code(), absl::StrCat("garbage collector: delete ", resource, " ",
                                                                  KeyOf(ns, name), ": ", deleted.status().message()));
      }
      BERTH_LOG(Info) << "garbage collector: deleted an object whose owners are gone" << Kv("resource", resource)
                      << Kv("object", KeyOf(ns, name));
      return absl::OkStatus();
    }
    case DependentAction::Kind::kRemoveReferences: {
      json kept = json::array();
      for (const json& ref : refs) {
        std::string uid = ref.value("uid", "");
        if (std::find(action->remove_owner_uids.begin(), action->remove_owner_uids.end(), uid) ==
            action->remove_owner_uids.end()) {
          kept.push_back(ref);
        }
      }
      json patch = {{"metadata",
                     {{"ownerReferences", kept}, {"resourceVersion", ResourceVersionOf(*obj)}}}};
      auto patched = client_->Patch(kind->ref, ns, name, client::PatchType::kMerge, patch);
      if (!patched.ok() && !absl::IsNotFound(patched.status())) {
        return absl::Status(patched.status().code(), absl::StrCat("garbage collector: drop gone owners of ", resource,
                                                                  " ", KeyOf(ns, name), ": ",
                                                                  patched.status().message()));
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

}  // namespace berth::controllers
