// The Node authorizer's view of the objects, read from the pods' storage:
// which node a pod is bound to, and whether a pod on a node references a
// secret, config map, claim or service account.
#pragma once

#include "controlplane/apiserver/authorization.h"
#include "controlplane/apiserver/resource_storage.h"

namespace berth::apiserver {

class StoreNodeGraph : public NodeGraph {
 public:
  explicit StoreNodeGraph(ResourceStorage* pods) : pods_(pods) {}
  std::optional<std::string> PodNodeName(const std::string& ns, const std::string& name) override;
  bool PodOnNodeReferences(const std::string& node, const std::string& resource, const std::string& ns,
                           const std::string& name) override;

 private:
  ResourceStorage* pods_;
};

// Whether the pod object references the named object of `resource`.
bool PodReferences(const nlohmann::json& pod, const std::string& resource, const std::string& name);

}  // namespace berth::apiserver
