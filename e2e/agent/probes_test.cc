// Probes under the kubelet, on a pod network: exec / httpGet / tcpSocket /
// grpc probes and their effects: readiness toggles the pod's Ready condition
// (and back), a failed liveness probe restarts the container (counted, with
// the Unhealthy and Killing events), a startup probe holds readiness back
// until it succeeds.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/prober/testing/grpc_health_server.h"
#include "e2e/agent/agent_fixture.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"

namespace berth::e2e {
namespace {

constexpr int kGrpcPort = 19090;

// A pod with one busybox container, probes every second, a 1 s grace period.
std::string ProbedPod(const std::string& name, const std::string& script, const std::string& container_extra,
                      const std::string& spec_extra = "") {
  return absl::StrCat(R"(apiVersion: v1
kind: Pod
metadata: {name: )", name, R"(}
spec:
  terminationGracePeriodSeconds: 1
)", spec_extra, R"(  containers:
  - name: app
    image: docker.io/library/busybox:latest
    imagePullPolicy: Never
    command: [sh, -c, ')", script, R"(']
)", container_extra);
}

int Restarts(const k8s::Pod& p) {
  return p.status.containerStatuses.empty() ? -1 : p.status.containerStatuses[0].restartCount;
}

auto ReadyIs(const std::string& want) {
  return [want](const k8s::Pod& p) {
    for (const auto& c : p.status.conditions) {
      if (c.type == "Ready") return c.status == want;
    }
    return false;
  };
}

TEST_F(AgentTest, ProbesDriveReadinessAndRestarts) {
  absl::Status started = StartAgentWithPodNetwork();
  if (absl::IsFailedPrecondition(started)) GTEST_SKIP() << started;
  AGENT_ASSERT_OK(started);

  // grpc targets: health servers of the test's own, one in the node's
  // network namespace, probed through a hostNetwork pod (its address is the
  // node's), and one in the grpc pod's namespace on its pod IP (below).
  std::unique_ptr<agent::prober::testing::GrpcHealthServer> node_health, pod_health;
  OnNodeNetwork([&] {
    node_health = agent::prober::testing::StartGrpcHealthServer(absl::StrCat(kNodeIp, ":", kGrpcPort));
  });
  ASSERT_NE(node_health->server, nullptr);
  node_health->server->GetHealthCheckService()->SetServingStatus(true);

  AGENT_ASSERT_OK(WriteManifest("exec.yaml", ProbedPod("exec", "touch /tmp/alive /tmp/ready; exec sleep 3600", R"(
    readinessProbe: {exec: {command: [test, -f, /tmp/ready]}, periodSeconds: 1, failureThreshold: 1}
    livenessProbe: {exec: {command: [test, -f, /tmp/alive]}, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 2}
)")));
  AGENT_ASSERT_OK(WriteManifest("http.yaml", ProbedPod("http",
      "mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www", R"(
    ports: [{name: web, containerPort: 8080}]
    readinessProbe: {httpGet: {path: /healthz, port: web}, periodSeconds: 1, failureThreshold: 1}
)")));
  // The liveness probes wait a second: the first probe runs as the container
  // starts (see agent/prober/README.md), before its shell made the file or
  // httpd listens, and a failure there would restart it.
  AGENT_ASSERT_OK(WriteManifest("tcp.yaml", ProbedPod("tcp", "mkdir -p /www && httpd -p 9090 -h /www; exec sleep 3600", R"(
    livenessProbe: {tcpSocket: {port: 9090}, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1}
)")));
  AGENT_ASSERT_OK(WriteManifest("grpchost.yaml", ProbedPod("grpchost", "exec sleep 3600", absl::StrCat(R"(
    readinessProbe: {grpc: {port: )", kGrpcPort, R"(}, periodSeconds: 1, failureThreshold: 1}
)"), "  hostNetwork: true\n")));
  AGENT_ASSERT_OK(WriteManifest("grpc.yaml", ProbedPod("grpc", "exec sleep 3600", absl::StrCat(R"(
    readinessProbe: {grpc: {port: )", kGrpcPort, R"(}, periodSeconds: 1, failureThreshold: 1}
)"))));
  AGENT_ASSERT_OK(WriteManifest("startup.yaml", ProbedPod("startup", "exec sleep 3600", R"(
    startupProbe: {exec: {command: [test, -f, /tmp/started]}, periodSeconds: 1, failureThreshold: 60}
    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
)")));

  // The grpc pod is not ready until a health server listens on its pod IP.
  auto grpc_pod = WaitForPod("grpc-e2e-node", [](const k8s::Pod& p) {
    return p.status.phase == "Running" && !p.status.podIP.empty();
  }, absl::Seconds(60));
  AGENT_ASSERT_OK(grpc_pod.status());
  EXPECT_EQ(ReadyOf(*grpc_pod), "False");
  AGENT_ASSERT_OK(InPodNetwork("grpc-e2e-node", "app", [&] {
    pod_health = agent::prober::testing::StartGrpcHealthServer(absl::StrCat(grpc_pod->status.podIP, ":", kGrpcPort));
  }));
  ASSERT_NE(pod_health->server, nullptr);
  pod_health->server->GetHealthCheckService()->SetServingStatus(true);

  for (const char* name : {"exec", "http", "tcp", "grpchost", "grpc"}) {
    auto pod = WaitForPod(absl::StrCat(name, "-e2e-node"), IsRunningAndReady, absl::Seconds(60));
    AGENT_ASSERT_OK(pod.status());
    EXPECT_EQ(Restarts(*pod), 0) << name;
  }
  // Startup gating: running, but neither started nor ready until its probe succeeds.
  auto gated = WaitForPod("startup-e2e-node", [](const k8s::Pod& p) {
    return p.status.phase == "Running" && !p.status.containerStatuses.empty() &&
           p.status.containerStatuses[0].state.running.has_value();
  }, absl::Seconds(30));
  AGENT_ASSERT_OK(gated.status());
  absl::SleepFor(absl::Seconds(2));  // a few readiness periods: it must stay unready
  gated = WaitForPod("startup-e2e-node", [](const k8s::Pod&) { return true; }, absl::Seconds(5));
  AGENT_ASSERT_OK(gated.status());
  EXPECT_EQ(ReadyOf(*gated), "False");
  EXPECT_FALSE(gated->status.containerStatuses[0].started.value_or(true));
  AGENT_ASSERT_OK(Exec("startup-e2e-node", "app", {"touch", "/tmp/started"}).status());
  auto ready = WaitForPod("startup-e2e-node", ReadyIs("True"), absl::Seconds(20));
  AGENT_ASSERT_OK(ready.status());
  EXPECT_TRUE(ready->status.containerStatuses[0].started.value_or(false));

  // Readiness toggles Ready both ways, without restarting anything.
  AGENT_ASSERT_OK(Exec("exec-e2e-node", "app", {"rm", "/tmp/ready"}).status());
  AGENT_ASSERT_OK(Exec("http-e2e-node", "app", {"rm", "/www/healthz"}).status());
  node_health->server->GetHealthCheckService()->SetServingStatus(false);
  pod_health->server->GetHealthCheckService()->SetServingStatus(false);
  for (const char* name : {"exec", "http", "grpchost", "grpc"}) {
    auto pod = WaitForPod(absl::StrCat(name, "-e2e-node"), ReadyIs("False"), absl::Seconds(20));
    AGENT_ASSERT_OK(pod.status());
    EXPECT_EQ(pod->status.phase, "Running") << name;
    EXPECT_FALSE(pod->status.containerStatuses[0].ready) << name;
    for (const auto& c : pod->status.conditions) {
      if (c.type == "ContainersReady") {
        EXPECT_EQ(c.status, "False") << name;
      }
    }
  }
  AGENT_ASSERT_OK(WaitForEvent({"Unhealthy", "Readiness probe failed", "http-e2e-node"}, absl::Seconds(5)));
  AGENT_ASSERT_OK(Exec("exec-e2e-node", "app", {"touch", "/tmp/ready"}).status());
  AGENT_ASSERT_OK(Exec("http-e2e-node", "app", {"sh", "-c", "echo ok > /www/healthz"}).status());
  node_health->server->GetHealthCheckService()->SetServingStatus(true);
  pod_health->server->GetHealthCheckService()->SetServingStatus(true);
  for (const char* name : {"exec", "http", "grpchost", "grpc"}) {
    auto pod = WaitForPod(absl::StrCat(name, "-e2e-node"), ReadyIs("True"), absl::Seconds(20));
    AGENT_ASSERT_OK(pod.status());
    EXPECT_EQ(Restarts(*pod), 0) << name;
  }

  // Liveness: a failed probe restarts the container (counted), which comes back ready.
  auto before = RunningContainerId("exec-e2e-node", "app");
  AGENT_ASSERT_OK(before.status());
  AGENT_ASSERT_OK(Exec("exec-e2e-node", "app", {"rm", "/tmp/alive"}).status());
  AGENT_ASSERT_OK(Exec("tcp-e2e-node", "app", {"killall", "httpd"}).status());
  for (const char* name : {"exec", "tcp"}) {
    auto pod = WaitForPod(absl::StrCat(name, "-e2e-node"), [](const k8s::Pod& p) {
      return IsRunningAndReady(p) && Restarts(p) == 1;
    }, absl::Seconds(30));
    AGENT_ASSERT_OK(pod.status());
    const auto& cs = pod->status.containerStatuses[0];
    ASSERT_TRUE(cs.lastState.terminated.has_value()) << name;
    EXPECT_NE(cs.lastState.terminated->exitCode, 0) << name;
  }
  auto after = RunningContainerId("exec-e2e-node", "app");
  AGENT_ASSERT_OK(after.status());
  EXPECT_NE(*after, *before);
  AGENT_ASSERT_OK(WaitForEvent({"Unhealthy", "Liveness probe failed", "exec-e2e-node"}, absl::Seconds(5)));
  AGENT_ASSERT_OK(
      WaitForEvent({"Killing", "Container app failed liveness probe, will be restarted", "tcp-e2e-node"},
                   absl::Seconds(5)));

  // Removing the pods first: the grpc pod's probe target goes away with the server.
  for (const char* f : {"exec.yaml", "http.yaml", "tcp.yaml", "grpchost.yaml", "grpc.yaml", "startup.yaml"}) {
    AGENT_ASSERT_OK(RemoveManifest(f));
  }
  for (const char* name : {"exec", "http", "tcp", "grpchost", "grpc", "startup"}) {
    AGENT_ASSERT_OK(WaitForNoPod(absl::StrCat(name, "-e2e-node"), absl::Seconds(30)));
  }
}

TEST_F(AgentTest, LivenessFailureUnderRestartPolicyNeverStopsForGood) {
  AGENT_ASSERT_OK(StartAgent());
  AGENT_ASSERT_OK(WriteManifest("never.yaml", ProbedPod("never", "exec sleep 3600", R"(
    livenessProbe: {exec: {command: ["false"]}, periodSeconds: 1, failureThreshold: 1}
)", "  restartPolicy: Never\n")));
  auto pod = WaitForPod("never-e2e-node", [](const k8s::Pod& p) { return p.status.phase == "Failed"; },
                        absl::Seconds(30));
  AGENT_ASSERT_OK(pod.status());
  const auto& cs = pod->status.containerStatuses[0];
  EXPECT_EQ(cs.restartCount, 0);
  ASSERT_TRUE(cs.state.terminated.has_value());
  EXPECT_NE(cs.state.terminated->exitCode, 0);
  absl::SleepFor(absl::Seconds(2));  // nothing starts it again
  auto containers = ContainersOf("never-e2e-node");
  AGENT_ASSERT_OK(containers.status());
  EXPECT_EQ(containers->size(), 1u);
}

}  // namespace
}  // namespace berth::e2e
