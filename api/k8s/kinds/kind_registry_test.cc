#include "api/k8s/kinds/kind_registry.h"

#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace berth::k8s::kinds {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(KindRegistry, EveryIssueKindIsServedOnce) {
  std::set<std::string> seen;
  for (const auto& k : AllKinds()) {
    std::string key = k.group + "/" + k.version + "/" + k.resource;
    EXPECT_TRUE(seen.insert(key).second) << key;
    EXPECT_EQ(k.list_kind, k.kind + "List");
    EXPECT_TRUE(k.set_defaults && k.validate && k.unknown_fields && k.row_cells && k.field_value) << key;
    int name_columns = 0;
    for (const auto& c : k.columns) name_columns += c.format == "name";
    EXPECT_EQ(name_columns, 1) << key;
  }
  for (const char* r : {"/v1/namespaces", "/v1/pods", "/v1/nodes", "/v1/services", "/v1/endpoints",
                        "/v1/configmaps", "/v1/secrets", "/v1/events", "/v1/serviceaccounts",
                        "apps/v1/deployments", "apps/v1/replicasets", "apps/v1/daemonsets",
                        "apps/v1/statefulsets", "batch/v1/jobs", "coordination.k8s.io/v1/leases",
                        "discovery.k8s.io/v1/endpointslices", "events.k8s.io/v1/events"}) {
    EXPECT_TRUE(seen.count(r)) << r;
  }
}

TEST(KindRegistry, DiscoveryDataMatchesKubeApiserver) {
  const KindInfo* pods = FindByResource("", "v1", "pods");
  ASSERT_NE(pods, nullptr);
  EXPECT_EQ(pods->kind, "Pod");
  EXPECT_EQ(pods->singular, "pod");
  EXPECT_TRUE(pods->namespaced);
  EXPECT_THAT(pods->short_names, ElementsAre("po"));
  EXPECT_THAT(pods->categories, ElementsAre("all"));
  for (const char* s : {"status", "binding", "log", "exec", "attach", "portforward"}) {
    EXPECT_THAT(pods->subresources, Contains(s));
  }
  const KindInfo* nodes = FindByKind("", "v1", "Node");
  ASSERT_NE(nodes, nullptr);
  EXPECT_FALSE(nodes->namespaced);
  EXPECT_THAT(nodes->short_names, ElementsAre("no"));
  EXPECT_THAT(nodes->categories, IsEmpty());
  const KindInfo* deploy = FindByResource("apps", "v1", "deployments");
  ASSERT_NE(deploy, nullptr);
  EXPECT_THAT(deploy->short_names, ElementsAre("deploy"));
  EXPECT_THAT(deploy->subresources, ElementsAre("status", "scale"));
  EXPECT_FALSE(FindByResource("", "v1", "namespaces")->namespaced);
  EXPECT_THAT(FindByResource("events.k8s.io", "v1", "events")->short_names, ElementsAre("ev"));
  // `kubectl get all`: exactly these served kinds are in the "all" category.
  std::set<std::string> all;
  for (const auto& k : AllKinds()) {
    for (const auto& c : k.categories) {
      if (c == "all") all.insert(k.resource);
    }
  }
  EXPECT_EQ(all, (std::set<std::string>{"pods", "services", "deployments", "replicasets",
                                        "daemonsets", "statefulsets", "jobs"}));
  EXPECT_EQ(FindByResource("", "v1", "widgets"), nullptr);
  EXPECT_EQ(FindByKind("apps", "v1", "Pod"), nullptr);
}

TEST(KindRegistry, MetadataNameRulesPerKind) {
  nlohmann::json svc = {{"metadata", {{"name", "1abc"}, {"namespace", "default"}}},
                        {"spec", {{"ports", {{{"port", 80}, {"protocol", "TCP"}}}}}}};
  auto errs = FindByResource("", "v1", "services")->validate(svc, nullptr);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].field, "metadata.name");
  EXPECT_EQ(errs[0].type, "FieldValueInvalid");
  EXPECT_THAT(errs[0].message, ::testing::HasSubstr("a DNS-1035 label must consist of"));
  // A name that starts with a digit is a fine DNS-1123 subdomain for a ConfigMap.
  nlohmann::json cm = {{"metadata", {{"name", "1abc.x"}, {"namespace", "default"}}}};
  EXPECT_THAT(FindByResource("", "v1", "configmaps")->validate(cm, nullptr), IsEmpty());
  // Namespaces are DNS-1123 labels: no dots.
  nlohmann::json ns = {{"metadata", {{"name", "a.b"}}}};
  errs = FindByResource("", "v1", "namespaces")->validate(ns, nullptr);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0].message, ::testing::HasSubstr("RFC 1123 label"));
}

TEST(KindRegistry, NameAndAgeColumns) {
  const KindInfo* cm = FindByResource("", "v1", "configmaps");
  EXPECT_EQ(cm->columns.front().name, "Name");
  EXPECT_EQ(cm->columns.back().name, "Age");
  auto cells = cm->row_cells({{"metadata", {{"name", "x"}}}});
  ASSERT_EQ(cells.size(), cm->columns.size());
  EXPECT_EQ(cells.front(), "x");
  EXPECT_EQ(cells.back(), "<unknown>");
}

}  // namespace
}  // namespace berth::k8s::kinds
