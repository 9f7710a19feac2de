// Claiming (kube's ControllerRefManager): of the candidate objects in an
// owner's namespace, the ones it controls once orphans matching its selector
// are adopted and owned ones that stopped matching are released; both are
// merge patches of metadata.ownerReferences guarded by the object's
// resourceVersion, so a concurrent change makes the sync retry. A deleting
// owner adopts and releases nothing.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/client/api_client.h"
#include "nlohmann/json.hpp"

namespace berth::controllers {

struct ClaimOwner {
  const nlohmann::json* object = nullptr;  // the owner, with metadata.uid and spec.selector
  std::string api_version;                 // "apps/v1"
  std::string kind;                        // "ReplicaSet"
};

// `ref` is the candidates' resource; `adoptable` adds conditions for an
// orphan (an active pod, an object not being deleted). An InvalidArgument
// error means the owner's spec.selector is bad.
absl::StatusOr<std::vector<nlohmann::json>> ClaimObjects(client::ApiClient* client, const client::ResourceRef& ref,
                                                         const ClaimOwner& owner,
                                                         std::vector<nlohmann::json> candidates,
                                                         const std::function<bool(const nlohmann::json&)>& adoptable);

// Writes `status` to `obj`'s status subresource unless it is what `obj`
// already has. Objects from a list carry no kind: `api_version` and `kind`
// are set on the write.
absl::Status UpdateStatusIfChanged(client::ApiClient* client, const client::ResourceRef& ref, const nlohmann::json& obj,
                                   const std::string& api_version, const std::string& kind, nlohmann::json status);

}  // namespace berth::controllers
