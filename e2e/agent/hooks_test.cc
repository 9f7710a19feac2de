// Lifecycle hooks under the kubelet: postStart runs after the start (a
// failing one kills the container, which is restarted); preStop runs before
// SIGTERM when the pod is deleted, and the grace period covers hook and stop.
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "e2e/agent/agent_fixture.h"
#include "gmock/gmock.h"

namespace berth::e2e {
namespace {

// A pod whose container records its SIGTERM in <out>/term, with hooks and an out dir from the host.
std::string HookedPod(const std::string& name, const std::string& out_dir, int64_t grace, const std::string& script,
                      const std::string& lifecycle) {
  return absl::StrCat(R"(apiVersion: v1
kind: Pod
metadata: {name: )", name, R"(}
spec:
  terminationGracePeriodSeconds: )", grace, R"(
  volumes: [{name: out, hostPath: {path: )", out_dir, R"(, type: DirectoryOrCreate}}]
  containers:
  - name: app
    image: docker.io/library/busybox:latest
    imagePullPolicy: Never
    command: [sh, -c, ')", script, R"(']
    volumeMounts: [{name: out, mountPath: /out}]
    lifecycle:
)", lifecycle);
}

constexpr char kRecordTerm[] =
    "trap \"if [ -f /out/prestop ]; then echo after-prestop > /out/term; else echo no-prestop > /out/term; fi; "
    "exit 0\" TERM; while true; do sleep 0.1; done";

TEST_F(AgentTest, PostStartThenPreStopBeforeSigtermOnDelete) {
  AGENT_ASSERT_OK(StartAgent());
  std::string out = dir_ + "/hooks-out";
  AGENT_ASSERT_OK(WriteManifest("hooked.yaml", HookedPod("hooked", out, 10, kRecordTerm, R"(
      postStart: {exec: {command: [sh, -c, "echo poststart > /out/poststart"]}}
      preStop: {exec: {command: [sh, -c, "sleep 1; echo prestop > /out/prestop"]}}
)")));
  auto pod = WaitForPod("hooked-e2e-node", IsRunningAndReady, absl::Seconds(40));
  AGENT_ASSERT_OK(pod.status());
  // Running is reported only after the postStart hook finished.
  auto poststart = ReadFile(out + "/poststart");
  AGENT_ASSERT_OK(poststart.status());
  EXPECT_EQ(*poststart, "poststart\n");
  EXPECT_FALSE(PathExists(out + "/prestop"));

  AGENT_ASSERT_OK(RemoveManifest("hooked.yaml"));
  AGENT_ASSERT_OK(WaitForNoPod("hooked-e2e-node", absl::Seconds(30)));
  absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (!PathExists(out + "/term") && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  auto term = ReadFile(out + "/term");
  AGENT_ASSERT_OK(term.status());
  EXPECT_EQ(*term, "after-prestop\n") << "SIGTERM came before the preStop hook finished";
  auto containers = ContainersOf("hooked-e2e-node");
  AGENT_ASSERT_OK(containers.status());
  for (const auto& c : *containers) {
    auto status = client_->ContainerStatus(c.id());
    AGENT_ASSERT_OK(status.status());
    EXPECT_EQ(status->status().exit_code(), 0) << "the TERM handler ran, no SIGKILL";
  }
}

TEST_F(AgentTest, PreStopSleepAndStopShareTheGracePeriod) {
  AGENT_ASSERT_OK(StartAgent());
  std::string out = dir_ + "/grace-out";
  // A sleep hook of 2 s, then a TERM handler: the pod goes after the hook.
  AGENT_ASSERT_OK(WriteManifest("sleepy.yaml", HookedPod("sleepy", out, 10, kRecordTerm, R"(
      preStop: {sleep: {seconds: 2}}
)")));
  // A hook longer than the grace period, and a container that ignores TERM:
  // killed at the end of the grace period (3 s), plus the kubelet's 2 s minimum for the stop.
  AGENT_ASSERT_OK(WriteManifest("stuck.yaml", HookedPod("stuck", out + "/stuck", 3, "exec sleep 3600", R"(
      preStop: {exec: {command: [sleep, "60"]}}
)")));
  for (const char* name : {"sleepy-e2e-node", "stuck-e2e-node"}) {
    AGENT_ASSERT_OK(WaitForPod(name, IsRunningAndReady, absl::Seconds(40)).status());
  }
  absl::Time removed = absl::Now();
  AGENT_ASSERT_OK(RemoveManifest("sleepy.yaml"));
  AGENT_ASSERT_OK(RemoveManifest("stuck.yaml"));
  // /pods drops a removed static pod at once (as the kubelet's pod manager):
  // the pod is gone when the runtime has no running container of it.
  std::map<std::string, absl::Duration> gone;
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (gone.size() < 2 && absl::Now() < deadline) {
    for (const char* name : {"sleepy-e2e-node", "stuck-e2e-node"}) {
      if (gone.count(name)) continue;
      auto containers = ContainersOf(name);
      AGENT_ASSERT_OK(containers.status());
      bool running = false;
      for (const auto& c : *containers) running |= c.state() == runtime::v1::CONTAINER_RUNNING;
      if (!running) gone[name] = absl::Now() - removed;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(gone.size(), 2u) << "a pod still runs 30 s after its manifest was removed";
  absl::Duration sleepy = gone["sleepy-e2e-node"];
  absl::Duration stuck = gone["stuck-e2e-node"];
  fprintf(stderr, "sleepy gone after %s, stuck after %s\n", absl::FormatDuration(sleepy).c_str(),
          absl::FormatDuration(stuck).c_str());
  EXPECT_GE(sleepy, absl::Seconds(2));
  EXPECT_GE(stuck, absl::Seconds(3));
  EXPECT_LT(stuck, absl::Seconds(9)) << "the hook must not extend the grace period";
  deadline = absl::Now() + absl::Seconds(10);
  while (!PathExists(out + "/term") && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  auto term = ReadFile(out + "/term");
  AGENT_ASSERT_OK(term.status());
  EXPECT_EQ(*term, "no-prestop\n");  // the sleep hook writes nothing; TERM came after it
}

TEST_F(AgentTest, FailedPostStartHookKillsAndRestartsTheContainer) {
  AGENT_ASSERT_OK(StartAgent());
  AGENT_ASSERT_OK(WriteManifest("badhook.yaml", HookedPod("badhook", dir_ + "/bad-out", 1, "exec sleep 3600", R"(
      postStart: {exec: {command: [sh, -c, "echo hook broke; exit 3"]}}
)")));
  auto pod = WaitForPod("badhook-e2e-node", [](const k8s::Pod& p) {
    return !p.status.containerStatuses.empty() && p.status.containerStatuses[0].restartCount >= 1;
  }, absl::Seconds(40));
  AGENT_ASSERT_OK(pod.status());
  EXPECT_NE(pod->status.phase, "Succeeded");
  AGENT_ASSERT_OK(WaitForEvent({"FailedPostStartHook", "badhook-e2e-node"}, absl::Seconds(10)));
  EXPECT_THAT(Events(), ::testing::HasSubstr("hook broke"));
  // Counted as the kubelet counts a failed start, by its code.
  auto metrics = Get("/metrics");
  AGENT_ASSERT_OK(metrics.status());
  EXPECT_THAT(*metrics, ::testing::HasSubstr(
                            "kubelet_started_containers_errors_total{container_type=\"container\",code=\"PostStartHookError\"}"));
}

}  // namespace
}  // namespace berth::e2e
