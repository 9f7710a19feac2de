// berthadm's control-plane phase on a real agent: the image built from the
// host's berth-controlplane goes into the agent's import dir, the static pod
// manifest into its manifests dir, and the agent runs the control plane as
// a hostNetwork pod whose HTTPS probes make it Ready; kubectl then talks to it
// with the admin.conf berthadm writes.
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "e2e/agent/agent_fixture.h"
#include "e2e/runtime_under_test.h"
#include "gtest/gtest.h"

namespace berth::e2e {
namespace {

using ControlPlanePodTest = AgentTest;

absl::StatusOr<std::string> Berthadm(std::vector<std::string> args) {
  args.insert(args.begin(), BERTHADM_PATH);
  return RunCommand(args, absl::Seconds(120));
}

TEST_F(ControlPlanePodTest, BerthadmsControlPlaneRunsAsAStaticPodAndServesKubectl) {
  AGENT_ASSERT_OK(StartAgent());
  const int port = FreePort();
  ASSERT_GT(port, 0);
  const std::string pki = dir_ + "/pki";
  const std::string data = dir_ + "/cp-data";
  auto certs = Berthadm({"init", "phase", "certs", "all", "--cert-dir", pki, "--apiserver-advertise-address",
                         "127.0.0.1", "--node-name", "e2e-node"});
  ASSERT_TRUE(certs.ok()) << certs.status();
  // Manifests go to <kubeconfig-dir>/manifests: the agent's static pod dir.
  ASSERT_EQ(manifests_, dir_ + "/manifests");
  auto control_plane = Berthadm({"init", "phase", "control-plane", "all", "--apiserver-advertise-address",
                                 "127.0.0.1", "--apiserver-bind-port", std::to_string(port), "--cert-dir", pki,
                                 "--kubeconfig-dir", dir_, "--image-import-dir",
                                 runtime_->root() + "/state/images/import", "--controlplane-data-dir", data,
                                 "--controlplane-binary", BERTH_CONTROLPLANE_PATH});
  ASSERT_TRUE(control_plane.ok()) << control_plane.status();

  // Ready means its readiness probe (/readyz over HTTPS on the node's address) passed.
  auto pod = WaitForPod("berth-controlplane-e2e-node", IsRunningAndReady, absl::Seconds(120));
  ASSERT_TRUE(pod.ok()) << pod.status() << "\nevents:\n" << Events();
  EXPECT_EQ(pod->metadata.namespace_, "kube-system");
  EXPECT_TRUE(pod->spec.hostNetwork);

  auto kubeconfigs = Berthadm({"init", "phase", "kubeconfig", "all", "--control-plane-endpoint",
                               absl::StrCat("127.0.0.1:", port), "--cert-dir", pki, "--kubeconfig-dir", dir_,
                               "--node-name", "e2e-node"});
  ASSERT_TRUE(kubeconfigs.ok()) << kubeconfigs.status();
  const std::string kubectl = "/usr/bin/kubectl";
  auto livez = RunCommand({kubectl, "--kubeconfig", dir_ + "/admin.conf", "get", "--raw", "/livez"}, absl::Seconds(30));
  ASSERT_TRUE(livez.ok()) << livez.status();
  EXPECT_EQ(*livez, "ok");
  auto created = RunCommand({kubectl, "--kubeconfig", dir_ + "/admin.conf", "create", "namespace", "from-e2e"},
                            absl::Seconds(30));
  ASSERT_TRUE(created.ok()) << created.status();
  auto listed = RunCommand({kubectl, "--kubeconfig", dir_ + "/admin.conf", "get", "namespace", "from-e2e", "-o",
                            "jsonpath={.status.phase}"},
                           absl::Seconds(30));
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(*listed, "Active");
  // The store lives on the host, in the hostPath data dir.
  EXPECT_TRUE(PathExists(data + "/cp.db"));
}

}  // namespace
}  // namespace berth::e2e
