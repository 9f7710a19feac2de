// A failed call leaves nothing behind: no state file, pinned namespace,
// mount, cgroup or shim (berth's own layout, so berth only).
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "e2e/cri_fixture.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

size_t CountEntries(const std::string& dir) {
  auto names = ListDir(dir);
  return names.ok() ? names->size() : 0;
}

size_t MountsUnder(const std::string& dir) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  size_t count = 0;
  while (std::getline(mountinfo, line)) count += absl::StrContains(line, " " + dir + "/");
  return count;
}

size_t ShimsUnder(const std::string& root) {
  size_t count = 0;
  for (const std::string& name : ListDir("/proc").value_or(std::vector<std::string>{})) {
    int pid = 0;
    if (!absl::SimpleAtoi(name, &pid)) continue;
    std::string cmdline = ReadFile(absl::StrCat("/proc/", pid, "/cmdline")).value_or("");
    count += absl::StrContains(cmdline, "berth-shim") && absl::StrContains(cmdline, root);
  }
  return count;
}

TEST_F(CriE2eTest, FailedCallsLeaveNothingBehind) {
  if (IsContainerd()) GTEST_SKIP() << "inspects berth's state directories";
  const std::string state = runtime_->root() + "/state";
  const std::string run = runtime_->root() + "/run";

  // RunPodSandbox failing after its namespaces were made.
  v1::PodSandboxConfig bad_pod = PodConfig("bad-sysctl");
  (*bad_pod.mutable_linux()->mutable_sysctls())["net.ipv4.berth_no_such_knob"] = "1";
  auto pod_result = client_->RunPodSandbox(bad_pod);
  ASSERT_FALSE(pod_result.ok());
  EXPECT_TRUE(absl::StrContains(pod_result.status().message(), "net.ipv4.berth_no_such_knob"))
      << pod_result.status();
  EXPECT_EQ(CountEntries(state + "/sandboxes"), 0u);
  EXPECT_EQ(CountEntries(run + "/sandboxes"), 0u);
  EXPECT_EQ(MountsUnder(run), 0u);
  // The name was released: the same pod can now be made without the bad sysctl.
  bad_pod.mutable_linux()->clear_sysctls();
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(bad_pod));

  // CreateContainer failing after its cgroup was made (a missing host path
  // is found only while building the spec).
  const size_t shims_before = ShimsUnder(runtime_->root());
  v1::ContainerConfig bad = MinimalContainerConfig("bad-mount", kBusybox, {"sleep", "1"});
  auto* mount = bad.add_mounts();
  mount->set_container_path("/data");
  mount->set_host_path(runtime_->root() + "/no-such-dir");
  auto created = client_->CreateContainer(pod_id, bad, bad_pod);
  ASSERT_FALSE(created.ok());
  EXPECT_TRUE(absl::StrContains(created.status().message(), "no-such-dir")) << created.status();
  EXPECT_EQ(CountEntries(state + "/containers"), 0u);
  EXPECT_EQ(ShimsUnder(runtime_->root()), shims_before);
  const std::string pod_cgroup = "/sys/fs/cgroup/memory" + bad_pod.linux().cgroup_parent();
  size_t cgroup_children = 0;
  for (const std::string& name : ListDir(pod_cgroup).value_or(std::vector<std::string>{})) {
    cgroup_children += PathExists(pod_cgroup + "/" + name + "/cgroup.procs");
  }
  EXPECT_EQ(cgroup_children, 0u);
  // And the container name is free again.
  bad.clear_mounts();
  E2E_EXPECT_OK(client_->CreateContainer(pod_id, bad, bad_pod));
}

}  // namespace
}  // namespace berth::e2e
