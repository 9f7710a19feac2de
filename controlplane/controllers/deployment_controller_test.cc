#include "controlplane/controllers/deployment_controller.h"

#include "controlplane/controllers/controller_test_env.h"
#include "controlplane/controllers/replicaset_controller.h"
#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

using nlohmann::json;
namespace resources = client::resources;

TEST(PodTemplateHashTest, StableSafeAndSensitiveToTemplateAndCollisions) {
  json t = {{"metadata", {{"labels", {{"app", "web"}}}}}, {"spec", {{"containers", json::array()}}}};
  std::string h = PodTemplateHash(t, 0);
  EXPECT_EQ(h, PodTemplateHash(t, 0));
  EXPECT_NE(h, PodTemplateHash(t, 1));
  json other = t;
  other["metadata"]["labels"]["app"] = "api";
  EXPECT_NE(h, PodTemplateHash(other, 0));
  EXPECT_EQ(h.find_first_of("aeiou013"), std::string::npos) << h;
  EXPECT_FALSE(h.empty());
}

TEST(PodTemplateHashTest, EqualIgnoringTheHashLabel) {
  json t = {{"metadata", {{"labels", {{"app", "web"}}}}}, {"spec", {{"containers", json::array()}}}};
  json with_hash = t;
  with_hash["metadata"]["labels"][kPodTemplateHashLabel] = "abc";
  EXPECT_TRUE(EqualIgnoringHash(t, with_hash));
  with_hash["metadata"]["labels"]["app"] = "api";
  EXPECT_FALSE(EqualIgnoringHash(t, with_hash));
  // What kubectl rollout undo sends back: Go's zero values as null or {}.
  json from_undo = t;
  from_undo["metadata"]["creationTimestamp"] = nullptr;
  from_undo["spec"]["securityContext"] = json::object();
  EXPECT_TRUE(EqualIgnoringHash(t, from_undo));
  EXPECT_EQ(PodTemplateHash(t, 0), PodTemplateHash(from_undo, 0));
}

json Deployment(const std::string& name, int replicas, const std::string& image, const std::string& strategy) {
  json d = json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":")" + name + R"("},
    "spec":{"replicas":)" + std::to_string(replicas) + R"(,"selector":{"matchLabels":{"app":")" + name + R"("}},
      "template":{"metadata":{"labels":{"app":")" + name + R"("}},
        "spec":{"containers":[{"name":"c","image":")" + image + R"("}]}}}})");
  d["spec"]["strategy"] = json::parse(strategy);
  return d;
}

class DeploymentControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.error().ok()) << env_.error();
    rs_controller_ = std::make_unique<ReplicaSetController>(env_.client(), env_.informer(resources::kReplicaSets),
                                                            env_.informer(resources::kPods));
    controller_ = std::make_unique<DeploymentController>(env_.client(), env_.informer(resources::kDeployments),
                                                         env_.informer(resources::kReplicaSets),
                                                         env_.informer(resources::kPods));
    env_.Run({rs_controller_.get(), controller_.get()});
  }

  json D(const std::string& name) { return env_.Get(resources::kDeployments, "default", name); }
  std::vector<json> ReplicaSets(const std::string& app) {
    return env_.List(resources::kReplicaSets, "default", "app=" + app);
  }
  // The ReplicaSet whose template runs `image`.
  json ReplicaSetWithImage(const std::string& app, const std::string& image) {
    for (const json& rs : ReplicaSets(app)) {
      if (rs["spec"]["template"]["spec"]["containers"][0]["image"] == image) return rs;
    }
    return json();
  }
  // Plays the kubelet until the Deployment's rollout is complete.
  bool RolledOut(const std::string& name, int replicas) {
    return ControllerTestEnv::WaitFor([&] {
      env_.MarkPodsReady("default");
      json d = D(name);
      const json& s = d.value("status", json::object());
      return s.value("observedGeneration", 0) == d["metadata"].value("generation", 0) &&
             s.value("updatedReplicas", -1) == replicas && s.value("replicas", -1) == replicas &&
             s.value("availableReplicas", -1) == replicas;
    });
  }
  void SetImage(const std::string& name, const std::string& image) {
    json patch = {{"spec", {{"template", {{"spec", {{"containers", json::array({{{"name", "c"}, {"image", image}}})}}}}}}}};
    ASSERT_TRUE(env_.client()->Patch(resources::kDeployments, "default", name, client::PatchType::kMerge, patch).ok());
  }
  std::string ProgressingReason(const std::string& name) {
    for (const json& c : D(name).value("status", json::object()).value("conditions", json::array())) {
      if (c["type"] == "Progressing") return c.value("reason", "");
    }
    return "";
  }

  // Destroyed after env_, which stops the workers and informers first.
  std::unique_ptr<ReplicaSetController> rs_controller_;
  std::unique_ptr<DeploymentController> controller_;
  ControllerTestEnv env_;
};

TEST_F(DeploymentControllerTest, CreatesAReplicaSetByTemplateHashAndRollsOut) {
  auto d = env_.client()->Create(resources::kDeployments, "default", Deployment("web", 3, "nginx:1", "{}"));
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(RolledOut("web", 3)) << D("web")["status"].dump();
  std::vector<json> rss = ReplicaSets("web");
  ASSERT_EQ(rss.size(), 1u);
  const json& rs = rss[0];
  std::string hash = rs["metadata"]["labels"][kPodTemplateHashLabel];
  EXPECT_EQ(NameOf(rs), "web-" + hash);
  EXPECT_EQ(rs["spec"]["selector"]["matchLabels"][kPodTemplateHashLabel], hash);
  EXPECT_EQ(rs["metadata"]["annotations"][kRevisionAnnotation], "1");
  EXPECT_EQ((*ControllerRefOf(rs))["uid"], UidOf(*d));
  EXPECT_EQ(D("web")["metadata"]["annotations"][kRevisionAnnotation], "1");
  EXPECT_EQ(ProgressingReason("web"), "NewReplicaSetAvailable");
  bool available = false;
  const json status = D("web")["status"];
  for (const json& c : status["conditions"]) {
    if (c["type"] == "Available") available = c["status"] == "True";
  }
  EXPECT_TRUE(available) << status.dump();
}

TEST_F(DeploymentControllerTest, RollingUpdateThenUndoRevivesTheOldReplicaSet) {
  ASSERT_TRUE(env_.client()
                  ->Create(resources::kDeployments, "default",
                           Deployment("web", 4, "nginx:1",
                                      R"({"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}})"))
                  .ok());
  ASSERT_TRUE(RolledOut("web", 4));
  SetImage("web", "nginx:2");
  // maxSurge 1, maxUnavailable 0: never more than 5 pods, never fewer than 4 available.
  bool within_limits = true;
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] {
    json old_rs = ReplicaSetWithImage("web", "nginx:1");
    json new_rs = ReplicaSetWithImage("web", "nginx:2");
    if (!old_rs.is_null() && !new_rs.is_null()) {
      int total = old_rs["spec"].value("replicas", 0) + new_rs["spec"].value("replicas", 0);
      if (total > 5) within_limits = false;
    }
    env_.MarkPodsReady("default");
    json d = D("web");
    if (d["status"].value("availableReplicas", 0) < 3) within_limits = false;
    return !new_rs.is_null() && d["status"].value("updatedReplicas", 0) == 4 &&
           d["status"].value("availableReplicas", 0) == 4 && d["status"].value("replicas", 0) == 4 &&
           old_rs["spec"].value("replicas", -1) == 0;
  })) << D("web")["status"].dump();
  EXPECT_TRUE(within_limits);
  EXPECT_EQ(ReplicaSetWithImage("web", "nginx:2")["metadata"]["annotations"][kRevisionAnnotation], "2");
  EXPECT_EQ(D("web")["metadata"]["annotations"][kRevisionAnnotation], "2");
  ASSERT_TRUE(RolledOut("web", 4));

  // kubectl rollout undo: the old template comes back; its ReplicaSet becomes revision 3.
  std::string old_name = NameOf(ReplicaSetWithImage("web", "nginx:1"));
  SetImage("web", "nginx:1");
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] {
    env_.MarkPodsReady("default");
    json old_rs = ReplicaSetWithImage("web", "nginx:1");
    return old_rs["spec"].value("replicas", 0) == 4 &&
           old_rs["metadata"]["annotations"].value(kRevisionAnnotation, "") == "3" &&
           ReplicaSetWithImage("web", "nginx:2")["spec"].value("replicas", -1) == 0;
  }));
  EXPECT_EQ(NameOf(ReplicaSetWithImage("web", "nginx:1")), old_name);
  EXPECT_EQ(ReplicaSets("web").size(), 2u);
  ASSERT_TRUE(RolledOut("web", 4));
  EXPECT_EQ(D("web")["metadata"]["annotations"][kRevisionAnnotation], "3");
}

TEST_F(DeploymentControllerTest, RecreateEmptiesTheOldReplicaSetBeforeTheNewOne) {
  ASSERT_TRUE(
      env_.client()->Create(resources::kDeployments, "default", Deployment("db", 2, "pg:1", R"({"type":"Recreate"})"))
          .ok());
  ASSERT_TRUE(RolledOut("db", 2));
  SetImage("db", "pg:2");
  bool overlap = false;
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] {
    json new_rs = ReplicaSetWithImage("db", "pg:2");
    if (!new_rs.is_null()) {
      // The new ReplicaSet exists only once no old pod is left.
      for (const json& pod : env_.List(resources::kPods, "default", "app=db")) {
        if (pod["spec"]["containers"][0]["image"] == "pg:1") overlap = true;
      }
    }
    env_.MarkPodsReady("default");
    return !new_rs.is_null() && D("db")["status"].value("updatedReplicas", 0) == 2;
  }));
  EXPECT_FALSE(overlap);
  ASSERT_TRUE(RolledOut("db", 2));
}

TEST_F(DeploymentControllerTest, ScaleAndPauseAndHistoryLimit) {
  json d = Deployment("api", 2, "api:1", "{}");
  d["spec"]["revisionHistoryLimit"] = 1;
  ASSERT_TRUE(env_.client()->Create(resources::kDeployments, "default", d).ok());
  ASSERT_TRUE(RolledOut("api", 2));
  ASSERT_TRUE(env_.client()
                  ->Patch(resources::kDeployments, "default", "api", client::PatchType::kMerge,
                          {{"spec", {{"replicas", 5}}}})
                  .ok());
  ASSERT_TRUE(RolledOut("api", 5));
  EXPECT_EQ(ReplicaSetWithImage("api", "api:1")["spec"]["replicas"], 5);

  // Paused: a template change makes no ReplicaSet; resuming rolls it out.
  ASSERT_TRUE(env_.client()
                  ->Patch(resources::kDeployments, "default", "api", client::PatchType::kMerge,
                          {{"spec", {{"paused", true}}}})
                  .ok());
  SetImage("api", "api:2");
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return ProgressingReason("api") == "DeploymentPaused"; }));
  EXPECT_TRUE(ReplicaSetWithImage("api", "api:2").is_null());
  ASSERT_TRUE(env_.client()
                  ->Patch(resources::kDeployments, "default", "api", client::PatchType::kMerge,
                          {{"spec", {{"paused", false}}}})
                  .ok());
  ASSERT_TRUE(RolledOut("api", 5));
  SetImage("api", "api:3");
  ASSERT_TRUE(RolledOut("api", 5));
  // revisionHistoryLimit 1: the current ReplicaSet and one old one.
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return ReplicaSets("api").size() == 2; }));
  EXPECT_TRUE(ReplicaSetWithImage("api", "api:1").is_null());
  EXPECT_FALSE(ReplicaSetWithImage("api", "api:2").is_null());
}

TEST_F(DeploymentControllerTest, ProgressDeadlineExceededWhenPodsNeverBecomeReady) {
  json d = Deployment("stuck", 2, "nginx:1", "{}");
  d["spec"]["progressDeadlineSeconds"] = 1;
  ASSERT_TRUE(env_.client()->Create(resources::kDeployments, "default", d).ok());
  // No kubelet marks the pods Ready: no progress after the first steps.
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return ProgressingReason("stuck") == "ProgressDeadlineExceeded"; },
                                         absl::Seconds(10)))
      << D("stuck")["status"].dump();
  // Progress again (pods Ready) ends it.
  ASSERT_TRUE(RolledOut("stuck", 2));
  EXPECT_EQ(ProgressingReason("stuck"), "NewReplicaSetAvailable");
}

// The issue's 100-replica target, controllers only (pods made Ready here
// as soon as they exist): every pod created and the rollout complete.
TEST_F(DeploymentControllerTest, HundredReplicasRollOutQuickly) {
  absl::Time start = absl::Now();
  ASSERT_TRUE(env_.client()->Create(resources::kDeployments, "default", Deployment("big", 100, "nginx:1", "{}")).ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return env_.List(resources::kPods, "default", "app=big").size() == 100; }));
  absl::Duration created = absl::Now() - start;
  ASSERT_TRUE(RolledOut("big", 100)) << D("big")["status"].dump();
  absl::Duration complete = absl::Now() - start;
  std::printf("100 replicas: pods created in %.0f ms, rollout complete in %.0f ms\n",
              absl::ToDoubleMilliseconds(created), absl::ToDoubleMilliseconds(complete));
  EXPECT_LT(complete, absl::Seconds(20));
  EXPECT_EQ(env_.List(resources::kPods, "default", "app=big").size(), 100u);
}

}  // namespace
}  // namespace berth::controllers
