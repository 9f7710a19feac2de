// What a running container gives back: its CRI log, ExecSync, stats.
#include <regex>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "e2e/cri_fixture.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

TEST_F(CriE2eTest, LogsInCriFormat) {
  v1::PodSandboxConfig pod = PodConfig("logs");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  v1::ContainerConfig config = MinimalContainerConfig(
      "talker", kBusybox, {"sh", "-c", "echo hello; echo err >&2; sleep 3600"});
  config.set_log_path("talker/0.log");
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, CreateAndStart(pod_id, pod, config));

  const std::regex stdout_line(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) stdout F hello)");
  const std::regex stderr_line(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) stderr F err)");
  // The log is written asynchronously and gives no event: poll toward a deadline.
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  bool saw_stdout = false, saw_stderr = false;
  std::string content;
  while (absl::Now() < deadline && !(saw_stdout && saw_stderr)) {
    absl::StatusOr<std::string> read = ReadFile(LogPath(pod, config));
    if (read.ok()) {
      content = *read;
      saw_stdout = saw_stderr = false;
      for (absl::string_view line : absl::StrSplit(content, '\n', absl::SkipEmpty())) {
        std::string l(line);
        saw_stdout |= std::regex_match(l, stdout_line);
        saw_stderr |= std::regex_match(l, stderr_line);
      }
    }
    if (!(saw_stdout && saw_stderr)) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(saw_stdout) << "log " << LogPath(pod, config) << ":\n" << content;
  EXPECT_TRUE(saw_stderr) << "log " << LogPath(pod, config) << ":\n" << content;
  E2E_ASSERT_OK_AND_ASSIGN(v1::ContainerStatusResponse status, client_->ContainerStatus(id));
  EXPECT_EQ(status.status().log_path(), LogPath(pod, config));
}

TEST_F(CriE2eTest, ExecSync) {
  v1::PodSandboxConfig pod = PodConfig("exec");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, RunSleeper(pod_id, pod, MinimalContainerConfig("sleeper", kBusybox, {})));

  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse hi, client_->ExecSync(id, {"echo", "hi"}, 10));
  EXPECT_EQ(hi.stdout(), "hi\n");
  EXPECT_EQ(hi.stderr(), "");
  EXPECT_EQ(hi.exit_code(), 0);

  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse seven,
                           client_->ExecSync(id, {"sh", "-c", "echo oops >&2; exit 7"}, 10));
  EXPECT_EQ(seven.exit_code(), 7);
  EXPECT_EQ(seven.stderr(), "oops\n");

  const absl::Time start = absl::Now();
  absl::StatusOr<v1::ExecSyncResponse> slow = client_->ExecSync(id, {"sleep", "10"}, 1);
  const absl::Duration took = absl::Now() - start;
  EXPECT_LT(took, absl::Seconds(8)) << "ExecSync ignored its 1 s timeout";
  // containerd 1.6 answers a timed-out exec with an error (DeadlineExceeded
  // or Unknown naming the timeout) rather than an exit code.
  if (slow.ok()) {
    EXPECT_NE(slow->exit_code(), 0) << "a timed-out exec cannot have succeeded";
    RecordProperty("exec_timeout_result", "exit code " + std::to_string(slow->exit_code()));
  } else {
    RecordProperty("exec_timeout_result", std::string(slow.status().ToString()));
  }
  // The container survives a timed-out exec.
  E2E_ASSERT_OK_AND_ASSIGN(v1::ContainerStatusResponse status, client_->ContainerStatus(id));
  EXPECT_EQ(status.status().state(), v1::CONTAINER_RUNNING);
}

TEST_F(CriE2eTest, Stats) {
  v1::PodSandboxConfig pod = PodConfig("stats");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  v1::ContainerConfig config = MinimalContainerConfig(
      "burner", kBusybox,
      {"sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; x=$(head -c 4000000 /dev/zero | tr '\\0' a); sleep 3600"});
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, CreateAndStart(pod_id, pod, config));

  // Stats come from cgroup files that change without events: poll toward a deadline.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  v1::ContainerStats stats;
  while (absl::Now() < deadline) {
    E2E_ASSERT_OK_AND_ASSIGN(stats, client_->ContainerStats(id));
    if (stats.cpu().usage_core_nano_seconds().value() > 0 &&
        stats.memory().working_set_bytes().value() > 0) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(stats.attributes().id(), id);
  EXPECT_EQ(stats.attributes().metadata().name(), "burner");
  EXPECT_GT(stats.cpu().usage_core_nano_seconds().value(), 0u);
  EXPECT_GT(stats.memory().working_set_bytes().value(), 0u);

  v1::ContainerStatsFilter filter;
  filter.set_pod_sandbox_id(pod_id);
  E2E_ASSERT_OK_AND_ASSIGN(std::vector<v1::ContainerStats> listed,
                           client_->ListContainerStats(filter));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].attributes().id(), id);
  EXPECT_GT(listed[0].cpu().usage_core_nano_seconds().value(), 0u);
  EXPECT_GT(listed[0].memory().working_set_bytes().value(), 0u);

  absl::StatusOr<v1::PodSandboxStats> pod_stats = client_->PodSandboxStats(pod_id);
  if (pod_stats.status().code() == absl::StatusCode::kUnimplemented) {
    RecordProperty("pod_sandbox_stats", "unimplemented by " + runtime_->name());
  } else {
    E2E_ASSERT_OK(pod_stats);
    EXPECT_EQ(pod_stats->attributes().id(), pod_id);
    EXPECT_GT(pod_stats->linux().cpu().usage_core_nano_seconds().value(), 0u);
    EXPECT_GT(pod_stats->linux().memory().working_set_bytes().value(), 0u);
  }
}

}  // namespace
}  // namespace berth::e2e
