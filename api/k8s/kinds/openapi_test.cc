#include "api/k8s/kinds/openapi.h"

#include <cstdlib>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/k8s/kinds/kind_registry.h"
#include "api/k8s/kinds/schema.h"

namespace berth::k8s::kinds {
namespace {

using json = nlohmann::json;

TEST(OpenApiV2, DefinitionsWithGvkAndPatchExtensions) {
  const json& doc = OpenApiV2();
  EXPECT_EQ(doc["swagger"], "2.0");
  const json& defs = doc["definitions"];
  for (const auto& k : AllKinds()) {
    std::string name = DefinitionName(k.group, k.version, k.kind);
    ASSERT_TRUE(defs.contains(name)) << name;
    EXPECT_EQ(defs[name]["x-kubernetes-group-version-kind"][0],
              json({{"group", k.group}, {"version", k.version}, {"kind", k.kind}}));
    EXPECT_TRUE(defs.contains(DefinitionName(k.group, k.version, k.list_kind))) << k.list_kind;
  }
  const json& containers = defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
  EXPECT_EQ(containers["x-kubernetes-patch-merge-key"], "name");
  EXPECT_EQ(containers["x-kubernetes-patch-strategy"], "merge");
  EXPECT_EQ(containers["x-kubernetes-list-type"], "map");
  EXPECT_EQ(containers["items"]["$ref"], "#/definitions/io.k8s.api.core.v1.Container");
  EXPECT_THAT(defs["io.k8s.api.core.v1.PodSpec"]["required"], ::testing::Contains("containers"));
  EXPECT_EQ(defs["io.k8s.api.core.v1.ContainerPort"]["properties"]["containerPort"]["format"], "int32");
  EXPECT_EQ(defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"], "int-or-string");
  // Every $ref resolves.
  std::function<void(const json&)> check = [&](const json& v) {
    if (v.is_object()) {
      if (v.contains("$ref")) {
        std::string ref = v["$ref"].get<std::string>().substr(std::string("#/definitions/").size());
        EXPECT_TRUE(defs.contains(ref)) << ref;
      }
      for (const auto& [k, child] : v.items()) check(child);
    } else if (v.is_array()) {
      for (const auto& child : v) check(child);
    }
  };
  check(doc);
}

TEST(OpenApiV2, PathsAdvertiseTheQueryParametersKubectlChecks) {
  const json& paths = OpenApiV2()["paths"];
  const json& pods = paths["/api/v1/namespaces/{namespace}/pods"];
  EXPECT_EQ(pods["post"]["x-kubernetes-action"], "post");
  EXPECT_EQ(pods["post"]["x-kubernetes-group-version-kind"], json({{"group", ""}, {"kind", "Pod"}, {"version", "v1"}}));
  std::vector<std::string> params;
  for (const auto& p : paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]["parameters"]) {
    params.push_back(p["name"]);
  }
  EXPECT_THAT(params, ::testing::IsSupersetOf({"dryRun", "fieldManager", "fieldValidation", "force"}));
  EXPECT_TRUE(paths.contains("/api/v1/nodes/{name}/status"));
  EXPECT_TRUE(paths.contains("/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}/scale"));
  EXPECT_TRUE(paths.contains("/api/v1/pods"));
  EXPECT_FALSE(paths.contains("/api/v1/nodes/{name}/scale"));
}

TEST(OpenApiV3, IndexAndGroupVersionDocuments) {
  const json& index = OpenApiV3Paths();
  for (const char* gv : {"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/coordination.k8s.io/v1",
                         "apis/discovery.k8s.io/v1", "apis/events.k8s.io/v1"}) {
    ASSERT_TRUE(index["paths"].contains(gv)) << gv;
  }
  std::string hash = OpenApiV3Hash("apps", "v1");
  EXPECT_EQ(index["paths"]["apis/apps/v1"]["serverRelativeURL"], "/openapi/v3/apis/apps/v1?hash=" + hash);
  EXPECT_EQ(hash.size(), 32u);
  EXPECT_NE(hash, OpenApiV3Hash("", "v1"));

  const json& apps = OpenApiV3("apps", "v1");
  EXPECT_EQ(apps["openapi"], "3.0.0");
  const json& schemas = apps["components"]["schemas"];
  EXPECT_TRUE(schemas.contains("io.k8s.api.apps.v1.Deployment"));
  EXPECT_TRUE(schemas.contains("io.k8s.api.core.v1.PodSpec"));  // referenced through the template
  EXPECT_TRUE(schemas.contains("io.k8s.api.autoscaling.v1.Scale"));
  EXPECT_FALSE(schemas.contains("io.k8s.api.core.v1.Node"));     // not referenced by apps/v1
  const json& tmpl = schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["template"];
  EXPECT_EQ(tmpl["allOf"][0]["$ref"], "#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec");
  EXPECT_FALSE(tmpl["description"].get<std::string>().empty());
  EXPECT_TRUE(OpenApiV3("widgets.example.com", "v1").is_null());

  // BERTH_OPENAPI_DUMP=dir writes the documents, for trying kubectl against them.
  if (const char* dir = std::getenv("BERTH_OPENAPI_DUMP")) {
    std::ofstream(std::string(dir) + "/v2.json") << OpenApiV2().dump();
    std::ofstream(std::string(dir) + "/v3.json") << index.dump();
    for (const auto& [gv, entry] : index["paths"].items()) {
      std::string file = gv;
      for (char& c : file) if (c == '/') c = '_';
      size_t slash = gv.find('/');
      std::string rest = gv.substr(slash + 1);
      std::string group = gv.rfind("apis/", 0) == 0 ? rest.substr(0, rest.find('/')) : "";
      std::string version = gv.substr(gv.rfind('/') + 1);
      std::ofstream(std::string(dir) + "/v3_" + file + ".json") << OpenApiV3(group, version).dump();
    }
  }
}

}  // namespace
}  // namespace berth::k8s::kinds
