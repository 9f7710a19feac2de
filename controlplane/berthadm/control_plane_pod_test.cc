#include "controlplane/berthadm/control_plane_pod.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "api/k8s/codec.h"
#include "api/k8s/defaults.h"
#include "api/k8s/validation.h"
#include "controlplane/berthadm/test_util.h"
#include "gtest/gtest.h"
#include "runtime-shim/image/image_store.h"

namespace berth::berthadm {
namespace {

TEST(SharedLibrariesTest, ListsWhatLddListsWithTheInterpreter) {
  auto libs = SharedLibraries("/bin/ls");
  ASSERT_TRUE(libs.ok()) << libs.status();
  EXPECT_TRUE(std::any_of(libs->begin(), libs->end(), [](const std::string& l) { return absl::StrContains(l, "libc.so"); }));
  EXPECT_TRUE(std::any_of(libs->begin(), libs->end(), [](const std::string& l) { return absl::StrContains(l, "ld-linux"); }));
  auto not_elf = SharedLibraries("/etc/hostname");
  EXPECT_FALSE(not_elf.ok());
}

// The image of a host binary runs where nothing of the host is: its
// libraries came along. Checked by running it with the image's root as /.
TEST(HostBinaryImageTest, ABinaryRunsFromItsImageRootAlone) {
  TempDir dir;
  auto spec = HostBinaryImageSpec("localhost/berth/ls:test", {"/bin/ls"});
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->entrypoint, std::vector<std::string>{"/usr/local/bin/ls"});
  auto id = image::BuildImageArchive(*spec, dir.path() + "/ls.tar");
  ASSERT_TRUE(id.ok()) << id.status();
  auto store = image::ImageStore::Open(dir.path() + "/store");
  ASSERT_TRUE(store.ok()) << store.status();
  auto imported = (*store)->Import(dir.path() + "/ls.tar");
  ASSERT_TRUE(imported.ok()) << imported.status();
  auto layers = (*store)->LayerDirs((*imported)[0]);
  ASSERT_TRUE(layers.ok()) << layers.status();
  std::string rootfs = (*layers)[0];
  auto [out, rc] = RunShell("chroot " + rootfs + " /usr/local/bin/ls / 2>&1");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(absl::StrContains(out, "usr")) << out;
}

TEST(ControlPlanePodTest, TheAgentsStaticPodParserAcceptsItAsKubeadmWritesIt) {
  ControlPlanePodOptions o;
  o.image = "localhost/berth/controlplane:v0";
  o.advertise_address = "10.0.0.5";
  nlohmann::json pod = ControlPlanePod(o);
  EXPECT_EQ(pod["spec"]["hostNetwork"], true);
  EXPECT_EQ(pod["spec"]["priorityClassName"], "system-node-critical");
  const auto& c = pod["spec"]["containers"][0];
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["host"], "10.0.0.5");
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["scheme"], "HTTPS");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"], "/readyz");
  std::vector<std::string> command = c["command"];
  EXPECT_NE(std::find(command.begin(), command.end(), "--store=sqlite:///var/lib/berth/controlplane/cp.db"),
            command.end());
  EXPECT_NE(std::find(command.begin(), command.end(), "--client-ca-file=/etc/kubernetes/pki/ca.crt"), command.end());
  EXPECT_EQ(pod["metadata"]["annotations"]["kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"],
            "10.0.0.5:6443");
  // What the agent reads from the manifests dir: every field known (strict),
  // valid once defaulted.
  auto parsed = k8s::DecodePods(k8s::JsonToYaml(pod));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 1u);
  k8s::Pod decoded = (*parsed)[0];
  k8s::SetDefaultsPod(&decoded);
  decoded.spec.nodeName = "cp1";
  EXPECT_TRUE(k8s::ValidatePodStatus(decoded).ok()) << k8s::ValidatePodStatus(decoded);
}

}  // namespace
}  // namespace berth::berthadm
