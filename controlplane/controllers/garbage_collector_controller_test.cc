#include "controlplane/controllers/garbage_collector_controller.h"

#include "controlplane/controllers/controller_test_env.h"
#include "controlplane/controllers/deployment_controller.h"
#include "controlplane/controllers/replicaset_controller.h"
#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

using nlohmann::json;
namespace resources = client::resources;

class GarbageCollectorControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.error().ok()) << env_.error();
    client::Informer* deployments = env_.informer(resources::kDeployments);
    client::Informer* rss = env_.informer(resources::kReplicaSets);
    client::Informer* pods = env_.informer(resources::kPods);
    rs_controller_ = std::make_unique<ReplicaSetController>(env_.client(), rss, pods);
    d_controller_ = std::make_unique<DeploymentController>(env_.client(), deployments, rss, pods);
    gc_ = std::make_unique<GarbageCollectorController>(
        env_.client(), std::vector<GarbageCollectorController::Kind>{
                           {"apps/v1", "Deployment", resources::kDeployments, deployments},
                           {"apps/v1", "ReplicaSet", resources::kReplicaSets, rss},
                           {"v1", "Pod", resources::kPods, pods}});
    env_.Run({rs_controller_.get(), d_controller_.get(), gc_.get()});
  }
  size_t Count(const client::ResourceRef& ref) { return env_.List(ref, "default", "app=web").size(); }

  std::unique_ptr<ReplicaSetController> rs_controller_;
  std::unique_ptr<DeploymentController> d_controller_;
  std::unique_ptr<GarbageCollectorController> gc_;
  ControllerTestEnv env_;
};

TEST_F(GarbageCollectorControllerTest, DeletingADeploymentTakesItsReplicaSetsAndPods) {
  json d = json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
    "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}})");
  ASSERT_TRUE(env_.client()->Create(resources::kDeployments, "default", d).ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Count(resources::kPods) == 2; }));
  EXPECT_EQ(Count(resources::kReplicaSets), 1u);
  ASSERT_TRUE(env_.client()->Delete(resources::kDeployments, "default", "web").ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor(
      [&] { return Count(resources::kReplicaSets) == 0 && Count(resources::kPods) == 0; }));
}

TEST_F(GarbageCollectorControllerTest, KeepsADependentWithALiveOwnerAndDropsTheGoneOne) {
  json cm_owner = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "owner"}, {"labels", {{"app", "x"}}}}},
                   {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "busybox"}}})}}}};
  auto live = env_.client()->Create(resources::kPods, "default", cm_owner);
  ASSERT_TRUE(live.ok()) << live.status();
  json dependent = cm_owner;
  dependent["metadata"]["name"] = "dependent";
  dependent["metadata"]["ownerReferences"] = json::array(
      {{{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", "owner"}, {"uid", UidOf(*live)}},
       {{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", "gone"}, {"uid", "0b5d2f5e-0000-0000-0000-000000000000"}}});
  ASSERT_TRUE(env_.client()->Create(resources::kPods, "default", dependent).ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] {
    json obj = env_.Get(resources::kPods, "default", "dependent");
    return obj.is_object() && obj["metadata"].value("ownerReferences", json::array()).size() == 1;
  }));
  json obj = env_.Get(resources::kPods, "default", "dependent");
  EXPECT_EQ(obj["metadata"]["ownerReferences"][0]["name"], "owner");
  // Its last owner goes: so does it.
  ASSERT_TRUE(env_.client()->Delete(resources::kPods, "default", "owner").ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return env_.Get(resources::kPods, "default", "dependent").is_null(); }));
}

}  // namespace
}  // namespace berth::controllers
