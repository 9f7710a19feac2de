// Pods on a CNI network: the runtime runs ADD at RunPodSandbox and DEL at
// StopPodSandbox with Debian's reference plugins (bridge + host-local), the
// whole node inside a network namespace the test makes.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "e2e/cri_fixture.h"
#include "grpcpp/grpcpp.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

constexpr char kPluginDir[] = "/usr/lib/cni";

class NetworkTest : public CriE2eTest {
 protected:
  void SetUp() override {
    CriE2eTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    if (IsContainerd()) GTEST_SKIP() << "containerd's network is set up by hack/containerd-up.sh";
    if (!PathExists(std::string(kPluginDir) + "/bridge")) GTEST_SKIP() << "no CNI reference plugins";
    ipam_dir_ = runtime_->root() + "/ipam";
    const std::string conflist = absl::StrCat(R"({"cniVersion": "1.0.0", "name": "e2e-net", "plugins": [
      {"type": "bridge", "bridge": "berth-e2e0", "isGateway": true, "ipMasq": false,
       "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.77.0/24"}]], "dataDir": ")",
                                               ipam_dir_, R"("}}]})");
    ASSERT_TRUE(runtime_->UsePodNetwork(conflist, kPluginDir).ok());
    ASSERT_TRUE(runtime_->KillMainProcess().ok());
    ASSERT_TRUE(runtime_->Restart().ok());
  }

  std::string PodIp(const std::string& pod_id) {
    auto status = client_->PodSandboxStatus(pod_id);
    return status.ok() ? status->status().network().ip() : "";
  }

  std::string ipam_dir_;
};

TEST_F(NetworkTest, PodsGetAddressesAndReachEachOther) {
  v1::StatusRequest status_req;
  v1::StatusResponse status;
  grpc::ClientContext context;
  ASSERT_TRUE(client_->runtime().Status(&context, status_req, &status).ok());
  bool network_ready = false;
  for (const auto& c : status.status().conditions()) network_ready |= c.type() == "NetworkReady" && c.status();
  EXPECT_TRUE(network_ready);

  v1::PodSandboxConfig a = PodConfig("net-a");
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
}

}  // namespace
}  // namespace berth::e2e
