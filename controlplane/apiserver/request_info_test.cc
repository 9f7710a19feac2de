#include "controlplane/apiserver/request_info.h"

#include <gtest/gtest.h>

namespace berth::apiserver {
namespace {

RequestInfo Parse(const std::string& method, const std::string& target) {
  size_t q = target.find('?');
  QueryParams query = ParseQuery(q == std::string::npos ? "" : target.substr(q + 1));
  return ParseRequestInfo(method, target.substr(0, q), query);
}

TEST(RequestInfoTest, ResourcePaths) {
  auto i = Parse("GET", "/api/v1/namespaces/default/pods/web");
  EXPECT_TRUE(i.is_resource_request);
  EXPECT_EQ(i.verb, "get");
  EXPECT_EQ(i.group, "");
  EXPECT_EQ(i.version, "v1");
  EXPECT_EQ(i.namespace_, "default");
  EXPECT_EQ(i.resource, "pods");
  EXPECT_EQ(i.name, "web");

  i = Parse("GET", "/api/v1/namespaces/default/pods");
  EXPECT_EQ(i.verb, "list");
  i = Parse("GET", "/api/v1/namespaces/default/pods?watch=true");
  EXPECT_EQ(i.verb, "watch");
  i = Parse("GET", "/api/v1/watch/namespaces/default/pods");
  EXPECT_EQ(i.verb, "watch");
  EXPECT_EQ(i.resource, "pods");
  i = Parse("PUT", "/api/v1/namespaces/default/pods/web/status");
  EXPECT_EQ(i.verb, "update");
  EXPECT_EQ(i.subresource, "status");
  i = Parse("DELETE", "/apis/apps/v1/namespaces/ns1/deployments");
  EXPECT_EQ(i.verb, "deletecollection");
  EXPECT_EQ(i.group, "apps");
  i = Parse("PATCH", "/apis/apps/v1/namespaces/ns1/deployments/d/scale");
  EXPECT_EQ(i.verb, "patch");
  EXPECT_EQ(i.subresource, "scale");
  i = Parse("POST", "/api/v1/nodes");
  EXPECT_EQ(i.verb, "create");
  EXPECT_EQ(i.namespace_, "");
  EXPECT_EQ(i.resource, "nodes");
}

TEST(RequestInfoTest, NamespacesThemselves) {
  auto i = Parse("GET", "/api/v1/namespaces/kube-system");
  EXPECT_EQ(i.resource, "namespaces");
  EXPECT_EQ(i.name, "kube-system");
  EXPECT_EQ(i.namespace_, "kube-system");
  EXPECT_EQ(i.verb, "get");
  i = Parse("PUT", "/api/v1/namespaces/ns1/finalize");
  EXPECT_EQ(i.resource, "namespaces");
  EXPECT_EQ(i.subresource, "finalize");
  i = Parse("GET", "/api/v1/namespaces");
  EXPECT_EQ(i.verb, "list");
}

TEST(RequestInfoTest, NonResourceAndQuery) {
  EXPECT_FALSE(Parse("GET", "/healthz").is_resource_request);
  EXPECT_FALSE(Parse("GET", "/api/v1").is_resource_request);
  EXPECT_FALSE(Parse("GET", "/apis/apps/v1").is_resource_request);
  auto q = ParseQuery("labelSelector=app%3Dweb%2Ctier+in+(a)&limit=5&x");
  EXPECT_EQ(QueryValue(q, "labelSelector"), "app=web,tier in (a)");
  EXPECT_EQ(QueryValue(q, "limit"), "5");
  EXPECT_EQ(q.count("x"), 1u);
  EXPECT_EQ(QueryValue(q, "missing"), "");
}

}  // namespace
}  // namespace berth::apiserver
