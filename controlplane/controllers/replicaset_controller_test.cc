#include "controlplane/controllers/replicaset_controller.h"

#include <atomic>

#include "controlplane/controllers/controller_test_env.h"
#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

using nlohmann::json;
namespace resources = client::resources;

json ReplicaSet(const std::string& name, int replicas) {
  return json::parse(R"({"apiVersion":"apps/v1","kind":"ReplicaSet",
    "metadata":{"name":")" + name + R"("},
    "spec":{"replicas":)" + std::to_string(replicas) + R"(,"selector":{"matchLabels":{"app":")" + name + R"("}},
      "template":{"metadata":{"labels":{"app":")" + name + R"(","tier":"web"}},
        "spec":{"containers":[{"name":"c","image":"busybox"}]}}}})");
}

json BarePod(const std::string& name, const std::string& app) {
  return json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
                     R"(","labels":{"app":")" + app + R"("}},"spec":{"containers":[{"name":"c","image":"busybox"}]}})");
}

class ReplicaSetControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.error().ok()) << env_.error();
    controller_ = std::make_unique<ReplicaSetController>(env_.client(), env_.informer(resources::kReplicaSets),
                                                         env_.informer(resources::kPods));
    env_.Run({controller_.get()});
  }
  std::vector<json> Pods(const std::string& selector) { return env_.List(resources::kPods, "default", selector); }
  json Status(const std::string& name) {
    return env_.Get(resources::kReplicaSets, "default", name).value("status", json::object());
  }

  // Destroyed after env_, which stops the workers and informers first.
  std::unique_ptr<ReplicaSetController> controller_;
  ControllerTestEnv env_;
};

TEST_F(ReplicaSetControllerTest, CreatesPodsFromTheTemplateOwnedByTheReplicaSet) {
  auto rs = env_.client()->Create(resources::kReplicaSets, "default", ReplicaSet("web", 3));
  ASSERT_TRUE(rs.ok()) << rs.status();
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Status("web").value("replicas", 0) == 3; }))
      << Status("web").dump();
  std::vector<json> pods = Pods("app=web");
  ASSERT_EQ(pods.size(), 3u);
  for (const json& pod : pods) {
    EXPECT_EQ(pod["metadata"]["generateName"], "web-");
    EXPECT_EQ(pod["metadata"]["labels"]["tier"], "web");
    std::optional<json> ref = ControllerRefOf(pod);
    ASSERT_TRUE(ref.has_value());
    EXPECT_EQ((*ref)["kind"], "ReplicaSet");
    EXPECT_EQ((*ref)["uid"], UidOf(*rs));
  }
  json status = Status("web");
  EXPECT_EQ(status["fullyLabeledReplicas"], 3);
  EXPECT_EQ(status["readyReplicas"], 0);
  EXPECT_EQ(status["observedGeneration"], 1);
}

TEST_F(ReplicaSetControllerTest, ReadyPodsCountAsReadyAndAvailable) {
  ASSERT_TRUE(env_.client()->Create(resources::kReplicaSets, "default", ReplicaSet("web", 2)).ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Pods("app=web").size() == 2; }));
  EXPECT_EQ(env_.MarkPodsReady("default"), 2);
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] {
    json s = Status("web");
    return s.value("readyReplicas", 0) == 2 && s.value("availableReplicas", 0) == 2;
  })) << Status("web").dump();
}

TEST_F(ReplicaSetControllerTest, ScalesDownUnreadyPodsFirstAndUp) {
  ASSERT_TRUE(env_.client()->Create(resources::kReplicaSets, "default", ReplicaSet("web", 3)).ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Pods("app=web").size() == 3; }));
  // One ready pod: scaling to 1 keeps it (not ready pods go first).
  json ready = Pods("app=web")[1];
  ready["apiVersion"] = "v1";
  ready["kind"] = "Pod";
  ready["status"] = {{"phase", "Running"},
                     {"conditions", json::array({{{"type", "Ready"}, {"status", "True"},
                                                  {"lastTransitionTime", FormatApiTime(absl::Now())}}})}};
  auto written = env_.client()->Update(resources::kPods, "default", ready, "status");
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Status("web").value("readyReplicas", 0) == 1; }));
  ASSERT_TRUE(env_.client()
                  ->Patch(resources::kReplicaSets, "default", "web", client::PatchType::kMerge,
                          {{"spec", {{"replicas", 1}}}})
                  .ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Pods("app=web").size() == 1; }));
  EXPECT_EQ(NameOf(Pods("app=web")[0]), NameOf(ready));
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Status("web").value("replicas", 0) == 1; }));
  EXPECT_EQ(Status("web")["observedGeneration"], 2);

  ASSERT_TRUE(env_.client()
                  ->Patch(resources::kReplicaSets, "default", "web", client::PatchType::kMerge,
                          {{"spec", {{"replicas", 4}}}})
                  .ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Status("web").value("replicas", 0) == 4; }));
  EXPECT_EQ(Pods("app=web").size(), 4u);
}

TEST_F(ReplicaSetControllerTest, NeverCreatesMoreThanWanted) {
  // Count every pod ever created through a watch of its own.
  std::atomic<int> added{0};
  client::ListOptions options;
  auto watch = env_.client()->Watch(
      resources::kPods, "default", options,
      [&](client::WatchEvent e) {
        if (e.type == client::WatchEvent::Type::kAdded) ++added;
      },
      [](absl::Status) {});
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_TRUE(env_.client()->Create(resources::kReplicaSets, "default", ReplicaSet("many", 20)).ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Status("many").value("replicas", 0) == 20; }));
  // A later sync (it observes generation 2) must not add pods.
  ASSERT_TRUE(env_.client()
                  ->Patch(resources::kReplicaSets, "default", "many", client::PatchType::kMerge,
                          {{"spec", {{"minReadySeconds", 1}}}})
                  .ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Status("many").value("observedGeneration", 0) == 2; }));
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return added.load() >= 20; }));
  EXPECT_EQ(added.load(), 20);
  EXPECT_EQ(Pods("app=many").size(), 20u);
}

TEST_F(ReplicaSetControllerTest, AdoptsMatchingOrphansAndReleasesPodsThatStopMatching) {
  ASSERT_TRUE(env_.client()->Create(resources::kPods, "default", BarePod("orphan", "web")).ok());
  auto rs = env_.client()->Create(resources::kReplicaSets, "default", ReplicaSet("web", 2));
  ASSERT_TRUE(rs.ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Pods("app=web").size() == 2; }));
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] {
    std::optional<json> ref = ControllerRefOf(env_.Get(resources::kPods, "default", "orphan"));
    return ref && (*ref)["uid"] == UidOf(*rs);
  }));
  // Relabel the adopted pod: it is released and replaced.
  ASSERT_TRUE(env_.client()
                  ->Patch(resources::kPods, "default", "orphan", client::PatchType::kMerge,
                          {{"metadata", {{"labels", {{"app", "elsewhere"}}}}}})
                  .ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor(
      [&] { return !ControllerRefOf(env_.Get(resources::kPods, "default", "orphan")).has_value(); }));
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Pods("app=web").size() == 2; }));
  EXPECT_EQ(Pods("app=elsewhere").size(), 1u);
}

TEST_F(ReplicaSetControllerTest, ReplacesDeletedPods) {
  ASSERT_TRUE(env_.client()->Create(resources::kReplicaSets, "default", ReplicaSet("web", 2)).ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Pods("app=web").size() == 2; }));
  std::string gone = NameOf(Pods("app=web")[0]);
  ASSERT_TRUE(env_.client()->Delete(resources::kPods, "default", gone).ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] {
    std::vector<json> pods = Pods("app=web");
    return pods.size() == 2 && NameOf(pods[0]) != gone && NameOf(pods[1]) != gone;
  }));
}

}  // namespace
}  // namespace berth::controllers
