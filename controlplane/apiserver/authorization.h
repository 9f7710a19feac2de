// Who may do what: system:masters may do everything; a node
// (system:node:NAME in system:nodes) gets what the Node authorizer and the
// system:node role give a kubelet: read what its pods need, write only its
// own Node, its own Lease and the status of pods bound to it; every
// authenticated user may read discovery, health and version. Everything else
// is denied, with the reason.
#pragma once

#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "controlplane/apiserver/authentication.h"

namespace berth::apiserver {

struct Attributes {
  UserInfo user;
  std::string verb;  // resource verbs, or "get"/"post"/... for paths
  bool resource_request = false;
  std::string group, resource, subresource, ns, name;
  std::string path;  // non-resource requests
};

// What the Node authorizer asks about the objects (answered from the store).
class NodeGraph {
 public:
  virtual ~NodeGraph() = default;
  // The pod's spec.nodeName ("" when unbound); nullopt when there is no such pod.
  virtual std::optional<std::string> PodNodeName(const std::string& ns, const std::string& name) = 0;
  // Whether a pod bound to `node` references the object (resource "secrets",
  // "configmaps", "persistentvolumeclaims", "serviceaccounts").
  virtual bool PodOnNodeReferences(const std::string& node, const std::string& resource,
                                   const std::string& ns, const std::string& name) = 0;
};

struct Decision {
  bool allowed = false;
  std::string reason;  // why not, for the 403 message
};

class Authorizer {
 public:
  explicit Authorizer(NodeGraph* graph) : graph_(graph) {}
  Decision Authorize(const Attributes& a) const;

  // "system:node:NAME" in system:nodes -> NAME.
  static std::optional<std::string> NodeName(const UserInfo& user);

 private:
  Decision AuthorizeNode(const std::string& node, const Attributes& a) const;
  NodeGraph* graph_;
};

}  // namespace berth::apiserver
