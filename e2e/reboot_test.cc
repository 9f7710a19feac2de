// After a host reboot the state dir survives while /run, every process and
// every cgroup are gone. The runtime must start cleanly from that: sandboxes
// NOTREADY, containers EXITED with a reason, exit codes recorded before the
// reboot kept, leftovers released, and the pods recreatable under the same
// names, so a kubelet can carry on (no wiping of storage needed).
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "e2e/cri_fixture.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

bool MountedUnder(const std::string& dir) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    if (line.find(" " + dir + "/") != std::string::npos) return true;
  }
  return false;
}

TEST_F(CriE2eTest, StartsCleanlyAfterAHostReboot) {
  if (IsContainerd()) GTEST_SKIP() << "the reboot is simulated on berth's own directory layout";

  v1::PodSandboxConfig pod = PodConfig("rebooted");
  E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
  E2E_ASSERT_OK_AND_ASSIGN(std::string running,
                           RunSleeper(pod_id, pod, MinimalContainerConfig("runner", kBusybox, {})));
  E2E_ASSERT_OK_AND_ASSIGN(
      std::string finished,
      CreateAndStart(pod_id, pod, MinimalContainerConfig("finisher", kBusybox, {"sh", "-c", "exit 3"})));
  E2E_ASSERT_OK(client_->WaitForContainerState(finished, v1::CONTAINER_EXITED, absl::Seconds(20)));

  // The reboot: the agent dies, every process and cgroup of the node goes,
  // and /run (a tmpfs) comes back empty.
  E2E_ASSERT_OK(runtime_->KillMainProcess());
  E2E_ASSERT_OK(RemoveCgroupTree(runtime_->cgroup_parent()));
  const std::string run_dir = runtime_->root() + "/run";
  E2E_ASSERT_OK(UnmountUnder(run_dir));
  E2E_ASSERT_OK(RemoveAll(run_dir));
  E2E_ASSERT_OK(MkdirAll(run_dir));

  E2E_ASSERT_OK(runtime_->Restart());

  E2E_ASSERT_OK_AND_ASSIGN(std::vector<v1::PodSandbox> pods, client_->ListPodSandbox());
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0].id(), pod_id);
  EXPECT_EQ(pods[0].state(), v1::SANDBOX_NOTREADY);

  E2E_ASSERT_OK_AND_ASSIGN(v1::ContainerStatusResponse was_running, client_->ContainerStatus(running));
  EXPECT_EQ(was_running.status().state(), v1::CONTAINER_EXITED);
  EXPECT_FALSE(was_running.status().reason().empty());
  EXPECT_NE(was_running.status().finished_at(), 0);
  E2E_ASSERT_OK_AND_ASSIGN(v1::ContainerStatusResponse was_finished, client_->ContainerStatus(finished));
  EXPECT_EQ(was_finished.status().state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(was_finished.status().exit_code(), 3);
  EXPECT_EQ(was_finished.status().reason(), "Error");

  // Nothing of the old pod is mounted, and the kubelet's usual cleanup works.
  EXPECT_FALSE(MountedUnder(run_dir));
  E2E_ASSERT_OK(client_->StopPodSandbox(pod_id));
  E2E_ASSERT_OK(client_->RemovePodSandbox(pod_id));
  E2E_ASSERT_OK_AND_ASSIGN(std::vector<v1::Container> containers, client_->ListContainers());
  EXPECT_TRUE(containers.empty());
  EXPECT_FALSE(PathExists(runtime_->root() + "/state/containers/" + running));

  // The same pod (same name, namespace, uid, attempt) runs again.
  E2E_ASSERT_OK_AND_ASSIGN(std::string again, client_->RunPodSandbox(pod));
  E2E_ASSERT_OK_AND_ASSIGN(std::string rerun,
                           RunSleeper(again, pod, MinimalContainerConfig("runner", kBusybox, {})));
  E2E_ASSERT_OK_AND_ASSIGN(v1::ContainerStatusResponse status, client_->ContainerStatus(rerun));
  EXPECT_EQ(status.status().state(), v1::CONTAINER_RUNNING);
}

}  // namespace
}  // namespace berth::e2e
