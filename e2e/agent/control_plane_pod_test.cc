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

// `berthadm init` as one command on a host whose agent runs: its phases,
// the wait for the control plane, the bootstrap token, the join command
// (whose discovery then works); a second init is refused by preflight.
TEST_F(ControlPlanePodTest, BerthadmInitBringsUpTheControlPlaneAndPrintsAWorkingJoinCommand) {
  AGENT_ASSERT_OK(StartAgent());
  const int port = FreePort();
  ASSERT_GT(port, 0);
  std::vector<std::string> init = {
      "init", "--apiserver-advertise-address", "127.0.0.1", "--apiserver-bind-port", std::to_string(port),
      "--node-name", "e2e-node", "--cert-dir", dir_ + "/pki", "--kubeconfig-dir", dir_, "--image-import-dir",
      runtime_->root() + "/state/images/import", "--controlplane-data-dir", dir_ + "/cp-data",
      "--controlplane-binary", BERTH_CONTROLPLANE_PATH, "--cri-socket", "unix://" + runtime_->socket_path(),
      "--timeout", "2m",
      // What this test host may lack; the checks themselves are unit-tested.
      "--ignore-preflight-errors=Mem,NumCPU,Swap,FileContent--proc-sys-net-ipv4-ip_forward,SystemVerification,Port-10250"};
  auto out = Berthadm(init);
  ASSERT_TRUE(out.ok()) << out.status() << "\nevents:\n" << Events();
  EXPECT_NE(out->find("[preflight] Running pre-flight checks"), std::string::npos) << *out;
  EXPECT_NE(out->find("[apiclient] All control plane components are healthy"), std::string::npos) << *out;
  EXPECT_NE(out->find("Your berth control-plane has initialized successfully!"), std::string::npos) << *out;
  // "berthadm join 127.0.0.1:PORT --token T \\\n\t--discovery-token-ca-cert-hash sha256:H"
  size_t join = out->find("berthadm join ");
  ASSERT_NE(join, std::string::npos) << *out;
  std::string line = out->substr(join);
  auto word_after = [&](const std::string& flag) {
    size_t at = line.find(flag + " ");
    if (at == std::string::npos) return std::string();
    size_t from = at + flag.size() + 1;
    return line.substr(from, line.find_first_of(" \n", from) - from);
  };
  std::string endpoint = absl::StrCat("127.0.0.1:", port);
  EXPECT_EQ(line.substr(14, endpoint.size()), endpoint);
  std::string token = word_after("--token");
  std::string hash = word_after("--discovery-token-ca-cert-hash");
  ASSERT_EQ(token.size(), 23u) << line;
  auto discovered = Berthadm({"discover", endpoint, "--token", token, "--discovery-token-ca-cert-hash", hash});
  ASSERT_TRUE(discovered.ok()) << discovered.status();
  auto nodes = RunCommand({"/usr/bin/kubectl", "--kubeconfig", dir_ + "/admin.conf", "get", "namespaces", "-o",
                           "name"},
                          absl::Seconds(30));
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_NE(nodes->find("namespace/kube-public"), std::string::npos) << *nodes;

  auto again = Berthadm(init);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(std::string(again.status().message())
                .find("[ERROR FileAvailable--etc-kubernetes-manifests-berth-controlplane.yaml]"),
            std::string::npos)
      << again.status();

  // reset removes what init made, and only that: the pod stops, the files
  // go, a file of someone else's stays, and preflight passes again.
  AGENT_ASSERT_OK(WriteManifest("someone-elses.yaml.keep", "not a pod\n"));
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/pki/extra.crt", "x").ok());
  auto reset = Berthadm({"reset", "--cert-dir", dir_ + "/pki", "--kubeconfig-dir", dir_, "--image-import-dir",
                         runtime_->root() + "/state/images/import", "--controlplane-data-dir", dir_ + "/cp-data",
                         "--node-name", "e2e-node"});
  ASSERT_TRUE(reset.ok()) << reset.status();
  AGENT_ASSERT_OK(WaitForNoPod("berth-controlplane-e2e-node", absl::Seconds(60)));
  for (const std::string& gone : {dir_ + "/manifests/berth-controlplane.yaml", dir_ + "/admin.conf",
                                  dir_ + "/kubelet.conf", dir_ + "/pki/ca.key", dir_ + "/pki/sa.pub", dir_ + "/cp-data",
                                  runtime_->root() + "/state/images/import/berth-controlplane.tar"}) {
    EXPECT_FALSE(PathExists(gone)) << gone;
  }
  EXPECT_TRUE(PathExists(dir_ + "/manifests/someone-elses.yaml.keep"));
  EXPECT_TRUE(PathExists(dir_ + "/pki/extra.crt"));
  AGENT_ASSERT_OK(RemoveManifest("someone-elses.yaml.keep"));
  std::vector<std::string> preflight = {"init", "phase", "preflight", "--kubeconfig-dir", dir_, "--cri-socket",
                                        "unix://" + runtime_->socket_path(), init.back()};
  auto clean = Berthadm(preflight);
  EXPECT_TRUE(clean.ok()) << clean.status();
}

}  // namespace
}  // namespace berth::e2e
