#include "controlplane/controllers/controller_manager.h"

#include "controlplane/controllers/controller_test_env.h"
#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

using nlohmann::json;
namespace resources = client::resources;

ControllerManagerOptions Fast(const std::string& identity) {
  ControllerManagerOptions o;
  o.identity = identity;
  o.lease_duration = absl::Seconds(3);
  o.renew_deadline = absl::Seconds(2);
  o.retry_period = absl::Milliseconds(200);
  return o;
}

json ReplicaSet(int replicas) {
  return json::parse(R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web"},
    "spec":{"replicas":)" + std::to_string(replicas) + R"(,"selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}})");
}

TEST(ControllerManagerTest, RefusesUnknownControllersAndBadWorkerCounts) {
  client::LocalApiTestEnv env;
  ASSERT_TRUE(env.error().ok()) << env.error();
  ControllerManagerOptions o = Fast("a");
  o.controllers = {"replicaset", "cronjob-typo"};
  auto m = ControllerManager::Start(env.client(), o);
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(m.status()));
  EXPECT_NE(m.status().message().find("cronjob-typo"), absl::string_view::npos) << m.status();
  o = Fast("a");
  o.workers_per_controller = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(ControllerManager::Start(env.client(), o).status()));
}

TEST(ControllerManagerTest, OneLeaderRunsTheControllersAndAnotherTakesOverWhenItStops) {
  client::LocalApiTestEnv env;
  ASSERT_TRUE(env.error().ok()) << env.error();
  auto a = ControllerManager::Start(env.client(), Fast("host-a"));
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = ControllerManager::Start(env.client(), Fast("host-b"));
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return (*a)->running() || (*b)->running(); }));
  EXPECT_NE((*a)->running(), (*b)->running()) << "exactly one runs the controllers";
  ControllerManager* leader = (*a)->running() ? a->get() : b->get();
  ControllerManager* standby = leader == a->get() ? b->get() : a->get();
  auto lease = env.client()->Get(resources::kLeases, "kube-system", "kube-controller-manager");
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], leader == a->get() ? "host-a" : "host-b");

  auto pods = [&] {
    auto list = env.client()->List(resources::kPods, "default", {.label_selector = "app=web"});
    return list.ok() ? (*list)["items"].size() : 0u;
  };
  ASSERT_TRUE(env.client()->Create(resources::kReplicaSets, "default", ReplicaSet(2)).ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return pods() == 2; }));

  leader->Stop();
  EXPECT_FALSE(leader->running());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return standby->running(); }, absl::Seconds(10)));
  ASSERT_TRUE(env.client()
                  ->Patch(resources::kReplicaSets, "default", "web", client::PatchType::kMerge,
                          {{"spec", {{"replicas", 3}}}})
                  .ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return pods() == 3; }));
  standby->Stop();
}

}  // namespace
}  // namespace berth::controllers
