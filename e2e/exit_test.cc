// How containers end: exit codes and reasons, OOM kills, stop grace periods.
#include "absl/time/clock.h"
#include "common/fs.h"
#include "e2e/cri_fixture.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

TEST_F(CriE2eTest, ExitCodesAndReasons) {
  v1::PodSandboxConfig pod = PodConfig("exits");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));

  E2E_ASSERT_OK_AND_ASSIGN(
      std::string failing,
      CreateAndStart(pod_id, pod, MinimalContainerConfig("fails", kBusybox, {"sh", "-c", "exit 3"})));
  E2E_ASSERT_OK_AND_ASSIGN(
      std::string succeeding,
      CreateAndStart(pod_id, pod, MinimalContainerConfig("succeeds", kBusybox, {"true"})));

  E2E_ASSERT_OK_AND_ASSIGN(
      v1::ContainerStatus failed,
      client_->WaitForContainerState(failing, v1::CONTAINER_EXITED, absl::Seconds(30)));
  EXPECT_EQ(failed.exit_code(), 3);
  EXPECT_EQ(failed.reason(), "Error");
  EXPECT_GT(failed.finished_at(), 0);

  E2E_ASSERT_OK_AND_ASSIGN(
      v1::ContainerStatus succeeded,
      client_->WaitForContainerState(succeeding, v1::CONTAINER_EXITED, absl::Seconds(30)));
  EXPECT_EQ(succeeded.exit_code(), 0);
  EXPECT_EQ(succeeded.reason(), "Completed");
  RecordProperty("container_events_streamed", client_->events_supported() ? "yes" : "no");
}

TEST_F(CriE2eTest, OomKilled) {
  v1::PodSandboxConfig pod = PodConfig("oom");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  // The string doubles until the 20 MiB limit makes the kernel OOM-kill sh.
  v1::ContainerConfig config = MinimalContainerConfig(
      "hog", kBusybox, {"sh", "-c", "x=a; while true; do x=$x$x; done"});
  config.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(20 << 20);
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, CreateAndStart(pod_id, pod, config));

  E2E_ASSERT_OK_AND_ASSIGN(
      v1::ContainerStatus status,
      client_->WaitForContainerState(id, v1::CONTAINER_EXITED, absl::Seconds(60)));
  EXPECT_EQ(status.reason(), "OOMKilled");
  EXPECT_EQ(status.exit_code(), 137);
}

TEST_F(CriE2eTest, StopWaitsForTheGracePeriodThenKills) {
  v1::PodSandboxConfig pod = PodConfig("stubborn");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  v1::ContainerConfig config = MinimalContainerConfig(
      "stubborn", kBusybox, {"sh", "-c", "trap '' TERM; echo ready; sleep 3600"});
  config.set_log_path("stubborn.log");
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, CreateAndStart(pod_id, pod, config));
  // Stop only once the trap is set: a SIGTERM before it would end sh at once.
  const absl::Time ready_deadline = absl::Now() + absl::Seconds(10);
  while (ReadFile(LogPath(pod, config)).value_or("").find("ready") == std::string::npos &&
         absl::Now() < ready_deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_NE(ReadFile(LogPath(pod, config)).value_or("").find("ready"), std::string::npos);

  const absl::Time start = absl::Now();
  E2E_ASSERT_OK(client_->StopContainer(id, 2));
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(1500));
  EXPECT_LE(took, absl::Seconds(10));

  E2E_ASSERT_OK_AND_ASSIGN(v1::ContainerStatusResponse status, client_->ContainerStatus(id));
  EXPECT_EQ(status.status().state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(status.status().exit_code(), 137);
}

}  // namespace
}  // namespace berth::e2e
