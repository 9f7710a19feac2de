#include "agent/pod/pod_status.h"

#include "agent/pod/test_pods.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

using testing::Exited;
using testing::MakePod;
using testing::ReadySandbox;
using testing::Running;

constexpr char kPod[] = R"(
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: a, image: busybox}
  - {name: b, image: busybox, readinessProbe: {exec: {command: ["true"]}}}
)";

const k8s::PodCondition* Cond(const k8s::PodStatus& s, const std::string& type) {
  for (const auto& c : s.conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

PodStatusInputs Inputs() {
  PodStatusInputs in;
  in.now = absl::FromUnixSeconds(100);
  in.start_time = absl::FromUnixSeconds(50);
  return in;
}

TEST(PodStatusTest, PendingWhileCreating) {
  auto pod = MakePod(kPod);
  auto st = ComputePodStatus(pod, ObservedPod{}, Inputs(), nullptr);
  EXPECT_EQ(st.phase, "Pending");
  EXPECT_EQ(st.qosClass, "BestEffort");
  ASSERT_EQ(st.containerStatuses.size(), 2u);
  EXPECT_EQ(st.containerStatuses[0].state.waiting->reason, "ContainerCreating");
  EXPECT_EQ(Cond(st, "PodReadyToStartContainers")->status, "False");
  EXPECT_EQ(st.startTime, "1970-01-01T00:00:50Z");
}

TEST(PodStatusTest, RunningReadinessAndRestarts) {
  auto pod = MakePod(kPod);
  ObservedPod o;
  o.sandboxes = {ReadySandbox()};
  o.containers = {Running(pod.spec.containers[0], "c2", 1), Exited(pod.spec.containers[0], "c1", 3),
                  Running(pod.spec.containers[1], "c3")};
  auto in = Inputs();
  auto st = ComputePodStatus(pod, o, in, nullptr);
  EXPECT_EQ(st.phase, "Running");
  EXPECT_EQ(st.podIP, "10.0.0.5");
  const auto& a = st.containerStatuses[0];
  EXPECT_TRUE(a.ready);
  EXPECT_EQ(a.restartCount, 1);
  EXPECT_EQ(a.containerID, "berth://c2");
  ASSERT_TRUE(a.lastState.terminated.has_value());
  EXPECT_EQ(a.lastState.terminated->exitCode, 3);
  EXPECT_EQ(a.lastState.terminated->reason, "Error");
  EXPECT_FALSE(st.containerStatuses[1].ready) << "readiness probe without a result";
  EXPECT_EQ(Cond(st, "Ready")->status, "False");
  EXPECT_EQ(Cond(st, "Ready")->message, "containers with unready status: [b]");

  in.readiness["c3"] = true;
  auto ready = ComputePodStatus(pod, o, in, &st);
  EXPECT_EQ(Cond(ready, "Ready")->status, "True");
  EXPECT_EQ(Cond(ready, "ContainersReady")->status, "True");
  EXPECT_EQ(Cond(ready, "PodReadyToStartContainers")->lastTransitionTime,
            Cond(st, "PodReadyToStartContainers")->lastTransitionTime);
}

TEST(PodStatusTest, CrashLoopBackOffWaiting) {
  auto pod = MakePod(kPod);
  ObservedPod o;
  o.sandboxes = {ReadySandbox()};
  o.containers = {Exited(pod.spec.containers[0], "c1", 1, 4), Running(pod.spec.containers[1], "c3")};
  auto in = Inputs();
  in.waiting["a"] = {"CrashLoopBackOff", "back-off 40s restarting failed container"};
  auto st = ComputePodStatus(pod, o, in, nullptr);
  const auto& a = st.containerStatuses[0];
  ASSERT_TRUE(a.state.waiting.has_value());
  EXPECT_EQ(a.state.waiting->reason, "CrashLoopBackOff");
  EXPECT_EQ(a.lastState.terminated->exitCode, 1);
  EXPECT_EQ(a.restartCount, 4);
  EXPECT_EQ(st.phase, "Running");
}

TEST(PodStatusTest, TerminalPhases) {
  auto pod = MakePod(kPod);
  pod.spec.restartPolicy = "Never";
  ObservedPod o;
  o.sandboxes = {ReadySandbox()};
  o.containers = {Exited(pod.spec.containers[0], "c1", 0), Exited(pod.spec.containers[1], "c2", 0)};
  auto st = ComputePodStatus(pod, o, Inputs(), nullptr);
  EXPECT_EQ(st.phase, "Succeeded");
  EXPECT_EQ(st.containerStatuses[0].state.terminated->reason, "Completed");
  EXPECT_EQ(Cond(st, "Ready")->reason, "PodCompleted");
  o.containers[1].exit_code = 2;
  EXPECT_EQ(ComputePodStatus(pod, o, Inputs(), nullptr).phase, "Failed");
  pod.spec.restartPolicy = "OnFailure";
  EXPECT_EQ(ComputePodStatus(pod, o, Inputs(), nullptr).phase, "Running");
}

TEST(PodStatusTest, InitContainersGateInitialized) {
  auto pod = MakePod(R"(
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers: [{name: i1, image: busybox}]
  containers: [{name: a, image: busybox}]
)");
  ObservedPod o;
  o.sandboxes = {ReadySandbox()};
  o.containers = {Running(pod.spec.initContainers[0], "i")};
  auto st = ComputePodStatus(pod, o, Inputs(), nullptr);
  EXPECT_EQ(st.phase, "Pending");
  EXPECT_EQ(Cond(st, "Initialized")->status, "False");
  EXPECT_EQ(Cond(st, "Initialized")->message, "containers with incomplete status: [i1]");
  EXPECT_EQ(st.containerStatuses[0].state.waiting->reason, "PodInitializing");
  o.containers = {Exited(pod.spec.initContainers[0], "i", 0)};
  st = ComputePodStatus(pod, o, Inputs(), nullptr);
  EXPECT_EQ(Cond(st, "Initialized")->status, "True");
}

}  // namespace
}  // namespace berth::agent
