#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/k8s/patch/patch.h"

namespace berth::k8s::patch {
namespace {

using json = nlohmann::json;

const kinds::KindInfo& Deployments() { return *kinds::FindByResource("apps", "v1", "deployments"); }

json Config(int replicas, const char* image) {
  json c = json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
    "spec": {"selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "app"}]}}}})");
  c["spec"]["replicas"] = replicas;
  c["spec"]["template"]["spec"]["containers"][0]["image"] = image;
  return c;
}

json FieldsOf(const json& obj, const std::string& manager) {
  for (const auto& e : obj["metadata"]["managedFields"]) {
    if (e["manager"] == manager) return e;
  }
  return nullptr;
}

TEST(ServerSideApply, CreateRecordsTheApplierFieldSet) {
  auto r = ServerSideApply(nullptr, Config(2, "nginx:1"), "kubectl", false, Deployments());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->conflicts.empty());
  EXPECT_EQ(r->object["spec"]["replicas"], 2);
  json entry = FieldsOf(r->object, "kubectl");
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry["operation"], "Apply");
  EXPECT_EQ(entry["apiVersion"], "apps/v1");
  EXPECT_EQ(entry["fieldsType"], "FieldsV1");
  const json& f = entry["fieldsV1"];
  EXPECT_TRUE(f["f:spec"].contains("f:replicas"));
  EXPECT_TRUE(f["f:metadata"]["f:labels"].contains("."));
  EXPECT_TRUE(f["f:metadata"]["f:labels"].contains("f:app"));
  EXPECT_FALSE(f["f:metadata"].contains("f:name"));
  EXPECT_TRUE(f["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"].contains("f:image"));
}

TEST(ServerSideApply, ConflictWithAnotherManagerUnlessForced) {
  auto created = ServerSideApply(nullptr, Config(2, "nginx:1"), "kubectl", false, Deployments());
  ASSERT_TRUE(created.ok());
  // A controller scales it through an update.
  json scaled = created->object;
  scaled["spec"]["replicas"] = 5;
  RecordUpdateManager(&created->object, scaled, "autoscaler", Deployments());
  EXPECT_TRUE(FieldsOf(scaled, "autoscaler")["fieldsV1"]["f:spec"].contains("f:replicas"));
  EXPECT_FALSE(FieldsOf(scaled, "kubectl")["fieldsV1"]["f:spec"].contains("f:replicas"));

  // Re-applying replicas 2: conflict with the autoscaler, nothing changed.
  auto again = ServerSideApply(scaled, Config(2, "nginx:2"), "kubectl", false, Deployments());
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->conflicts.size(), 1u);
  EXPECT_EQ(again->conflicts[0].manager, "autoscaler");
  EXPECT_EQ(again->conflicts[0].field, ".spec.replicas");
  EXPECT_EQ(again->object, scaled);

  // Applying the same value the other manager set is shared ownership, not a conflict.
  auto same = ServerSideApply(scaled, Config(5, "nginx:2"), "kubectl", false, Deployments());
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->conflicts.empty());
  EXPECT_EQ(same->object["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:2");

  // Forced: kubectl takes replicas over.
  auto forced = ServerSideApply(scaled, Config(3, "nginx:2"), "kubectl", true, Deployments());
  ASSERT_TRUE(forced.ok());
  EXPECT_TRUE(forced->conflicts.empty());
  EXPECT_EQ(forced->object["spec"]["replicas"], 3);
  json autoscaler = FieldsOf(forced->object, "autoscaler");
  EXPECT_TRUE(autoscaler.is_null() || !autoscaler["fieldsV1"].contains("f:spec") ||
              !autoscaler["fieldsV1"]["f:spec"].contains("f:replicas"));
}

TEST(ServerSideApply, FieldsNoLongerAppliedAreRemoved) {
  json with_label = Config(2, "nginx:1");
  with_label["metadata"]["labels"]["tier"] = "front";
  auto first = ServerSideApply(nullptr, with_label, "kubectl", false, Deployments());
  ASSERT_TRUE(first.ok());
  // Another manager adds its own label; it must survive.
  json labelled = first->object;
  labelled["metadata"]["labels"]["owner"] = "ops";
  RecordUpdateManager(&first->object, labelled, "kubectl-label", Deployments());
  auto second = ServerSideApply(labelled, Config(2, "nginx:1"), "kubectl", false, Deployments());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->object["metadata"]["labels"], json::parse(R"({"app": "web", "owner": "ops"})"));
  // A container the applier stops listing goes too.
  json two = Config(2, "nginx:1");
  two["spec"]["template"]["spec"]["containers"].push_back({{"name", "side"}, {"image", "busybox"}});
  auto with_two = ServerSideApply(second->object, two, "kubectl", false, Deployments());
  ASSERT_TRUE(with_two.ok());
  EXPECT_EQ(with_two->object["spec"]["template"]["spec"]["containers"].size(), 2u);
  auto back = ServerSideApply(with_two->object, Config(2, "nginx:1"), "kubectl", false, Deployments());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->object["spec"]["template"]["spec"]["containers"].size(), 1u);
}

TEST(ServerSideApply, BadRequests) {
  EXPECT_FALSE(ServerSideApply(nullptr, Config(1, "x"), "", false, Deployments()).ok());
  json wrong = Config(1, "x");
  wrong["kind"] = "StatefulSet";
  auto r = ServerSideApply(nullptr, wrong, "kubectl", false, Deployments());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("kind \"Deployment\""));
}

TEST(RecordUpdateManager, CreateThenUpdateTracksOwnership) {
  json obj = Config(1, "nginx");
  RecordUpdateManager(nullptr, obj, "kubectl-create", Deployments());
  json entry = FieldsOf(obj, "kubectl-create");
  ASSERT_FALSE(entry.is_null());
  EXPECT_EQ(entry["operation"], "Update");
  json updated = obj;
  updated["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2";
  RecordUpdateManager(&obj, updated, "kubectl-edit", Deployments());
  EXPECT_TRUE(FieldsOf(updated, "kubectl-edit")["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
                  ["k:{\"name\":\"app\"}"]
                      .contains("f:image"));
  // No change: managedFields stay as they were.
  json same = updated;
  RecordUpdateManager(&updated, same, "other", Deployments());
  EXPECT_TRUE(FieldsOf(same, "other").is_null());
}

}  // namespace
}  // namespace berth::k8s::patch

namespace berth::k8s::patch {
namespace {

TEST(ServerSideApply, StatusIsMergedForTheStatusSubresource) {
  json live = Config(1, "nginx");
  live["status"] = {{"replicas", 1}, {"readyReplicas", 1}};
  json applied = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"},
                  {"metadata", {{"name", "web"}, {"namespace", "default"}}},
                  {"status", {{"readyReplicas", 0}}}};
  auto r = ServerSideApply(live, applied, "controller", false, Deployments());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->object["status"], json::parse(R"({"replicas": 1, "readyReplicas": 0})"));
  EXPECT_EQ(r->object["spec"], live["spec"]);
}

}  // namespace
}  // namespace berth::k8s::patch
