// Agent restart: kill -9 of berth-agent, start it again: every pod is
// adopted, no container is restarted, restart counts are kept. With 6 pods,
// and (disabled until run here) with 30 pods, some probed and some with a
// preStop hook.
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "e2e/agent/agent_fixture.h"
#include "gmock/gmock.h"

namespace berth::e2e {
namespace {

class AgentRestartTest : public AgentTest {
 protected:
  // `pods` sleeping pods plus "once"; with `probed`, every third pod has exec
  // readiness and liveness probes and every fifth a preStop hook.
  void KillNineAndRestart(int pods, bool probed);
};

TEST_F(AgentRestartTest, KillNineAndRestartKeepsEveryContainer) { KillNineAndRestart(5, false); }

TEST_F(AgentRestartTest, KillNineWithThirtyPodsProbedAndHookedRestartsNothing) {
  KillNineAndRestart(29, true);
}

void AgentRestartTest::KillNineAndRestart(int pods, bool probed) {
  AGENT_ASSERT_OK(StartAgent());
  for (int i = 0; i < pods; ++i) {
    std::string extra;
    if (probed && i % 3 == 0) {
      extra += R"(    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
    livenessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
)";
    }
    if (probed && i % 5 == 0) extra += "    lifecycle: {preStop: {exec: {command: [\"true\"]}}}\n";
    AGENT_ASSERT_OK(
        WriteManifest(absl::StrCat("p", i, ".yaml"), BusyboxPod(absl::StrCat("p", i), "sleep 3600", "Always", extra)));
  }
  // One that has restarted once (it fails the first time only).
  AGENT_ASSERT_OK(WriteManifest("once.yaml", R"(apiVersion: v1
kind: Pod
metadata: {name: once}
spec:
  volumes: [{name: work, emptyDir: {}}]
  containers:
  - {name: app, image: docker.io/library/busybox:latest, imagePullPolicy: Never,
     command: [sh, -c, "if [ -f /work/ran ]; then sleep 3600; else touch /work/ran; exit 1; fi"],
     volumeMounts: [{name: work, mountPath: /work}]}
)"));
  std::map<std::string, std::string> ids;  // pod -> container id
  for (int i = 0; i < pods; ++i) {
    std::string name = absl::StrCat("p", i, "-e2e-node");
    auto pod = WaitForPod(name, IsRunningAndReady, absl::Seconds(60));
    AGENT_ASSERT_OK(pod.status());
    ids[name] = pod->status.containerStatuses[0].containerID;
  }
  auto once = WaitForPod("once-e2e-node", [](const k8s::Pod& p) {
    return IsRunningAndReady(p) && p.status.containerStatuses[0].restartCount == 1;
  }, absl::Seconds(60));
  AGENT_ASSERT_OK(once.status());
  ids["once-e2e-node"] = once->status.containerStatuses[0].containerID;

  AGENT_ASSERT_OK(runtime_->KillMainProcess());
  AGENT_ASSERT_OK(runtime_->Restart());
  if (probed) {
    // A few probe periods after the restart: nothing is restarted by the probes either.
    for (const auto& entry : ids) {
      AGENT_ASSERT_OK(WaitForPod(entry.first, IsRunningAndReady, absl::Seconds(30)).status());
    }
    absl::SleepFor(absl::Seconds(3));
  }
  // The same containers, running and ready; nothing new was created.
  for (const auto& [name, id] : ids) {
    auto pod = WaitForPod(name, IsRunningAndReady, absl::Seconds(30));
    AGENT_ASSERT_OK(pod.status());
    EXPECT_EQ(pod->status.containerStatuses[0].containerID, id) << name;
    EXPECT_EQ(pod->status.containerStatuses[0].restartCount, name == "once-e2e-node" ? 1 : 0) << name;
  }
  auto all = client_->ListContainers();
  AGENT_ASSERT_OK(all.status());
  int running = 0;
  for (const auto& c : *all) running += c.state() == runtime::v1::CONTAINER_RUNNING ? 1 : 0;
  EXPECT_EQ(running, pods + 1);
  auto sandboxes = client_->ListPodSandbox();
  AGENT_ASSERT_OK(sandboxes.status());
  EXPECT_EQ(sandboxes->size(), static_cast<size_t>(pods + 1));
}

}  // namespace
}  // namespace berth::e2e
