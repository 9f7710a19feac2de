#include "agent/metrics/kubelet_metrics.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "agent/metrics/process_metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent::metrics {
namespace {

double Sample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, series + " ")) continue;
    double v;
    if (absl::SimpleAtod(line, &v)) return v;
  }
  return -1;
}

std::string Rfc3339(absl::Time t) { return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone()); }

k8s::Pod TwoContainerPod() {
  k8s::Pod pod;
  pod.metadata.name = "p";
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "u1";
  pod.spec.containers.resize(2);
  pod.spec.containers[0].name = "a";
  pod.spec.containers[1].name = "b";
  return pod;
}

k8s::ContainerStatus Running(const std::string& name, const std::string& id, absl::Time started) {
  k8s::ContainerStatus s;
  s.name = name;
  s.containerID = id;
  s.state.running = k8s::ContainerStateRunning{Rfc3339(started)};
  return s;
}

k8s::ContainerStatus Waiting(const std::string& name) {
  k8s::ContainerStatus s;
  s.name = name;
  s.state.waiting = k8s::ContainerStateWaiting{"ContainerCreating", ""};
  return s;
}

TEST(KubeletOperationNameTest, IsTheKubeletsName) {
  EXPECT_EQ(KubeletOperationName("RunPodSandbox"), "run_podsandbox");
  EXPECT_EQ(KubeletOperationName("PodSandboxStatus"), "podsandbox_status");
  EXPECT_EQ(KubeletOperationName("ListPodSandbox"), "list_podsandbox");
  EXPECT_EQ(KubeletOperationName("ListContainers"), "list_containers");
  EXPECT_EQ(KubeletOperationName("ImageFsInfo"), "image_fs_info");
  EXPECT_EQ(KubeletOperationName("ExecSync"), "exec_sync");
  EXPECT_EQ(KubeletOperationName("Version"), "version");
}

TEST(KubeletMetricsTest, PodStartIsObservedOnceWhenEveryContainerRuns) {
  Registry registry;
  KubeletMetrics m(&registry, nullptr);
  k8s::Pod pod = TwoContainerPod();
  absl::Time seen = absl::Now() - absl::Seconds(3);
  k8s::PodStatus pending;
  pending.phase = "Pending";
  pending.containerStatuses = {Running("a", "berth://1", absl::Now()), Waiting("b")};
  m.PodSynced(pod, seen, nullptr, pending, absl::Milliseconds(20));
  std::string text = registry.Render();
  EXPECT_EQ(Sample(text, "kubelet_pod_start_duration_seconds_count"), -1);  // no observation yet
  EXPECT_EQ(Sample(text, "kubelet_pod_worker_duration_seconds_count{operation_type=\"create\"}"), 1);
  EXPECT_EQ(Sample(text, "kubelet_started_containers_total{container_type=\"container\"}"), 1);

  k8s::PodStatus running = pending;
  running.phase = "Running";
  running.containerStatuses[1] = Running("b", "berth://2", absl::Now());
  m.PodSynced(pod, seen, &pending, running, absl::Milliseconds(20));
  m.PodSynced(pod, seen, &running, running, absl::Milliseconds(20));  // nothing new
  text = registry.Render();
  EXPECT_EQ(Sample(text, "kubelet_pod_start_duration_seconds_count"), 1);
  EXPECT_GE(Sample(text, "kubelet_pod_start_duration_seconds_sum"), 3);
  EXPECT_EQ(Sample(text, "kubelet_pod_start_duration_seconds_bucket{le=\"2\"}"), 0);
  EXPECT_EQ(Sample(text, "kubelet_pod_start_duration_seconds_bucket{le=\"4\"}"), 1);
  EXPECT_EQ(Sample(text, "kubelet_pod_worker_duration_seconds_count{operation_type=\"sync\"}"), 2);
  EXPECT_EQ(Sample(text, "kubelet_started_containers_total{container_type=\"container\"}"), 2);

  // A restart is a container start, not a pod start.
  k8s::PodStatus restarted = running;
  restarted.containerStatuses[0] = Running("a", "berth://3", absl::Now());
  m.PodSynced(pod, seen, &running, restarted, absl::Milliseconds(20));
  text = registry.Render();
  EXPECT_EQ(Sample(text, "kubelet_started_containers_total{container_type=\"container\"}"), 3);
  EXPECT_EQ(Sample(text, "kubelet_pod_start_duration_seconds_count"), 1);
}

TEST(KubeletMetricsTest, AnAdoptedRunningPodIsNotAStart) {
  Registry registry;
  KubeletMetrics m(&registry, nullptr);
  k8s::Pod pod = TwoContainerPod();
  absl::Time agent_restart = absl::Now();
  k8s::PodStatus running;
  running.phase = "Running";
  running.containerStatuses = {Running("a", "berth://1", agent_restart - absl::Minutes(5)),
                               Running("b", "berth://2", agent_restart - absl::Minutes(5))};
  m.PodSynced(pod, agent_restart, nullptr, running, absl::Milliseconds(5));
  std::string text = registry.Render();
  EXPECT_EQ(Sample(text, "kubelet_pod_start_duration_seconds_count"), -1);
  EXPECT_EQ(Sample(text, "kubelet_started_containers_total{container_type=\"container\"}"), -1);
}

TEST(KubeletMetricsTest, RuntimeOperationsAndSandboxStarts) {
  Registry registry;
  KubeletMetrics m(&registry, nullptr);
  m.RuntimeOperation("run_podsandbox", absl::Milliseconds(30), false);
  m.PodSandboxStarted(false);
  m.RuntimeOperation("run_podsandbox", absl::Milliseconds(3), true);
  m.PodSandboxStarted(true);
  std::string text = registry.Render();
  EXPECT_EQ(Sample(text, "kubelet_runtime_operations_total{operation_type=\"run_podsandbox\"}"), 2);
  EXPECT_EQ(Sample(text, "kubelet_runtime_operations_errors_total{operation_type=\"run_podsandbox\"}"), 1);
  EXPECT_EQ(Sample(text, "kubelet_runtime_operations_duration_seconds_bucket{operation_type=\"run_podsandbox\",le=\"0.005\"}"), 1);
  EXPECT_EQ(Sample(text, "kubelet_runtime_operations_duration_seconds_count{operation_type=\"run_podsandbox\"}"), 2);
  EXPECT_EQ(Sample(text, "kubelet_started_pods_total"), 2);
  EXPECT_EQ(Sample(text, "kubelet_started_pods_errors_total"), 1);
}

TEST(KubeletMetricsTest, ContainerStartErrorsByTypeAndCode) {
  Registry registry;
  KubeletMetrics m(&registry, nullptr);
  m.ContainerStartFailed("container", "RunContainerError");
  m.ContainerStartFailed("container", "RunContainerError");
  m.ContainerStartFailed("init_container", "ErrImagePull");
  std::string text = registry.Render();
  EXPECT_EQ(Sample(text, "kubelet_started_containers_errors_total{container_type=\"container\",code=\"RunContainerError\"}"), 2);
  EXPECT_EQ(Sample(text, "kubelet_started_containers_errors_total{container_type=\"init_container\",code=\"ErrImagePull\"}"), 1);
}

TEST(ProcessMetricsTest, ParsesProcStat) {
  // A command with spaces and parentheses; utime 250 + stime 50 ticks, start 1000 ticks, vsize, rss 100 pages.
  std::string stat =
      "42 (my (odd) cmd) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 123456789 100 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0";
  auto s = ParseProcessStat(stat, 1700000000, 100, 4096);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 3);
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1700000010);
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 123456789);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 409600);
  EXPECT_FALSE(ParseProcessStat("42 (x) S 1 2", 0, 100, 4096).ok());
  Registry registry;
  AddProcessMetrics(&registry);
  EXPECT_GT(Sample(registry.Render(), "process_resident_memory_bytes"), 0);
}

}  // namespace
}  // namespace berth::agent::metrics
