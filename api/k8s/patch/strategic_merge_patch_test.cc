#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/k8s/patch/patch.h"

namespace berth::k8s::patch {
namespace {

using json = nlohmann::json;

const kinds::KindInfo& Deployments() { return *kinds::FindByResource("apps", "v1", "deployments"); }
const kinds::KindInfo& Pods() { return *kinds::FindByResource("", "v1", "pods"); }

json Deployment() {
  return json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a/x"]},
    "spec": {"replicas": 2, "template": {"spec": {
      "containers": [
        {"name": "app", "image": "nginx:1", "ports": [{"containerPort": 80, "protocol": "TCP"}],
         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
         "args": ["--one"]},
        {"name": "side", "image": "busybox"}],
      "volumes": [{"name": "data", "emptyDir": {}}]}}}})");
}

json Patch(const json& doc, const char* patch, const kinds::KindInfo& kind) {
  auto r = ApplyStrategicMergePatch(doc, json::parse(patch), kind);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : json();
}

TEST(StrategicMergePatch, ContainersMergeByNameOtherListsReplace) {
  json out = Patch(Deployment(), R"({"spec": {"template": {"spec": {"containers": [
      {"name": "app", "image": "nginx:2", "args": ["--two"]}]}}}})", Deployments());
  const json& containers = out["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0]["image"], "nginx:2");
  EXPECT_EQ(containers[0]["ports"].size(), 1u);  // untouched fields kept
  EXPECT_EQ(containers[0]["args"], json::array({"--two"}));  // args is atomic: replaced
  EXPECT_EQ(containers[1]["name"], "side");
  EXPECT_EQ(out["spec"]["replicas"], 2);
}

TEST(StrategicMergePatch, NewElementsAppendAndMergeKeysPerList) {
  json out = Patch(Deployment(), R"({"spec": {"template": {"spec": {"containers": [
      {"name": "app", "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
       "ports": [{"containerPort": 443, "protocol": "TCP"}]},
      {"name": "new", "image": "redis"}]}}}})", Deployments());
  const json& app = out["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(app["env"], json::parse(R"([{"name": "A", "value": "1"}, {"name": "B", "value": "two"},
                                       {"name": "C", "value": "3"}])"));
  EXPECT_EQ(app["ports"].size(), 2u);
  EXPECT_EQ(out["spec"]["template"]["spec"]["containers"][2]["name"], "new");
}

TEST(StrategicMergePatch, Directives) {
  // $patch: delete removes an element by key.
  json out = Patch(Deployment(), R"({"spec": {"template": {"spec": {"containers": [
      {"name": "side", "$patch": "delete"}]}}}})", Deployments());
  EXPECT_EQ(out["spec"]["template"]["spec"]["containers"].size(), 1u);
  // $patch: replace on a list replaces the whole list.
  out = Patch(Deployment(), R"({"spec": {"template": {"spec": {"containers": [
      {"name": "only", "image": "x"}, {"$patch": "replace"}]}}}})", Deployments());
  EXPECT_EQ(out["spec"]["template"]["spec"]["containers"], json::parse(R"([{"name": "only", "image": "x"}])"));
  // $patch: replace on a map replaces that map.
  out = Patch(Deployment(), R"({"metadata": {"labels": {"tier": "x", "$patch": "replace"}}})", Deployments());
  EXPECT_EQ(out["metadata"]["labels"], json::parse(R"({"tier": "x"})"));
  // $retainKeys: a volume switching source keeps only the listed fields.
  out = Patch(Deployment(), R"({"spec": {"template": {"spec": {"volumes": [
      {"name": "data", "hostPath": {"path": "/d"}, "$retainKeys": ["hostPath", "name"]}]}}}})", Deployments());
  EXPECT_EQ(out["spec"]["template"]["spec"]["volumes"][0], json::parse(R"({"name": "data", "hostPath": {"path": "/d"}})"));
  // $deleteFromPrimitiveList and a merge-strategy primitive list (finalizers).
  out = Patch(Deployment(), R"({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a/x"]}})", Deployments());
  EXPECT_EQ(out["metadata"]["finalizers"], json::array());
  out = Patch(Deployment(), R"({"metadata": {"finalizers": ["b/y", "a/x"]}})", Deployments());
  EXPECT_EQ(out["metadata"]["finalizers"], json::array({"a/x", "b/y"}));
  // $setElementOrder orders the merged list.
  out = Patch(Deployment(), R"({"spec": {"template": {"spec": {
      "$setElementOrder/containers": [{"name": "side"}, {"name": "app"}],
      "containers": [{"name": "app", "image": "nginx:3"}]}}}})", Deployments());
  EXPECT_EQ(out["spec"]["template"]["spec"]["containers"][0]["name"], "side");
  EXPECT_EQ(out["spec"]["template"]["spec"]["containers"][1]["image"], "nginx:3");
  // null deletes a field.
  out = Patch(Deployment(), R"({"spec": {"replicas": null}})", Deployments());
  EXPECT_FALSE(out["spec"].contains("replicas"));
}

TEST(StrategicMergePatch, PodVolumeMountsByMountPathAndErrors) {
  json pod = json::parse(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
    "spec": {"containers": [{"name": "a", "image": "x",
      "volumeMounts": [{"name": "v1", "mountPath": "/one"}, {"name": "v2", "mountPath": "/two"}]}]}})");
  json out = Patch(pod, R"({"spec": {"containers": [{"name": "a",
      "volumeMounts": [{"name": "v3", "mountPath": "/one"}]}]}})", Pods());
  EXPECT_EQ(out["spec"]["containers"][0]["volumeMounts"],
            json::parse(R"([{"name": "v3", "mountPath": "/one"}, {"name": "v2", "mountPath": "/two"}])"));
  auto bad = ApplyStrategicMergePatch(pod, json::parse(R"({"spec": {"containers": [{"image": "y"}]}})"), Pods());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "spec.containers[0]: map does not contain declared merge key: name");
  EXPECT_FALSE(ApplyStrategicMergePatch(pod, json::array(), Pods()).ok());
}

}  // namespace
}  // namespace berth::k8s::patch
