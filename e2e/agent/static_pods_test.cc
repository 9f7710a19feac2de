// Static pods: a manifest runs, shows in /pods and CRI; an edit rolls the
// pod; removing the file stops it gracefully; bad manifests are reported and
// run once fixed; `berth-agent pods` prints the table.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "e2e/agent/agent_fixture.h"
#include "gmock/gmock.h"

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;

TEST_F(AgentTest, StaticPodRunsAndIsListed) {
  AGENT_ASSERT_OK(StartAgent());
  absl::Time written = absl::Now();
  AGENT_ASSERT_OK(WriteManifest("web.yaml", BusyboxPod("web", "echo hello from $(hostname); sleep 3600")));
  auto pod = WaitForPod("web-e2e-node", IsRunningAndReady, absl::Seconds(30));
  AGENT_ASSERT_OK(pod.status());
  fprintf(stderr, "file written to Ready in /pods: %s\n", absl::FormatDuration(absl::Now() - written).c_str());
  EXPECT_EQ(pod->metadata.namespace_, "default");
  EXPECT_EQ(pod->spec.nodeName, "e2e-node");
  EXPECT_EQ(pod->metadata.uid.size(), 32u);
  EXPECT_EQ(pod->metadata.annotations["kubernetes.io/config.source"], "file");
  EXPECT_EQ(pod->metadata.annotations["kubernetes.io/config.hash"], pod->metadata.uid);
  EXPECT_EQ(pod->status.qosClass, "BestEffort");
  ASSERT_EQ(pod->status.containerStatuses.size(), 1u);
  const auto& cs = pod->status.containerStatuses[0];
  EXPECT_TRUE(cs.ready);
  EXPECT_EQ(cs.restartCount, 0);
  ASSERT_TRUE(cs.state.running.has_value());
  EXPECT_TRUE(absl::StartsWith(cs.containerID, "berth://"));

  // The same pod through CRI, with the kubelet's labels.
  auto containers = ContainersOf("web-e2e-node");
  AGENT_ASSERT_OK(containers.status());
  ASSERT_EQ(containers->size(), 1u);
  EXPECT_EQ(containers->at(0).state(), runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(containers->at(0).labels().at("io.kubernetes.pod.uid"), pod->metadata.uid);
  EXPECT_EQ(containers->at(0).labels().at("io.kubernetes.container.name"), "app");
  EXPECT_EQ(cs.containerID, "berth://" + containers->at(0).id());
  auto sandboxes = client_->ListPodSandbox();
  AGENT_ASSERT_OK(sandboxes.status());
  ASSERT_EQ(sandboxes->size(), 1u);
  EXPECT_EQ(sandboxes->at(0).metadata().name(), "web-e2e-node");
  EXPECT_EQ(sandboxes->at(0).metadata().uid(), pod->metadata.uid);

  // Its log, where log collectors look.
  std::string log_path = PodLogDir(*pod) + "/app/0.log";
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::string log;
  while (absl::Now() < deadline) {
    auto text = ReadFile(log_path);
    if (text.ok() && absl::StrContains(*text, "hello from web-e2e-node")) {
      log = *text;
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(log, HasSubstr("stdout F hello from web-e2e-node"));

  // `berth-agent pods`.
  auto table = RunCommand({BERTH_AGENT_PATH, "pods", "--healthz-port", std::to_string(http_port_)},
                          absl::Seconds(30));
  AGENT_ASSERT_OK(table.status());
  EXPECT_THAT(*table, HasSubstr("NAME"));
  EXPECT_THAT(*table, HasSubstr("web-e2e-node"));
  EXPECT_THAT(*table, HasSubstr("1/1"));
  EXPECT_THAT(*table, HasSubstr("Running"));
}

TEST_F(AgentTest, EditRollsThePod) {
  AGENT_ASSERT_OK(StartAgent());
  AGENT_ASSERT_OK(WriteManifest("web.yaml", BusyboxPod("web", "sleep 3600")));
  auto before = WaitForPod("web-e2e-node", IsRunningAndReady, absl::Seconds(30));
  AGENT_ASSERT_OK(before.status());
  std::string old_id = before->status.containerStatuses[0].containerID.substr(8);

  AGENT_ASSERT_OK(WriteManifest("web.yaml", BusyboxPod("web", "sleep 3601")));
  std::string old_uid = before->metadata.uid;
  auto after = WaitForPod(
      "web-e2e-node", [&](const k8s::Pod& p) { return p.metadata.uid != old_uid && IsRunningAndReady(p); },
      absl::Seconds(30));
  AGENT_ASSERT_OK(after.status());
  // The old pod stopped before the new one started; the new one runs the new command.
  auto status = client_->ContainerStatus(old_id);
  if (status.ok()) {
    EXPECT_EQ(status->status().state(), runtime::v1::CONTAINER_EXITED);
  }
  auto containers = ContainersOf("web-e2e-node");
  AGENT_ASSERT_OK(containers.status());
  int running = 0;
  for (const auto& c : *containers) {
    if (c.state() != runtime::v1::CONTAINER_RUNNING) continue;
    ++running;
    EXPECT_EQ(c.labels().at("io.kubernetes.pod.uid"), after->metadata.uid);
  }
  EXPECT_EQ(running, 1);
}

TEST_F(AgentTest, RemovingTheManifestStopsThePodGracefully) {
  AGENT_ASSERT_OK(StartAgent());
  AGENT_ASSERT_OK(WriteManifest(
      "graceful.yaml",
      BusyboxPod("graceful", "trap \"echo got TERM; exit 0\" TERM; echo ready; while true; do sleep 0.1; done")));
  auto pod = WaitForPod("graceful-e2e-node", IsRunningAndReady, absl::Seconds(30));
  AGENT_ASSERT_OK(pod.status());
  std::string id = pod->status.containerStatuses[0].containerID.substr(8);
  AGENT_ASSERT_OK(RemoveManifest("graceful.yaml"));
  auto exited = client_->WaitForContainerState(id, runtime::v1::CONTAINER_EXITED, absl::Seconds(30));
  AGENT_ASSERT_OK(exited.status());
  EXPECT_EQ(exited->exit_code(), 0) << "SIGTERM handled: not killed";
  auto log = ReadFile(PodLogDir(*pod) + "/app/0.log");
  AGENT_ASSERT_OK(log.status());
  EXPECT_THAT(*log, HasSubstr("got TERM"));
  AGENT_ASSERT_OK(WaitForNoPod("graceful-e2e-node", absl::Seconds(10)));
  // The sandbox is stopped too.
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  bool all_stopped = false;
  while (!all_stopped && absl::Now() < deadline) {
    auto sandboxes = client_->ListPodSandbox();
    AGENT_ASSERT_OK(sandboxes.status());
    all_stopped = true;
    for (const auto& s : *sandboxes) all_stopped &= s.state() == runtime::v1::SANDBOX_NOTREADY;
    if (!all_stopped) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(all_stopped);
}

TEST_F(AgentTest, BadManifestIsReportedOthersRunAndItRunsOnceFixed) {
  AGENT_ASSERT_OK(StartAgent());
  AGENT_ASSERT_OK(WriteManifest("good.yaml", BusyboxPod("good", "sleep 3600")));
  std::string bad = BusyboxPod("bad", "sleep 3600");
  std::string broken = bad;
  broken.replace(broken.find("name: app"), 9, "name: App");
  AGENT_ASSERT_OK(WriteManifest("bad.yaml", broken));
  AGENT_ASSERT_OK(WriteManifest("zdup.yaml", BusyboxPod("good", "sleep 10")));
  AGENT_ASSERT_OK(WaitForPod("good-e2e-node", IsRunningAndReady, absl::Seconds(30)).status());
  // The events name the file and the field.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::string events;
  while (absl::Now() < deadline) {
    auto e = Get("/events");
    if (e.ok() && absl::StrContains(*e, "bad.yaml") && absl::StrContains(*e, "zdup.yaml")) {
      events = *e;
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(events, HasSubstr(manifests_ + "/bad.yaml"));
  EXPECT_THAT(events, HasSubstr("spec.containers[0].name: Invalid value: \"App\""));
  EXPECT_THAT(events, HasSubstr("Duplicate value: \"good-e2e-node\""));
  auto pods = Pods();
  AGENT_ASSERT_OK(pods.status());
  EXPECT_EQ(pods->size(), 1u);
  // Fixed: it runs.
  AGENT_ASSERT_OK(WriteManifest("bad.yaml", bad));
  AGENT_ASSERT_OK(WaitForPod("bad-e2e-node", IsRunningAndReady, absl::Seconds(30)).status());
}

TEST_F(AgentTest, MaxPodsRejectsTheExtraPod) {
  extra_flags_ = {"--max-pods", "1"};
  AGENT_ASSERT_OK(StartAgent());
  AGENT_ASSERT_OK(WriteManifest("a.yaml", BusyboxPod("a", "sleep 3600")));
  AGENT_ASSERT_OK(WaitForPod("a-e2e-node", IsRunningAndReady, absl::Seconds(30)).status());
  AGENT_ASSERT_OK(WriteManifest("b.yaml", BusyboxPod("b", "sleep 3600")));
  auto b = WaitForPod("b-e2e-node", [](const k8s::Pod& p) { return p.status.phase == "Failed"; }, absl::Seconds(30));
  AGENT_ASSERT_OK(b.status());
  EXPECT_EQ(b->status.reason, "OutOfpods");
  auto containers = ContainersOf("b-e2e-node");
  AGENT_ASSERT_OK(containers.status());
  EXPECT_TRUE(containers->empty());
}

}  // namespace
}  // namespace berth::e2e
