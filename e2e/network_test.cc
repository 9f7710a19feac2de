// Pods on a CNI network: the runtime runs ADD at RunPodSandbox and DEL at
// StopPodSandbox, the whole node inside a network namespace the test makes.
// Two chains, same config: Debian's reference plugins (bridge + host-local +
// portmap) and berth's own (berth-bridge + berth-host-local + berth-portmap).
#include <future>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "e2e/cri_fixture.h"
#include "grpcpp/grpcpp.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

constexpr char kReferenceDir[] = "/usr/lib/cni";
constexpr int kHostPort = 18080;

struct Chain {
  std::string name;
  std::string bridge, ipam, portmap;
  std::string bin_dir;  // a comma list, as --cni-bin-dir takes it
};

std::vector<Chain> Chains() {
  std::vector<Chain> chains = {{"reference", "bridge", "host-local", "portmap", kReferenceDir}};
#ifdef BERTH_CNI_PLUGIN_DIRS
  chains.push_back({"berth", "berth-bridge", "berth-host-local", "berth-portmap", BERTH_CNI_PLUGIN_DIRS});
#endif
  return chains;
}

class NetworkTest : public CriE2eTest, public ::testing::WithParamInterface<Chain> {
 protected:
  void SetUp() override {
    CriE2eTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    if (IsContainerd()) GTEST_SKIP() << "containerd's network is set up by hack/containerd-up.sh";
    if (!PathExists(std::string(kReferenceDir) + "/bridge")) GTEST_SKIP() << "no CNI reference plugins";
    const Chain& chain = GetParam();
    ipam_dir_ = runtime_->root() + "/ipam";
    const std::string conflist = absl::StrCat(R"({"cniVersion": "1.0.0", "name": "e2e-net", "plugins": [
      {"type": ")", chain.bridge, R"(", "bridge": "berth-e2e0", "isGateway": true, "ipMasq": false,
       "ipam": {"type": ")", chain.ipam, R"(", "ranges": [[{"subnet": "10.88.77.0/24"}]], "dataDir": ")",
                                              ipam_dir_, R"("}},
      {"type": ")", chain.portmap, R"(", "capabilities": {"portMappings": true}}]})");
    ASSERT_TRUE(runtime_->UsePodNetwork(conflist, chain.bin_dir).ok());
    ASSERT_TRUE(runtime_->KillMainProcess().ok());
    ASSERT_TRUE(runtime_->Restart().ok());
  }

  std::string PodIp(const std::string& pod_id) {
    auto status = client_->PodSandboxStatus(pod_id);
    return status.ok() ? status->status().network().ip() : "";
  }

  // A command run in the node's network namespace (setns on the net
  // namespace alone: `ip netns exec` would remount /sys).
  absl::StatusOr<std::string> OnNode(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"nsenter", "--net=/run/netns/" + runtime_->host_netns(), "--"});
    return RunCommand(argv, absl::Seconds(20));
  }

  // GET /index.html from host:port on the node (busybox nc: its static wget
  // crashes resolving names).
  absl::StatusOr<std::string> HttpGetOnNode(const std::string& host, int port) {
    return OnNode({"sh", "-c",
                   absl::StrCat("printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 2 ", host,
                                " ", port)});
  }

  std::string ipam_dir_;
};

INSTANTIATE_TEST_SUITE_P(Chains, NetworkTest, ::testing::ValuesIn(Chains()),
                         [](const ::testing::TestParamInfo<Chain>& info) { return info.param.name; });

TEST_P(NetworkTest, PodsGetAddressesAndReachEachOther) {
  v1::StatusRequest status_req;
  v1::StatusResponse status;
  grpc::ClientContext context;
  ASSERT_TRUE(client_->runtime().Status(&context, status_req, &status).ok());
  bool network_ready = false;
  for (const auto& c : status.status().conditions()) network_ready |= c.type() == "NetworkReady" && c.status();
  EXPECT_TRUE(network_ready);

  v1::PodSandboxConfig a = PodConfig("net-a");
  auto* port = a.add_port_mappings();
  port->set_protocol(v1::TCP);
  port->set_container_port(8080);
  port->set_host_port(kHostPort);
  v1::PodSandboxConfig b = PodConfig("net-b");
  E2E_ASSERT_OK_AND_ASSIGN(std::string a_id, client_->RunPodSandbox(a));
  E2E_ASSERT_OK_AND_ASSIGN(std::string b_id, client_->RunPodSandbox(b));
  const std::string a_ip = PodIp(a_id);
  const std::string b_ip = PodIp(b_id);
  EXPECT_TRUE(absl::StartsWith(a_ip, "10.88.77.")) << a_ip;
  EXPECT_TRUE(absl::StartsWith(b_ip, "10.88.77.")) << b_ip;
  EXPECT_NE(a_ip, b_ip);

  E2E_ASSERT_OK_AND_ASSIGN(std::string b_container,
                           RunSleeper(b_id, b, MinimalContainerConfig("c", kBusybox, {})));
  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse addr, client_->ExecSync(b_container, {"ip", "-o", "-4", "addr", "show", "eth0"}, 10));
  EXPECT_TRUE(absl::StrContains(addr.stdout(), b_ip + "/24")) << addr.stdout() << addr.stderr();
  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse ping,
                           client_->ExecSync(b_container, {"ping", "-c", "1", "-W", "5", a_ip}, 15));
  EXPECT_EQ(ping.exit_code(), 0) << ping.stdout() << ping.stderr();

  // Node to pod and pod to node (the bridge's gateway address is the node's).
  EXPECT_TRUE(OnNode({"/bin/busybox", "ping", "-c", "1", "-W", "5", b_ip}).ok());
  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse to_node,
                           client_->ExecSync(b_container, {"ping", "-c", "1", "-W", "5", "10.88.77.1"}, 15));
  EXPECT_EQ(to_node.exit_code(), 0) << to_node.stdout() << to_node.stderr();

  // The hostPort answers from the node's address and from localhost.
  v1::ContainerConfig web = MinimalContainerConfig("web", kBusybox, {});
  web.clear_command();
  for (const char* arg : {"sh", "-c", "echo hello-from-pod > /tmp/index.html && exec httpd -f -p 8080 -h /tmp"}) {
    web.add_command(arg);
  }
  E2E_ASSERT_OK_AND_ASSIGN(std::string web_id, CreateAndStart(a_id, a, web));
  for (const std::string host : {"10.88.77.1", "127.0.0.1"}) {
    const std::string url = absl::StrCat(host, ":", kHostPort);
    absl::StatusOr<std::string> body;
    // httpd binds a moment after the container starts.
    for (int i = 0; i < 100; ++i) {
      body = HttpGetOnNode(host, kHostPort);
      if (body.ok() && absl::StrContains(*body, "hello-from-pod")) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_TRUE(body.ok()) << url << ": " << body.status();
    EXPECT_TRUE(absl::StrContains(*body, "hello-from-pod")) << url << ": " << *body;
  }

  // The agent restarted keeps every pod's address.
  E2E_ASSERT_OK(runtime_->KillMainProcess());
  E2E_ASSERT_OK(runtime_->Restart());
  EXPECT_EQ(PodIp(a_id), a_ip);

  // DEL at stop releases the address (host-local keeps one file per IP).
  const std::string allocated = ipam_dir_ + "/e2e-net/" + a_ip;
  EXPECT_TRUE(PathExists(allocated));
  E2E_ASSERT_OK(client_->StopPodSandbox(a_id));
  E2E_ASSERT_OK(client_->StopPodSandbox(a_id));
  EXPECT_FALSE(PathExists(allocated));
  EXPECT_EQ(PodIp(a_id), "");
  // The hostPort is gone with the pod.
  auto after = HttpGetOnNode("127.0.0.1", kHostPort);
  EXPECT_FALSE(after.ok() && absl::StrContains(*after, "hello-from-pod")) << *after;
}

// 50 pods started at once get 50 distinct addresses, and all are released.
TEST_P(NetworkTest, ConcurrentPodsGetDistinctAddresses) {
  constexpr int kPods = 50;
  std::vector<std::future<absl::StatusOr<std::string>>> started;
  for (int i = 0; i < kPods; ++i) {
    started.push_back(std::async(std::launch::async, [this, i] {
      return client_->RunPodSandbox(PodConfig(absl::StrCat("many-", i)));
    }));
  }
  std::vector<std::string> ids;
  std::set<std::string> ips;
  for (auto& f : started) {
    auto id = f.get();
    ASSERT_TRUE(id.ok()) << id.status();
    ids.push_back(*id);
    std::string ip = PodIp(*id);
    EXPECT_TRUE(absl::StartsWith(ip, "10.88.77.")) << ip;
    ips.insert(ip);
  }
  EXPECT_EQ(ips.size(), static_cast<size_t>(kPods));
  for (const auto& id : ids) E2E_ASSERT_OK(client_->RemovePodSandbox(id));
  auto left = ListDir(ipam_dir_ + "/e2e-net");
  int addresses = 0;
  if (left.ok()) {
    for (const auto& name : *left) addresses += absl::StartsWith(name, "10.88.77.") ? 1 : 0;
  }
  EXPECT_EQ(addresses, 0);
}

}  // namespace
}  // namespace berth::e2e
