// Containers outlive their runtime's main process, and a restarted runtime
// finds them again, including one that exited while it was down.
#include <signal.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "e2e/cri_fixture.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;

constexpr int kPods = 20;
// Each pod sleeps for a distinct, unusual duration so its process can be
// found on the host by its command line.
constexpr int kSleepBase = 987100;

// Host pids of processes whose command line is exactly "sleep <seconds>".
std::map<int, pid_t> FindSleepers() {
  std::map<int, pid_t> found;
  auto entries = ListDir("/proc");
  if (!entries.ok()) return found;
  for (const std::string& name : *entries) {
    int pid = 0;
    if (!absl::SimpleAtoi(name, &pid)) continue;
    auto cmdline = ReadFile(absl::StrCat("/proc/", pid, "/cmdline"));
    if (!cmdline.ok()) continue;
    for (int i = 0; i < kPods; ++i) {
      if (*cmdline == absl::StrCat("sleep", std::string(1, '\0'), kSleepBase + i,
                                   std::string(1, '\0'))) {
        found[i] = pid;
      }
    }
  }
  return found;
}

TEST_F(CriE2eTest, ContainersSurviveRuntimeKill) {
  std::set<std::string> pod_ids, container_ids;
  std::vector<std::string> container_by_index;
  for (int i = 0; i < kPods; ++i) {
    v1::PodSandboxConfig pod = PodConfig(absl::StrCat("survivor-", i));
    E2E_ASSERT_OK_AND_ASSIGN(std::string pod_id, client_->RunPodSandbox(pod));
    E2E_ASSERT_OK_AND_ASSIGN(
        std::string id,
        CreateAndStart(pod_id, pod,
                       MinimalContainerConfig("sleeper", kBusybox,
                                              {"sleep", absl::StrCat(kSleepBase + i)})));
    pod_ids.insert(pod_id);
    container_ids.insert(id);
    container_by_index.push_back(id);
  }
  std::map<int, pid_t> sleepers = FindSleepers();
  ASSERT_EQ(sleepers.size(), static_cast<size_t>(kPods));

  E2E_ASSERT_OK(runtime_->KillMainProcess());
  for (const auto& [index, pid] : sleepers) {
    EXPECT_EQ(kill(pid, 0), 0) << "container " << index << " (pid " << pid
                               << ") died with the runtime";
  }

  // One container ends while nobody is watching.
  const pid_t victim = sleepers.at(0);
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  E2E_ASSERT_OK(WaitForPidExit(victim, absl::Seconds(10)));

  E2E_ASSERT_OK(runtime_->Restart());

  E2E_ASSERT_OK_AND_ASSIGN(std::vector<v1::PodSandbox> pods, client_->ListPodSandbox());
  std::set<std::string> listed_pods;
  for (const v1::PodSandbox& pod : pods) {
    listed_pods.insert(pod.id());
    EXPECT_EQ(pod.state(), v1::SANDBOX_READY) << pod.id();
  }
  EXPECT_EQ(listed_pods, pod_ids);

  E2E_ASSERT_OK_AND_ASSIGN(
      v1::ContainerStatus exited,
      client_->WaitForContainerState(container_by_index[0], v1::CONTAINER_EXITED,
                                     absl::Seconds(30)));
  EXPECT_EQ(exited.exit_code(), 137);

  E2E_ASSERT_OK_AND_ASSIGN(std::vector<v1::Container> containers, client_->ListContainers());
  std::set<std::string> listed_containers;
  for (const v1::Container& container : containers) {
    listed_containers.insert(container.id());
    if (container.id() != container_by_index[0]) {
      EXPECT_EQ(container.state(), v1::CONTAINER_RUNNING) << container.id();
    }
  }
  EXPECT_EQ(listed_containers, container_ids);
}

}  // namespace
}  // namespace berth::e2e
