#include "controlplane/apiserver/authorization.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace berth::apiserver {

namespace {

bool IsRead(absl::string_view verb) { return verb == "get" || verb == "list" || verb == "watch"; }

bool IsDiscoveryPath(absl::string_view path) {
  for (absl::string_view p : {"/api", "/apis", "/version", "/healthz", "/livez", "/readyz", "/openapi"}) {
    if (path == p || absl::StartsWith(path, absl::StrCat(p, "/"))) return true;
  }
  return false;
}

Decision Allow() { return {true, ""}; }
Decision Deny(std::string reason) { return {false, std::move(reason)}; }

}  // namespace

std::optional<std::string> Authorizer::NodeName(const UserInfo& user) {
  constexpr absl::string_view kPrefix = "system:node:";
  if (!absl::StartsWith(user.name, kPrefix) || !user.InGroup("system:nodes")) return std::nullopt;
  std::string name = user.name.substr(kPrefix.size());
  if (name.empty()) return std::nullopt;
  return name;
}

Decision Authorizer::Authorize(const Attributes& a) const {
  if (a.user.InGroup("system:masters")) return Allow();
  if (!a.resource_request) {
    if ((a.verb == "get" || a.verb == "head") && IsDiscoveryPath(a.path) &&
        (!a.user.anonymous() || a.path == "/healthz" || a.path == "/livez" || a.path == "/readyz" ||
         a.path == "/version" || absl::StartsWith(a.path, "/healthz/") ||
         absl::StartsWith(a.path, "/livez/") || absl::StartsWith(a.path, "/readyz/"))) {
      return Allow();
    }
    return Deny("");
  }
  // Every authenticated user may ask what it itself may do.
  if (!a.user.anonymous() && a.group == "authorization.k8s.io" &&
      (a.resource == "selfsubjectaccessreviews" || a.resource == "selfsubjectrulesreviews") &&
      a.verb == "create") {
    return Allow();
  }
  // kubeadm's bootstrap-signer-clusterinfo role: anyone, a joining node
  // before it has credentials included, may read kube-public/cluster-info
  // (its content is public; its signatures prove who wrote it).
  if (a.group.empty() && a.resource == "configmaps" && a.subresource.empty() && a.ns == "kube-public" &&
      a.name == "cluster-info" && a.verb == "get") {
    return Allow();
  }
  if (auto node = NodeName(a.user)) return AuthorizeNode(*node, a);
  return Deny("");
}

Decision Authorizer::AuthorizeNode(const std::string& node, const Attributes& a) const {
  const std::string& r = a.resource;
  const std::string& g = a.group;
  std::string why = absl::StrCat("node '", node, "' ");
  // Nodes: read all; write only its own (and its status).
  if (g.empty() && r == "nodes") {
    if (IsRead(a.verb) && a.subresource.empty()) return Allow();
    if (a.verb == "create" && a.subresource.empty()) return Allow();  // name checked on the object
    if (a.name == node && (a.verb == "update" || a.verb == "patch" || a.verb == "delete" ||
                           a.verb == "get") &&
        (a.subresource.empty() || a.subresource == "status")) {
      return Allow();
    }
    return Deny(absl::StrCat(why, "cannot modify node '", a.name, "'"));
  }
  // Its own Lease in kube-node-lease.
  if (g == "coordination.k8s.io" && r == "leases") {
    if (a.ns == "kube-node-lease" && (a.verb == "create" || a.name == node) && a.verb != "list" &&
        a.verb != "watch" && a.verb != "deletecollection") {
      return Allow();
    }
    return Deny(absl::StrCat(why, "can only access its own lease in the kube-node-lease namespace"));
  }
  if (g.empty() && r == "pods") {
    if (IsRead(a.verb) && a.subresource.empty()) return Allow();
    if (a.verb == "create" && a.subresource.empty()) return Allow();  // mirror pods
    if ((a.subresource == "status" && (a.verb == "update" || a.verb == "patch" || a.verb == "get")) ||
        (a.subresource.empty() && a.verb == "delete") ||
        (a.subresource == "eviction" && a.verb == "create")) {
      std::optional<std::string> bound = graph_ ? graph_->PodNodeName(a.ns, a.name) : std::nullopt;
      if (!bound) return Deny(absl::StrCat(why, "cannot find pod \"", a.ns, "/", a.name, "\""));
      if (*bound == node) return Allow();
      return Deny(absl::StrCat(why, "can only modify pods bound to it; pod \"", a.ns, "/", a.name,
                               "\" is bound to \"", *bound, "\""));
    }
    return Deny(absl::StrCat(why, "may not ", a.verb, " pods", a.subresource.empty() ? "" : "/",
                             a.subresource));
  }
  if ((g.empty() || g == "events.k8s.io") && r == "events" &&
      (a.verb == "create" || a.verb == "update" || a.verb == "patch")) {
    return Allow();
  }
  if (IsRead(a.verb) && ((g.empty() && (r == "services" || r == "endpoints")) ||
                         (g == "discovery.k8s.io" && r == "endpointslices"))) {
    return Allow();
  }
  if (g == "certificates.k8s.io" && r == "certificatesigningrequests" &&
      (a.verb == "create" || IsRead(a.verb))) {
    return Allow();
  }
  if (g.empty() && a.verb == "get" && !a.name.empty() &&
      (r == "secrets" || r == "configmaps" || r == "persistentvolumeclaims" ||
       r == "serviceaccounts")) {
    if (graph_ && graph_->PodOnNodeReferences(node, r, a.ns, a.name)) return Allow();
    return Deny(absl::StrCat("no relationship found between node '", node, "' and this object"));
  }
  return Deny("");
}

}  // namespace berth::apiserver
