// Container lifecycle under the kubelet: CrashLoopBackOff intervals, the
// restart policies, init containers in order.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "e2e/agent/agent_fixture.h"
#include "gmock/gmock.h"

namespace berth::e2e {
namespace {

TEST_F(AgentTest, CrashLoopBackOffDoublesTheDelay) {
  AGENT_ASSERT_OK(StartAgent());  // base 1 s, max 8 s
  AGENT_ASSERT_OK(WriteManifest("crash.yaml", BusyboxPod("crash", "echo crashing; exit 1")));
  // Every container instance, by creation time (the agent removes old ones; a 20 ms look sees each).
  std::map<std::string, int64_t> created;
  bool saw_backoff = false;
  absl::Time deadline = absl::Now() + absl::Seconds(40);
  while (created.size() < 5 && absl::Now() < deadline) {
    auto containers = ContainersOf("crash-e2e-node");
    AGENT_ASSERT_OK(containers.status());
    for (const auto& c : *containers) created.emplace(c.id(), c.created_at());
    auto pods = Pods();
    if (pods.ok()) {
      for (const auto& p : *pods) {
        for (const auto& cs : p.status.containerStatuses) {
          if (cs.state.waiting && cs.state.waiting->reason == "CrashLoopBackOff") saw_backoff = true;
        }
      }
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GE(created.size(), 5u);
  std::vector<int64_t> times;
  for (const auto& [id, t] : created) times.push_back(t);
  std::sort(times.begin(), times.end());
  std::vector<double> gaps;
  for (size_t i = 1; i < times.size(); ++i) gaps.push_back((times[i] - times[i - 1]) / 1e9);
  fprintf(stderr, "restart gaps (s): %.2f %.2f %.2f %.2f\n", gaps[0], gaps[1], gaps[2], gaps[3]);
  // The first restart is immediate, then 1 s, 2 s, 4 s (base 1 s, doubling).
  EXPECT_LT(gaps[0], 1.0);
  EXPECT_GE(gaps[1], 0.9);
  EXPECT_LT(gaps[1], 2.5);
  EXPECT_GE(gaps[2], 1.9);
  EXPECT_LT(gaps[2], 3.5);
  EXPECT_GE(gaps[3], 3.9);
  EXPECT_LT(gaps[3], 5.5);
  EXPECT_TRUE(saw_backoff);
  auto pod = WaitForPod("crash-e2e-node", [](const k8s::Pod& p) {
    return !p.status.containerStatuses.empty() && p.status.containerStatuses[0].restartCount >= 4;
  }, absl::Seconds(20));
  AGENT_ASSERT_OK(pod.status());
  const auto& cs = pod->status.containerStatuses[0];
  ASSERT_TRUE(cs.lastState.terminated.has_value());
  EXPECT_EQ(cs.lastState.terminated->exitCode, 1);
  EXPECT_EQ(cs.lastState.terminated->reason, "Error");
}

TEST_F(AgentTest, RestartPolicyNeverAndOnFailure) {
  AGENT_ASSERT_OK(StartAgent());
  AGENT_ASSERT_OK(WriteManifest("never.yaml", BusyboxPod("never", "exit 3", "Never")));
  AGENT_ASSERT_OK(WriteManifest("done.yaml", BusyboxPod("done", "exit 0", "OnFailure")));
  AGENT_ASSERT_OK(WriteManifest("retry.yaml", BusyboxPod("retry", "exit 2", "OnFailure")));
  auto never = WaitForPod("never-e2e-node", [](const k8s::Pod& p) { return p.status.phase == "Failed"; },
                          absl::Seconds(30));
  AGENT_ASSERT_OK(never.status());
  ASSERT_TRUE(never->status.containerStatuses[0].state.terminated.has_value());
  EXPECT_EQ(never->status.containerStatuses[0].state.terminated->exitCode, 3);
  EXPECT_EQ(never->status.containerStatuses[0].state.terminated->reason, "Error");
  auto done = WaitForPod("done-e2e-node", [](const k8s::Pod& p) { return p.status.phase == "Succeeded"; },
                         absl::Seconds(30));
  AGENT_ASSERT_OK(done.status());
  EXPECT_EQ(done->status.containerStatuses[0].state.terminated->reason, "Completed");
  auto retry = WaitForPod("retry-e2e-node", [](const k8s::Pod& p) {
    return !p.status.containerStatuses.empty() && p.status.containerStatuses[0].restartCount >= 1;
  }, absl::Seconds(30));
  AGENT_ASSERT_OK(retry.status());
  EXPECT_EQ(retry->status.phase, "Running");
  // Neither finished pod was restarted: one container each.
  for (const char* name : {"never-e2e-node", "done-e2e-node"}) {
    auto containers = ContainersOf(name);
    AGENT_ASSERT_OK(containers.status());
    EXPECT_EQ(containers->size(), 1u) << name;
    EXPECT_EQ(never->status.containerStatuses[0].restartCount, 0);
  }
}

TEST_F(AgentTest, InitContainersRunInOrderBeforeTheApp) {
  AGENT_ASSERT_OK(StartAgent());
  AGENT_ASSERT_OK(WriteManifest("init.yaml", R"(apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
  - {name: first, image: docker.io/library/busybox:latest, imagePullPolicy: Never,
     command: [sh, -c, "sleep 1; echo first >> /work/order"], volumeMounts: [{name: work, mountPath: /work}]}
  - {name: second, image: docker.io/library/busybox:latest, imagePullPolicy: Never,
     command: [sh, -c, "echo second >> /work/order"], volumeMounts: [{name: work, mountPath: /work}]}
  containers:
  - {name: app, image: docker.io/library/busybox:latest, imagePullPolicy: Never,
     command: [sh, -c, "echo app >> /work/order; sleep 3600"], volumeMounts: [{name: work, mountPath: /work}]}
)"));
  auto pod = WaitForPod("init-e2e-node", IsRunningAndReady, absl::Seconds(40));
  AGENT_ASSERT_OK(pod.status());
  ASSERT_EQ(pod->status.initContainerStatuses.size(), 2u);
  for (const auto& s : pod->status.initContainerStatuses) {
    ASSERT_TRUE(s.state.terminated.has_value()) << s.name;
    EXPECT_EQ(s.state.terminated->exitCode, 0);
    EXPECT_EQ(s.state.terminated->reason, "Completed");
  }
  std::string id = pod->status.containerStatuses[0].containerID.substr(8);
  auto out = client_->ExecSync(id, {"cat", "/work/order"}, 10);
  AGENT_ASSERT_OK(out.status());
  EXPECT_EQ(out->stdout(), "first\nsecond\napp\n");
  bool initialized = false;
  for (const auto& c : pod->status.conditions) {
    if (c.type == "Initialized") initialized = c.status == "True";
  }
  EXPECT_TRUE(initialized);
}

TEST_F(AgentTest, SidecarStartsBeforeTheAppAndIsRestartedAlongsideIt) {
  AGENT_ASSERT_OK(StartAgent());
  // The sidecar's startup probe holds the app back until the sidecar is up;
  // the plain init container runs after the sidecar started.
  AGENT_ASSERT_OK(WriteManifest("sidecar.yaml", R"(apiVersion: v1
kind: Pod
metadata: {name: sidecar}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
  - name: proxy
    image: docker.io/library/busybox:latest
    imagePullPolicy: Never
    restartPolicy: Always
    command: [sh, -c, "sleep 1; echo proxy >> /work/order; touch /work/proxy-up;
              while [ ! -f /work/stop-proxy ]; do sleep 0.2; done; rm /work/stop-proxy; exit 1"]
    startupProbe: {exec: {command: [test, -f, /work/proxy-up]}, periodSeconds: 1, failureThreshold: 30}
    volumeMounts: [{name: work, mountPath: /work}]
  - {name: setup, image: docker.io/library/busybox:latest, imagePullPolicy: Never,
     command: [sh, -c, "echo setup >> /work/order"], volumeMounts: [{name: work, mountPath: /work}]}
  containers:
  - {name: app, image: docker.io/library/busybox:latest, imagePullPolicy: Never,
     command: [sh, -c, "echo app >> /work/order; exec sleep 3600"], volumeMounts: [{name: work, mountPath: /work}]}
)"));
  auto pod = WaitForPod("sidecar-e2e-node", IsRunningAndReady, absl::Seconds(40));
  AGENT_ASSERT_OK(pod.status());
  ASSERT_EQ(pod->status.initContainerStatuses.size(), 2u);
  const auto& proxy = pod->status.initContainerStatuses[0];
  EXPECT_TRUE(proxy.state.running.has_value()) << "a sidecar keeps running";
  EXPECT_TRUE(proxy.started.value_or(false));
  auto order = Exec("sidecar-e2e-node", "app", {"cat", "/work/order"});
  AGENT_ASSERT_OK(order.status());
  EXPECT_EQ(*order, "proxy\nsetup\napp\n");
  // A sidecar that dies is restarted while the app goes on.
  auto app_before = RunningContainerId("sidecar-e2e-node", "app");
  AGENT_ASSERT_OK(app_before.status());
  AGENT_ASSERT_OK(Exec("sidecar-e2e-node", "app", {"touch", "/work/stop-proxy"}).status());
  auto again = WaitForPod("sidecar-e2e-node", [](const k8s::Pod& p) {
    return p.status.initContainerStatuses.size() == 2 && p.status.initContainerStatuses[0].restartCount >= 1 &&
           p.status.initContainerStatuses[0].state.running.has_value();
  }, absl::Seconds(30));
  AGENT_ASSERT_OK(again.status());
  auto app_after = RunningContainerId("sidecar-e2e-node", "app");
  AGENT_ASSERT_OK(app_after.status());
  EXPECT_EQ(*app_after, *app_before);
  EXPECT_EQ(again->status.containerStatuses[0].restartCount, 0);
}

}  // namespace
}  // namespace berth::e2e
