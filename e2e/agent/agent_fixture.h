// The fixture of the agent e2e tests: berth-agent (through RuntimeUnderTest)
// under a temporary root with busybox and pause imported, a temporary static
// pod dir, pod logs under the root, a free localhost port for /pods, and a
// 1 s CrashLoopBackOff base. Torn down even when a test fails.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/k8s/pod.h"
#include "e2e/cri_client.h"
#include "e2e/runtime_under_test.h"
#include "gtest/gtest.h"

namespace berth::e2e {

#define AGENT_ASSERT_OK(expr)                         \
  do {                                                \
    const ::absl::Status agent_status_ = (expr);      \
    ASSERT_TRUE(agent_status_.ok()) << agent_status_; \
  } while (0)

class AgentTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  void TearDown() override;

  // Extra agent flags for this test (call before StartAgent).
  std::vector<std::string> extra_flags_;
  absl::Status StartAgent();
  // StartAgent, then the agent again inside a network namespace of its own
  // with a CNI bridge network (Debian's reference plugins) so that pods get
  // addresses (httpGet / tcpSocket / grpc probes reach them there). The node
  // gets kNodeIp on a veth (hostNetwork pods' address). FailedPrecondition
  // when the plugins are missing (the test skips).
  absl::Status StartAgentWithPodNetwork();
  absl::Status WaitForHealthz();
  static constexpr char kNodeIp[] = "10.89.0.1";
  // Runs `fn` on a thread inside the node's network namespace (or here when
  // the agent has none).
  void OnNodeNetwork(const std::function<void()>& fn);
  // Runs `fn` on a thread inside the network namespace of the pod's running
  // `container` (a server there listens on the pod IP).
  absl::Status InPodNetwork(const std::string& pod_name, const std::string& container,
                            const std::function<void()>& fn);

  // Writes (atomically) or removes a manifest in the static pod dir.
  absl::Status WriteManifest(const std::string& file, const std::string& text);
  absl::Status RemoveManifest(const std::string& file);

  // The agent's /pods, decoded.
  absl::StatusOr<std::vector<k8s::Pod>> Pods();
  absl::StatusOr<std::string> Get(const std::string& target);
  // Waits until /pods has a pod named `name` (the static name, "<name>-e2e-node")
  // for which `ok` holds; returns it. DeadlineExceeded shows the last one seen.
  absl::StatusOr<k8s::Pod> WaitForPod(const std::string& name, const std::function<bool(const k8s::Pod&)>& ok,
                                      absl::Duration timeout);
  absl::Status WaitForNoPod(const std::string& name, absl::Duration timeout);
  // The CRI containers of pod `name` (every state).
  absl::StatusOr<std::vector<runtime::v1::Container>> ContainersOf(const std::string& pod_name);
  // The running container `container` of pod `pod_name`, by its CRI labels.
  absl::StatusOr<std::string> RunningContainerId(const std::string& pod_name, const std::string& container);
  // Runs `cmd` in that container (CRI ExecSync); the exit code must be 0.
  absl::StatusOr<std::string> Exec(const std::string& pod_name, const std::string& container,
                                   const std::vector<std::string>& cmd);
  // The agent's /events text.
  std::string Events();
  // Waits until /events has a line holding every one of `parts`.
  absl::Status WaitForEvent(const std::vector<std::string>& parts, absl::Duration timeout);
  // The Ready condition's status ("True", "False", "" when absent).
  static std::string ReadyOf(const k8s::Pod& pod);

  static bool IsRunningAndReady(const k8s::Pod& pod);
  std::string PodLogDir(const k8s::Pod& pod) const;

  static std::string* images_dir_;
  std::unique_ptr<RuntimeUnderTest> runtime_;
  std::unique_ptr<CriClient> client_;
  std::string dir_;        // our own temp dir: manifests/, logs/
  std::string manifests_;  // the static pod dir
  std::string logs_;
  int http_port_ = 0;
};

// A TCP port free on 127.0.0.1 just now (0 when none).
int FreePort();

// A one-container busybox pod manifest.
std::string BusyboxPod(const std::string& name, const std::string& script,
                       const std::string& restart_policy = "Always", const std::string& extra_spec = "");

}  // namespace berth::e2e
