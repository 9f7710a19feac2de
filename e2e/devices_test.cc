// Devices: a CRI device appears in the container and may be used; any other
// device node the container makes for itself is refused by the device cgroup.
#include "absl/strings/match.h"
#include "common/fs.h"
#include "e2e/cri_fixture.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

TEST_F(CriE2eTest, DevicesGivenAreUsableOthersAreNot) {
  v1::PodSandboxConfig pod = PodConfig("devices");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  v1::ContainerConfig config = MinimalContainerConfig("dev", kBusybox, {});
  auto* device = config.add_devices();
  device->set_host_path("/dev/zero");
  device->set_container_path("/dev/berth-zero");
  device->set_permissions("rw");
  E2E_ASSERT_OK_AND_ASSIGN(std::string id, RunSleeper(pod_id, pod, config));

  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse given,
                           client_->ExecSync(id, {"sh", "-c", "head -c 4 /dev/berth-zero | wc -c"}, 10));
  EXPECT_EQ(given.exit_code(), 0) << given.stderr();
  EXPECT_EQ(given.stdout(), "4\n");

  // /dev/mem (c 1:1) was not given: mknod is allowed, opening it is not.
  E2E_ASSERT_OK_AND_ASSIGN(
      v1::ExecSyncResponse other,
      client_->ExecSync(id, {"sh", "-c", "mknod /tmp/mem c 1 1 && head -c 1 /tmp/mem"}, 10));
  EXPECT_NE(other.exit_code(), 0);
  EXPECT_TRUE(absl::StrContains(other.stderr(), "not permitted")) << other.stderr();

  // A missing host device is a clear error naming it, and nothing is created.
  v1::ContainerConfig bad = MinimalContainerConfig("bad-dev", kBusybox, {"sleep", "1"});
  auto* missing = bad.add_devices();
  missing->set_host_path("/dev/berth-no-such-device");
  missing->set_container_path("/dev/x");
  auto created = client_->CreateContainer(pod_id, bad, pod);
  EXPECT_FALSE(created.ok());
  EXPECT_TRUE(absl::StrContains(created.status().message(), "/dev/berth-no-such-device"))
      << created.status();
  E2E_ASSERT_OK_AND_ASSIGN(std::vector<v1::Container> containers, client_->ListContainers());
  EXPECT_EQ(containers.size(), 1u);
}

TEST_F(CriE2eTest, PrivilegedContainersSeeTheHostDevices) {
  // A block device of this host (e.g. vda), which only a privileged container gets.
  std::string disk;
  for (const std::string& name : ListDir("/sys/block").value_or(std::vector<std::string>{})) {
    if (PathExists("/dev/" + name) && !absl::StartsWith(name, "loop") && !absl::StartsWith(name, "ram")) {
      disk = name;
      break;
    }
  }
  if (disk.empty()) GTEST_SKIP() << "no block device on this host";
  v1::PodSandboxConfig pod = PodConfig("privileged-devices");
  pod.mutable_linux()->mutable_security_context()->set_privileged(true);
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  v1::ContainerConfig privileged = MinimalContainerConfig("priv", kBusybox, {});
  privileged.mutable_linux()->mutable_security_context()->set_privileged(true);
  E2E_ASSERT_OK_AND_ASSIGN(std::string priv_id, RunSleeper(pod_id, pod, privileged));
  E2E_ASSERT_OK_AND_ASSIGN(std::string plain_id,
                           RunSleeper(pod_id, pod, MinimalContainerConfig("plain", kBusybox, {})));
  const std::vector<std::string> check = {"sh", "-c", "test -b /dev/" + disk + " && echo present"};
  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse in_privileged, client_->ExecSync(priv_id, check, 10));
  EXPECT_EQ(in_privileged.stdout(), "present\n") << in_privileged.stderr();
  E2E_ASSERT_OK_AND_ASSIGN(v1::ExecSyncResponse in_plain, client_->ExecSync(plain_id, check, 10));
  EXPECT_EQ(in_plain.stdout(), "");
}

}  // namespace
}  // namespace berth::e2e
