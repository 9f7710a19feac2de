// What a person at the node sees: /metrics (Prometheus text) has the pod's
// start observation, sync durations and runtime operation counts;
// `berth-agent describe` shows the pod's containers, conditions and its
// Started event; /events filters by pod; an unknown pod is an error.
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "e2e/agent/agent_fixture.h"
#include "gmock/gmock.h"

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The value of the sample `series` (name with its labels, exactly as
// written) in a text exposition, or -1 when absent.
double Sample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, series + " ")) continue;
    double v;
    if (absl::SimpleAtod(line, &v)) return v;
  }
  return -1;
}

TEST_F(AgentTest, MetricsDescribeAndEventsShowThePod) {
  AGENT_ASSERT_OK(StartAgent());
  AGENT_ASSERT_OK(WriteManifest("web.yaml", BusyboxPod("web", "sleep 3600", "Always", R"(  - name: side
    image: docker.io/library/busybox:latest
    imagePullPolicy: Never
    command: [sleep, "3600"]
    env:
    - name: GREETING
      value: hello
)")));
  AGENT_ASSERT_OK(WaitForPod("web-e2e-node", IsRunningAndReady, absl::Seconds(30)).status());

  // /metrics: the pod start was observed once, the syncs and the runtime calls counted.
  std::string metrics;
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    auto m = Get("/metrics");
    AGENT_ASSERT_OK(m.status());
    metrics = *m;
    if (Sample(metrics, "kubelet_pod_start_duration_seconds_count") >= 1) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(metrics, HasSubstr("# TYPE kubelet_pod_start_duration_seconds histogram\n"));
  EXPECT_EQ(Sample(metrics, "kubelet_pod_start_duration_seconds_count"), 1);
  double start_seconds = Sample(metrics, "kubelet_pod_start_duration_seconds_sum");
  EXPECT_GT(start_seconds, 0);
  EXPECT_LT(start_seconds, 30);
  EXPECT_EQ(Sample(metrics, "kubelet_pod_start_duration_seconds_bucket{le=\"+Inf\"}"), 1);
  EXPECT_GE(Sample(metrics, "kubelet_pod_worker_duration_seconds_count{operation_type=\"create\"}"), 1);
  EXPECT_EQ(Sample(metrics, "kubelet_runtime_operations_total{operation_type=\"run_podsandbox\"}"), 1);
  EXPECT_EQ(Sample(metrics, "kubelet_runtime_operations_total{operation_type=\"create_container\"}"), 2);
  EXPECT_EQ(Sample(metrics, "kubelet_runtime_operations_total{operation_type=\"start_container\"}"), 2);
  EXPECT_GE(Sample(metrics, "kubelet_runtime_operations_total{operation_type=\"list_containers\"}"), 1);
  EXPECT_EQ(Sample(metrics, "kubelet_runtime_operations_duration_seconds_count{operation_type=\"start_container\"}"),
            2);
  EXPECT_EQ(Sample(metrics, "kubelet_started_pods_total"), 1);
  EXPECT_EQ(Sample(metrics, "kubelet_started_pods_errors_total"), 0);
  EXPECT_EQ(Sample(metrics, "kubelet_started_containers_total{container_type=\"container\"}"), 2);
  EXPECT_EQ(Sample(metrics, "kubelet_running_pods"), 1);
  EXPECT_EQ(Sample(metrics, "kubelet_running_containers{container_state=\"running\"}"), 2);
  EXPECT_GT(Sample(metrics, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GE(Sample(metrics, "process_cpu_seconds_total"), 0);

  // /events filtered by pod: this pod's only, each step.
  auto events = Get("/events?pod=default/web-e2e-node");
  AGENT_ASSERT_OK(events.status());
  EXPECT_THAT(*events, HasSubstr("Created: Created container app"));
  EXPECT_THAT(*events, HasSubstr("Started: Started container side"));
  for (absl::string_view line : absl::StrSplit(*events, '\n', absl::SkipEmpty())) {
    EXPECT_THAT(std::string(line), HasSubstr(" pod/default/web-e2e-node ")) << *events;
  }
  auto none = Get("/events?pod=default/nobody");
  AGENT_ASSERT_OK(none.status());
  EXPECT_EQ(*none, "");
  EXPECT_FALSE(Get("/events?pod=nonamespace").ok());

  // `berth-agent describe`, by the static pod's name and by the manifest's.
  std::string port = std::to_string(http_port_);
  auto described = RunCommand({BERTH_AGENT_PATH, "describe", "web-e2e-node", "--healthz-port", port}, absl::Seconds(30));
  AGENT_ASSERT_OK(described.status());
  EXPECT_THAT(*described, HasSubstr("Name:             web-e2e-node\n"));
  EXPECT_THAT(*described, HasSubstr("Namespace:        default\n"));
  EXPECT_THAT(*described, HasSubstr("Status:           Running\n"));
  EXPECT_THAT(*described, HasSubstr("Containers:\n  app:\n    Container ID:  berth://"));
  EXPECT_THAT(*described, HasSubstr("  side:\n"));
  EXPECT_THAT(*described, HasSubstr("    Image:         docker.io/library/busybox:latest\n"));
  EXPECT_THAT(*described, HasSubstr("    State:          Running\n"));
  EXPECT_THAT(*described, HasSubstr("      GREETING:  hello\n"));
  EXPECT_THAT(*described, HasSubstr("  Ready                       True \n"));
  EXPECT_THAT(*described, HasSubstr("  ContainersReady             True \n"));
  EXPECT_THAT(*described, HasSubstr("QoS Class:"));
  EXPECT_THAT(*described, HasSubstr("  Type    Reason"));
  EXPECT_THAT(*described, HasSubstr("kubelet  Started container app\n"));
  EXPECT_THAT(*described, HasSubstr("kubelet  Started container side\n"));
  auto by_manifest_name =
      RunCommand({BERTH_AGENT_PATH, "describe", "web", "-n", "default", "--healthz-port", port}, absl::Seconds(30));
  AGENT_ASSERT_OK(by_manifest_name.status());
  EXPECT_THAT(*by_manifest_name, HasSubstr("Name:             web-e2e-node\n"));

  // An unknown pod: a non-zero exit and a message naming it.
  auto unknown = RunCommand({BERTH_AGENT_PATH, "describe", "nobody", "--healthz-port", port}, absl::Seconds(30));
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("pods \"nobody\" not found in namespace \"default\""));
  auto wrong_namespace =
      RunCommand({BERTH_AGENT_PATH, "describe", "web-e2e-node", "-n", "kube-system", "--healthz-port", port},
                 absl::Seconds(30));
  ASSERT_FALSE(wrong_namespace.ok());
  EXPECT_THAT(std::string(wrong_namespace.status().message()), HasSubstr("the agent has default/web-e2e-node"));
}

TEST_F(AgentTest, RemovedPodShowsKillingAndLeavesTheRunningGauges) {
  AGENT_ASSERT_OK(StartAgent());
  AGENT_ASSERT_OK(WriteManifest("web.yaml", BusyboxPod("web", "sleep 3600")));
  AGENT_ASSERT_OK(WaitForPod("web-e2e-node", IsRunningAndReady, absl::Seconds(30)).status());
  AGENT_ASSERT_OK(RemoveManifest("web.yaml"));
  AGENT_ASSERT_OK(WaitForNoPod("web-e2e-node", absl::Seconds(30)));
  std::string metrics;
  absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline) {
    auto m = Get("/metrics");
    AGENT_ASSERT_OK(m.status());
    metrics = *m;
    if (Sample(metrics, "kubelet_running_pods") == 0) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(Sample(metrics, "kubelet_running_pods"), 0);
  EXPECT_EQ(Sample(metrics, "kubelet_running_containers{container_state=\"running\"}"), 0);
  EXPECT_GE(Sample(metrics, "kubelet_runtime_operations_total{operation_type=\"stop_container\"}"), 1);
  EXPECT_GE(Sample(metrics, "kubelet_runtime_operations_total{operation_type=\"stop_podsandbox\"}"), 1);
  auto events = Get("/events?pod=default/web-e2e-node&format=json");
  AGENT_ASSERT_OK(events.status());
  EXPECT_THAT(*events, HasSubstr("\"reason\":\"Killing\""));
  EXPECT_THAT(*events, HasSubstr("\"kind\":\"EventList\""));
  EXPECT_THAT(*events, Not(HasSubstr("\"reason\":\"Failed\"")));
}

}  // namespace
}  // namespace berth::e2e
