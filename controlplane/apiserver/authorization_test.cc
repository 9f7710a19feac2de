#include "controlplane/apiserver/authorization.h"

#include <gtest/gtest.h>

namespace berth::apiserver {
namespace {

class FakeGraph : public NodeGraph {
 public:
  std::optional<std::string> PodNodeName(const std::string& ns, const std::string& name) override {
    if (ns == "default" && name == "on-n1") return "n1";
    if (ns == "default" && name == "on-n2") return "n2";
    return std::nullopt;
  }
  bool PodOnNodeReferences(const std::string& node, const std::string& resource, const std::string& ns,
                           const std::string& name) override {
    return node == "n1" && resource == "secrets" && ns == "default" && name == "s1";
  }
};

UserInfo User(const std::string& name, std::vector<std::string> groups) {
  UserInfo u;
  u.name = name;
  u.groups = std::move(groups);
  u.groups.push_back("system:authenticated");
  return u;
}

Attributes Res(const UserInfo& u, const std::string& verb, const std::string& group, const std::string& resource,
               const std::string& ns, const std::string& name, const std::string& sub = "") {
  Attributes a;
  a.user = u;
  a.verb = verb;
  a.resource_request = true;
  a.group = group;
  a.resource = resource;
  a.ns = ns;
  a.name = name;
  a.subresource = sub;
  return a;
}

TEST(AuthorizerTest, MastersMayDoEverything) {
  FakeGraph graph;
  Authorizer authz(&graph);
  auto admin = User("admin", {"system:masters"});
  EXPECT_TRUE(authz.Authorize(Res(admin, "delete", "apps", "deployments", "x", "y")).allowed);
  auto bob = User("bob", {});
  EXPECT_FALSE(authz.Authorize(Res(bob, "get", "", "pods", "default", "p")).allowed);
}

TEST(AuthorizerTest, NodeRules) {
  FakeGraph graph;
  Authorizer authz(&graph);
  auto n1 = User("system:node:n1", {"system:nodes"});
  EXPECT_EQ(Authorizer::NodeName(n1).value_or(""), "n1");
  EXPECT_FALSE(Authorizer::NodeName(User("system:node:n1", {})).has_value());
  // Its own Node and its status; not another node's.
  EXPECT_TRUE(authz.Authorize(Res(n1, "update", "", "nodes", "", "n1", "status")).allowed);
  EXPECT_TRUE(authz.Authorize(Res(n1, "patch", "", "nodes", "", "n1")).allowed);
  EXPECT_FALSE(authz.Authorize(Res(n1, "update", "", "nodes", "", "n2", "status")).allowed);
  EXPECT_TRUE(authz.Authorize(Res(n1, "list", "", "nodes", "", "")).allowed);
  // Its own lease only.
  EXPECT_TRUE(authz.Authorize(Res(n1, "update", "coordination.k8s.io", "leases", "kube-node-lease", "n1")).allowed);
  EXPECT_FALSE(authz.Authorize(Res(n1, "update", "coordination.k8s.io", "leases", "kube-node-lease", "n2")).allowed);
  EXPECT_FALSE(authz.Authorize(Res(n1, "update", "coordination.k8s.io", "leases", "default", "n1")).allowed);
  // Status of pods bound to it.
  EXPECT_TRUE(authz.Authorize(Res(n1, "patch", "", "pods", "default", "on-n1", "status")).allowed);
  Decision other = authz.Authorize(Res(n1, "patch", "", "pods", "default", "on-n2", "status"));
  EXPECT_FALSE(other.allowed);
  EXPECT_NE(other.reason.find("n2"), std::string::npos) << other.reason;
  EXPECT_FALSE(authz.Authorize(Res(n1, "update", "", "pods", "default", "on-n1")).allowed);
  EXPECT_TRUE(authz.Authorize(Res(n1, "watch", "", "pods", "", "")).allowed);
  // Secrets only when a pod on the node uses them.
  EXPECT_TRUE(authz.Authorize(Res(n1, "get", "", "secrets", "default", "s1")).allowed);
  EXPECT_FALSE(authz.Authorize(Res(n1, "get", "", "secrets", "default", "s2")).allowed);
  EXPECT_FALSE(authz.Authorize(Res(n1, "list", "", "secrets", "default", "")).allowed);
  // Nothing else.
  EXPECT_FALSE(authz.Authorize(Res(n1, "create", "apps", "deployments", "default", "")).allowed);
  EXPECT_FALSE(authz.Authorize(Res(n1, "delete", "", "namespaces", "", "default")).allowed);
}

TEST(AuthorizerTest, PathsAndAnonymous) {
  Authorizer authz(nullptr);
  Attributes a;
  a.user = AnonymousUser();
  a.verb = "get";
  for (const char* path : {"/healthz", "/livez", "/readyz", "/version"}) {
    a.path = path;
    EXPECT_TRUE(authz.Authorize(a).allowed) << path;
  }
  a.path = "/api";
  EXPECT_FALSE(authz.Authorize(a).allowed);
  a.user = User("bob", {});
  EXPECT_TRUE(authz.Authorize(a).allowed);
  a.path = "/metrics";
  EXPECT_FALSE(authz.Authorize(a).allowed);
  // Anyone authenticated may ask what it may do.
  auto review = Res(User("bob", {}), "create", "authorization.k8s.io", "selfsubjectaccessreviews", "", "");
  EXPECT_TRUE(authz.Authorize(review).allowed);
  review.user = AnonymousUser();
  EXPECT_FALSE(authz.Authorize(review).allowed);
}

TEST(AuthorizerTest, AnyoneMayReadClusterInfoOnly) {
  Authorizer authorizer(nullptr);
  UserInfo anonymous = AnonymousUser();
  EXPECT_TRUE(authorizer.Authorize(Res(anonymous, "get", "", "configmaps", "kube-public", "cluster-info")).allowed);
  EXPECT_FALSE(authorizer.Authorize(Res(anonymous, "update", "", "configmaps", "kube-public", "cluster-info")).allowed);
  EXPECT_FALSE(authorizer.Authorize(Res(anonymous, "list", "", "configmaps", "kube-public", "")).allowed);
  EXPECT_FALSE(authorizer.Authorize(Res(anonymous, "get", "", "configmaps", "kube-system", "cluster-info")).allowed);
  EXPECT_FALSE(authorizer.Authorize(Res(anonymous, "get", "", "secrets", "kube-public", "cluster-info")).allowed);
  UserInfo bootstrapper = User("system:bootstrap:abcdef", {"system:bootstrappers"});
  EXPECT_TRUE(authorizer.Authorize(Res(bootstrapper, "get", "", "configmaps", "kube-public", "cluster-info")).allowed);
}

}  // namespace
}  // namespace berth::apiserver
