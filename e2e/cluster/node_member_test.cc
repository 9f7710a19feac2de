// berth-agent as a cluster member against the real berth-controlplane, both
// on the loopback of the test's own network namespace: the agent gets a
// kubeconfig with a client certificate for system:node:e2e-node (group
// system:nodes) from the test's PKI. Its Node appears Ready with its
// capacity and runtime version, its Lease renews, a pod created through the
// API with spec.nodeName runs (busybox, imported as in the other agent e2e
// tests) and shows Running with its container's status, a kill -9 and
// restart of the agent adopts it, and deleting it stops the container
// (gracefully: SIGTERM) before it leaves the API.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "api/k8s/codec.h"
#include "common/fs.h"
#include "controlplane/berthadm/kubeconfig.h"
#include "controlplane/berthadm/pki.h"
#include "controlplane/client/http_api_client.h"
#include "e2e/agent/agent_fixture.h"
#include "e2e/controlplane/controlplane_process.h"
#include "e2e/controlplane/netns_environment.h"

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const auto* const kNetns = ::testing::AddGlobalTestEnvironment(new NetnsEnvironment("berth-cluster-"));

constexpr char kNode[] = "e2e-node";

class NodeMemberTest : public AgentTest {
 protected:
  void SetUp() override {
    AgentTest::SetUp();
    ASSERT_TRUE(MkdirAll(dir_ + "/cp").ok());
    auto cp = ControlPlaneProcess::Start({.root = dir_ + "/cp"});
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = std::move(*cp);
    auto admin = client::HttpApiClient::FromKubeconfig(*cp_->Kubeconfig("admin"));
    ASSERT_TRUE(admin.ok()) << admin.status();
    admin_ = std::move(*admin);
  }
  void TearDown() override {
    // The API's pods first: the agent stops them (the fixture's teardown waits for /pods to empty).
    if (admin_) {
      if (auto pods = admin_->List(client::resources::kPods, "default"); pods.ok()) {
        for (const auto& p : (*pods)["items"]) {
          (void)admin_->Delete(client::resources::kPods, "default", p["metadata"].value("name", ""));
        }
      }
      absl::Time deadline = absl::Now() + absl::Seconds(30);
      while (absl::Now() < deadline) {
        auto pods = admin_->List(client::resources::kPods, "default");
        if (!pods.ok() || (*pods)["items"].empty()) break;
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
    AgentTest::TearDown();  // then the agent and what is left
    if (HasFailure() && cp_) std::cerr << "controlplane log:\n" << cp_->LogTail() << "\n";
    cp_.reset();
  }

  // kubelet.conf for system:node:<node> in system:nodes, signed by the cluster CA.
  std::string NodeKubeconfig() {
    berthadm::KeyAndCert ca;
    ca.cert_pem = *ReadFile(cp_->pki() + "/ca.crt");
    ca.key_pem = *ReadFile(cp_->pki() + "/ca.key");
    auto cert = berthadm::IssueCertificate(
        {.common_name = absl::StrCat("system:node:", kNode), .organizations = {"system:nodes"}, .client_auth = true,
         .validity = absl::Hours(2)},
        &ca);
    EXPECT_TRUE(cert.ok()) << cert.status();
    std::string path = dir_ + "/kubelet.conf";
    EXPECT_TRUE(AtomicWriteFile(path,
                                k8s::JsonToYaml(berthadm::Kubeconfig(cp_->server(), ca.cert_pem,
                                                                     absl::StrCat("system:node:", kNode), *cert)),
                                0600)
                    .ok());
    return path;
  }

  // Polls Get(ref, ns, name) until `ok` holds on it (deadline `timeout`); the last answer.
  absl::StatusOr<nlohmann::json> WaitFor(const client::ResourceRef& ref, const std::string& ns,
                                         const std::string& name,
                                         const std::function<bool(const absl::StatusOr<nlohmann::json>&)>& ok,
                                         absl::Duration timeout) {
    absl::Time deadline = absl::Now() + timeout;
    absl::StatusOr<nlohmann::json> last;
    while (absl::Now() < deadline) {
      last = admin_->Get(ref, ns, name);
      if (ok(last)) return last.ok() ? *last : nlohmann::json();  // an awaited error (NotFound) is success
      absl::SleepFor(absl::Milliseconds(100));
    }
    return absl::DeadlineExceededError(absl::StrCat(
        "waiting for ", ref.resource, " ", name, "; last: ", last.ok() ? last->dump() : last.status().ToString()));
  }

  std::unique_ptr<ControlPlaneProcess> cp_;
  std::unique_ptr<client::HttpApiClient> admin_;
};

std::string ConditionStatus(const nlohmann::json& object, const std::string& type) {
  for (const auto& c : object.value("/status/conditions"_json_pointer, nlohmann::json::array())) {
    if (c.value("type", "") == type) return c.value("status", "");
  }
  return "";
}

TEST_F(NodeMemberTest, NodeReadyLeaseRenewsAndAnApiPodRunsAndStops) {
  extra_flags_ = {"--kubeconfig", NodeKubeconfig(), "--node-ip", "127.0.0.1"};
  AGENT_ASSERT_OK(StartAgent());

  // The Node, Ready, as the kubelet registers it.
  auto node = WaitFor(
      client::resources::kNodes, "", kNode,
      [](const auto& n) { return n.ok() && ConditionStatus(*n, "Ready") == "True"; }, absl::Seconds(30));
  ASSERT_TRUE(node.ok()) << node.status();
  const nlohmann::json& status = (*node)["status"];
  EXPECT_EQ((*node)["metadata"]["labels"]["kubernetes.io/hostname"], kNode);
  EXPECT_EQ((*node)["metadata"]["labels"]["kubernetes.io/os"], "linux");
  EXPECT_THAT(status["nodeInfo"].value("containerRuntimeVersion", ""), StartsWith("berth://"));
  for (const char* r : {"cpu", "memory", "pods", "ephemeral-storage"}) {
    EXPECT_TRUE(status["capacity"].contains(r)) << r;
    EXPECT_TRUE(status["allocatable"].contains(r)) << r;
  }
  EXPECT_EQ(status["addresses"][0], (nlohmann::json{{"type", "InternalIP"}, {"address", "127.0.0.1"}}));
  for (const char* c : {"MemoryPressure", "DiskPressure", "PIDPressure"}) EXPECT_EQ(ConditionStatus(*node, c), "False") << c;

  // The Lease, renewed (every 10 s).
  auto lease = admin_->Get(client::resources::kLeases, "kube-node-lease", kNode);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], kNode);
  EXPECT_EQ((*lease)["spec"]["leaseDurationSeconds"], 40);
  std::string first_renew = (*lease)["spec"]["renewTime"];

  // A pod bound to the node through the API.
  auto pod_json = k8s::YamlToJson(BusyboxPod("api-pod", "trap \"exit 0\" TERM; while true; do sleep 0.2; done",
                                             "Always", absl::StrCat("  nodeName: ", kNode, "\n")));
  ASSERT_TRUE(pod_json.ok()) << pod_json.status();
  absl::Time create_time = absl::Now();
  auto created = admin_->Create(client::resources::kPods, "default", (*pod_json)[0]);
  ASSERT_TRUE(created.ok()) << created.status();
  auto running = WaitFor(
      client::resources::kPods, "default", "api-pod",
      [](const auto& p) {
        return p.ok() && p->value("/status/phase"_json_pointer, "") == "Running" &&
               ConditionStatus(*p, "Ready") == "True";
      },
      absl::Seconds(60));
  ASSERT_TRUE(running.ok()) << running.status() << "\nevents:\n" << Events();
  // Created through the API -> Running and Ready in the API (polled every 100 ms).
  int64_t to_running_ms = absl::ToInt64Milliseconds(absl::Now() - create_time);
  RecordProperty("api_pod_created_to_running_ms", std::to_string(to_running_ms));
  std::cerr << "api pod: created -> Running and Ready in the API within " << to_running_ms << " ms\n";
  const nlohmann::json& cs = (*running)["status"]["containerStatuses"][0];
  EXPECT_EQ(cs["name"], "app");
  EXPECT_TRUE(cs["ready"].get<bool>());
  EXPECT_TRUE(cs["state"].contains("running")) << cs.dump();
  EXPECT_THAT(cs.value("containerID", ""), StartsWith("berth://"));
  EXPECT_EQ(cs["restartCount"], 0);
  auto container = RunningContainerId("api-pod", "app");
  ASSERT_TRUE(container.ok()) << container.status();

  auto renewed = WaitFor(
      client::resources::kLeases, "kube-node-lease", kNode,
      [&](const auto& l) { return l.ok() && (*l)["spec"].value("renewTime", "") != first_renew; }, absl::Seconds(25));
  EXPECT_TRUE(renewed.ok()) << renewed.status();

  // kill -9 of the agent and a restart: the API pod is adopted (same container, not restarted).
  AGENT_ASSERT_OK(runtime_->KillMainProcess());
  AGENT_ASSERT_OK(runtime_->Restart());
  AGENT_ASSERT_OK(WaitForHealthz());
  auto adopted = WaitForPod("api-pod", IsRunningAndReady, absl::Seconds(30));
  ASSERT_TRUE(adopted.ok()) << adopted.status();
  auto same = RunningContainerId("api-pod", "app");
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(*same, *container);
  auto all = ContainersOf("api-pod");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 1u);

  // Deleting it through the API stops the container (SIGTERM: exit 0), then the pod leaves the API.
  absl::Time delete_time = absl::Now();
  ASSERT_TRUE(admin_->Delete(client::resources::kPods, "default", "api-pod").ok());
  auto gone = WaitFor(
      client::resources::kPods, "default", "api-pod", [](const auto& p) { return absl::IsNotFound(p.status()); },
      absl::Seconds(30));
  ASSERT_TRUE(gone.ok()) << gone.status() << "\nevents:\n" << Events();
  int64_t to_gone_ms = absl::ToInt64Milliseconds(absl::Now() - delete_time);
  RecordProperty("api_pod_deleted_to_gone_ms", std::to_string(to_gone_ms));
  std::cerr << "api pod: graceful delete -> stopped and gone from the API within " << to_gone_ms << " ms\n";
  auto containers = ContainersOf("api-pod");
  ASSERT_TRUE(containers.ok()) << containers.status();
  for (const auto& c : *containers) EXPECT_NE(c.state(), runtime::v1::CONTAINER_RUNNING) << c.id();
}

TEST_F(NodeMemberTest, APodOverMaxPodsIsReportedFailed) {
  extra_flags_ = {"--kubeconfig", NodeKubeconfig(), "--node-ip", "127.0.0.1", "--max-pods", "1"};
  AGENT_ASSERT_OK(StartAgent());
  for (const char* name : {"first", "second"}) {
    auto pod = k8s::YamlToJson(BusyboxPod(name, "trap \"exit 0\" TERM; while true; do sleep 0.2; done", "Always", absl::StrCat("  nodeName: ", kNode, "\n")));
    ASSERT_TRUE(pod.ok()) << pod.status();
    ASSERT_TRUE(admin_->Create(client::resources::kPods, "default", (*pod)[0]).ok());
    if (std::string(name) == "first") {
      auto running = WaitFor(
          client::resources::kPods, "default", name,
          [](const auto& p) { return p.ok() && p->value("/status/phase"_json_pointer, "") == "Running"; },
          absl::Seconds(60));
      ASSERT_TRUE(running.ok()) << running.status();
    }
  }
  auto rejected = WaitFor(
      client::resources::kPods, "default", "second",
      [](const auto& p) { return p.ok() && p->value("/status/phase"_json_pointer, "") == "Failed"; },
      absl::Seconds(30));
  ASSERT_TRUE(rejected.ok()) << rejected.status();
  EXPECT_EQ((*rejected)["status"]["reason"], "OutOfpods");
  EXPECT_THAT((*rejected)["status"].value("message", ""), HasSubstr("capacity: 1"));
}

TEST_F(NodeMemberTest, ABadKubeconfigIsRefusedNamingTheField) {
  std::string path = dir_ + "/bad.conf";
  ASSERT_TRUE(AtomicWriteFile(path,
                              "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'h:1'}\n"
                              "contexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n")
                  .ok());
  // Refused before the agent opens its state or serves anything.
  auto run = RunCommand({BERTH_AGENT_PATH, "--kubeconfig", path, "--state-dir", dir_ + "/state", "--run-dir",
                         dir_ + "/run", "--listen", "unix://" + dir_ + "/cri.sock"},
                        absl::Seconds(20));
  ASSERT_FALSE(run.ok());
  EXPECT_THAT(std::string(run.status().message()),
              HasSubstr("--kubeconfig: " + path + ": clusters[0].cluster.server: \"h:1\" is not an http(s) URL"));
  EXPECT_FALSE(PathExists(dir_ + "/state"));
}

}  // namespace
}  // namespace berth::e2e
