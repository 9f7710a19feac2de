#include "agent/pod/pod_actions.h"

#include "agent/pod/test_pods.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

using testing::Exited;
using testing::MakePod;
using testing::ReadySandbox;
using testing::Running;

constexpr char kTwoContainers[] = R"(
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - {name: a, image: busybox}
  - {name: b, image: busybox}
)";

std::vector<std::string> Names(const std::vector<ContainerToStart>& v) {
  std::vector<std::string> out;
  for (const auto& c : v) out.push_back(c.name);
  return out;
}

TEST(ComputePodActionsTest, NewPodCreatesSandboxAndStartsAll) {
  auto pod = MakePod(kTwoContainers);
  auto a = ComputePodActions(pod, ObservedPod{});
  EXPECT_TRUE(a.create_sandbox);
  EXPECT_EQ(a.sandbox_attempt, 0u);
  EXPECT_FALSE(a.kill_pod);
  EXPECT_THAT(Names(a.containers_to_start), ::testing::ElementsAre("a", "b"));
}

TEST(ComputePodActionsTest, HealthyPodNeedsNothing) {
  auto pod = MakePod(kTwoContainers);
  ObservedPod o;
  o.sandboxes = {ReadySandbox()};
  o.containers = {Running(pod.spec.containers[0], "c1"), Running(pod.spec.containers[1], "c2")};
  auto a = ComputePodActions(pod, o);
  EXPECT_FALSE(a.create_sandbox);
  EXPECT_FALSE(a.kill_pod);
  EXPECT_EQ(a.sandbox_id, "sb1");
  EXPECT_TRUE(a.containers_to_start.empty());
  EXPECT_TRUE(a.containers_to_kill.empty());
}

TEST(ComputePodActionsTest, SandboxNotReadyRecreatesWithNextAttempt) {
  auto pod = MakePod(kTwoContainers);
  ObservedPod o;
  auto s = ReadySandbox("sb1", 2);
  s.ready = false;
  o.sandboxes = {s};
  o.containers = {Exited(pod.spec.containers[0], "c1", 137)};
  auto a = ComputePodActions(pod, o);
  EXPECT_TRUE(a.create_sandbox);
  EXPECT_EQ(a.sandbox_attempt, 3u);
  EXPECT_TRUE(a.kill_pod);
  EXPECT_THAT(Names(a.containers_to_start), ::testing::ElementsAre("a", "b"));
}

TEST(ComputePodActionsTest, SandboxConfigChangeRecreates) {
  auto pod = MakePod(kTwoContainers);
  ObservedPod o;
  auto s = ReadySandbox();
  s.config_hash = "old";
  o.sandboxes = {s};
  PodActionInputs in;
  in.sandbox_hash = "new";
  EXPECT_TRUE(ComputePodActions(pod, o, in).create_sandbox);
  in.sandbox_hash = "old";
  EXPECT_FALSE(ComputePodActions(pod, o, in).create_sandbox);
}

TEST(ComputePodActionsTest, RestartPolicies) {
  for (const auto& [policy, code, restart] : std::vector<std::tuple<std::string, int, bool>>{
           {"Always", 0, true}, {"Always", 1, true}, {"OnFailure", 0, false},
           {"OnFailure", 2, true}, {"Never", 0, false}, {"Never", 1, false}}) {
    auto pod = MakePod(kTwoContainers);
    pod.spec.restartPolicy = policy;
    ObservedPod o;
    o.sandboxes = {ReadySandbox()};
    o.containers = {Exited(pod.spec.containers[0], "c1", code), Running(pod.spec.containers[1], "c2")};
    auto a = ComputePodActions(pod, o);
    EXPECT_EQ(!a.containers_to_start.empty(), restart) << policy << " exit " << code;
    EXPECT_FALSE(a.kill_pod);
  }
}

TEST(ComputePodActionsTest, SpecHashChangeRestartsTheContainer) {
  auto pod = MakePod(kTwoContainers);
  ObservedPod o;
  o.sandboxes = {ReadySandbox()};
  auto old_spec = pod.spec.containers[0];
  old_spec.args = {"old"};
  o.containers = {Running(old_spec, "c1"), Running(pod.spec.containers[1], "c2")};
  auto a = ComputePodActions(pod, o);
  ASSERT_EQ(a.containers_to_kill.size(), 1u);
  EXPECT_EQ(a.containers_to_kill[0].id, "c1");
  EXPECT_EQ(a.containers_to_kill[0].reason, "spec hash changed");
  EXPECT_THAT(Names(a.containers_to_start), ::testing::ElementsAre("a"));
}

TEST(ComputePodActionsTest, LivenessFailureRestarts) {
  auto pod = MakePod(kTwoContainers);
  ObservedPod o;
  o.sandboxes = {ReadySandbox()};
  o.containers = {Running(pod.spec.containers[0], "c1"), Running(pod.spec.containers[1], "c2")};
  PodActionInputs in;
  in.liveness_failed = {{"b", kLivenessProbeFailed}};
  auto a = ComputePodActions(pod, o, in);
  ASSERT_EQ(a.containers_to_kill.size(), 1u);
  EXPECT_EQ(a.containers_to_kill[0].id, "c2");
  EXPECT_THAT(Names(a.containers_to_start), ::testing::ElementsAre("b"));
}

TEST(ComputePodActionsTest, LivenessFailureUnderRestartPolicyNeverOnlyKills) {
  auto pod = MakePod(kTwoContainers);
  pod.spec.restartPolicy = "Never";
  ObservedPod o;
  o.sandboxes = {ReadySandbox()};
  o.containers = {Running(pod.spec.containers[0], "c1"), Running(pod.spec.containers[1], "c2")};
  PodActionInputs in;
  in.liveness_failed = {{"a", kStartupProbeFailed}};
  auto a = ComputePodActions(pod, o, in);
  ASSERT_EQ(a.containers_to_kill.size(), 1u);
  EXPECT_EQ(a.containers_to_kill[0].id, "c1");
  EXPECT_EQ(a.containers_to_kill[0].reason, kStartupProbeFailed);
  EXPECT_TRUE(a.containers_to_start.empty());
}

TEST(ComputePodActionsTest, UnknownContainersAreKilled) {
  auto pod = MakePod(kTwoContainers);
  ObservedPod o;
  o.sandboxes = {ReadySandbox()};
  k8s::Container gone;
  gone.name = "gone";
  o.containers = {Running(pod.spec.containers[0], "c1"), Running(pod.spec.containers[1], "c2"),
                  Running(gone, "c3")};
  auto a = ComputePodActions(pod, o);
  ASSERT_EQ(a.containers_to_kill.size(), 1u);
  EXPECT_EQ(a.containers_to_kill[0].id, "c3");
  EXPECT_TRUE(a.containers_to_start.empty());
}

constexpr char kInit[] = R"(
apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  initContainers:
  - {name: i1, image: busybox}
  - {name: side, image: busybox, restartPolicy: Always}
  - {name: i2, image: busybox}
  containers:
  - {name: main, image: busybox}
)";

TEST(ComputePodActionsTest, InitContainersRunInOrderWithSidecars) {
  auto pod = MakePod(kInit);
  // New pod: the first init container only.
  auto a = ComputePodActions(pod, ObservedPod{});
  EXPECT_THAT(Names(a.containers_to_start), ::testing::ElementsAre("i1"));

  ObservedPod o;
  o.sandboxes = {ReadySandbox()};
  o.containers = {Running(pod.spec.initContainers[0], "i1")};
  EXPECT_TRUE(ComputePodActions(pod, o).containers_to_start.empty()) << "waits for i1";

  o.containers = {Exited(pod.spec.initContainers[0], "i1", 0)};
  EXPECT_THAT(Names(ComputePodActions(pod, o).containers_to_start), ::testing::ElementsAre("side"));

  o.containers.push_back(Running(pod.spec.initContainers[1], "s1"));
  EXPECT_THAT(Names(ComputePodActions(pod, o).containers_to_start), ::testing::ElementsAre("i2"));

  o.containers.push_back(Exited(pod.spec.initContainers[2], "i2", 0));
  a = ComputePodActions(pod, o);
  EXPECT_THAT(Names(a.containers_to_start), ::testing::ElementsAre("main"));
  EXPECT_TRUE(a.containers_to_kill.empty()) << "the sidecar keeps running";

  // The sidecar exits later: it is restarted, main keeps running.
  o.containers = {Exited(pod.spec.initContainers[0], "i1", 0), Exited(pod.spec.initContainers[1], "s1", 1),
                  Exited(pod.spec.initContainers[2], "i2", 0), Running(pod.spec.containers[0], "m1")};
  a = ComputePodActions(pod, o);
  EXPECT_THAT(Names(a.containers_to_start), ::testing::ElementsAre("side"));
  EXPECT_TRUE(a.containers_to_kill.empty());
}

TEST(ComputePodActionsTest, FailedInitContainer) {
  auto pod = MakePod(kInit);
  ObservedPod o;
  o.sandboxes = {ReadySandbox()};
  o.containers = {Exited(pod.spec.initContainers[0], "i1", 3)};
  auto a = ComputePodActions(pod, o);
  EXPECT_THAT(Names(a.containers_to_start), ::testing::ElementsAre("i1")) << "Always: retried";
  pod.spec.restartPolicy = "Never";
  a = ComputePodActions(pod, o);
  EXPECT_TRUE(a.pod_failed);
  EXPECT_TRUE(a.containers_to_start.empty());
}

TEST(ComputePodActionsTest, NeverPodThatRanGetsNoNewSandbox) {
  auto pod = MakePod(kTwoContainers);
  pod.spec.restartPolicy = "Never";
  ObservedPod o;
  auto s = ReadySandbox("sb1", 0);
  s.ready = false;
  o.sandboxes = {s};
  o.containers = {Exited(pod.spec.containers[0], "c1", 0)};
  auto a = ComputePodActions(pod, o);
  EXPECT_FALSE(a.create_sandbox);
  EXPECT_FALSE(a.kill_pod);
  EXPECT_TRUE(a.containers_to_start.empty());
}

TEST(ContainerHashTest, ChangesWithTheSpec) {
  auto pod = MakePod(kTwoContainers);
  auto c = pod.spec.containers[0];
  std::string h = ContainerHash(c);
  EXPECT_EQ(h.size(), 8u);
  EXPECT_EQ(h, ContainerHash(c));
  c.image = "busybox:2";
  EXPECT_NE(h, ContainerHash(c));
}

}  // namespace
}  // namespace berth::agent
