// berth-gpu-plugin over a fake device tree with the whole berth-agent: pods
// asking for nvidia.com/gpu run, and from inside each container we see its
// own GPU (device node, NVIDIA_VISIBLE_DEVICES) and the control node, and run
// the tree's "nvidia-smi" (a script standing in for the driver's binary)
// mounted through the plugin's CDI spec; a third pod fails admission.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "device-plugin/fake_gpu_tree.h"
#include "e2e/agent/agent_fixture.h"
#include "gmock/gmock.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;

std::string GpuPod(const std::string& name) {
  return absl::StrCat(R"(apiVersion: v1
kind: Pod
metadata:
  name: )", name, R"(
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: cuda
    image: docker.io/library/busybox:latest
    imagePullPolicy: Never
    command: [sleep, "3600"]
    resources:
      limits: {nvidia.com/gpu: 1}
)");
}

class GpuAgentTest : public AgentTest {
 protected:
  void SetUp() override {
    AgentTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto tree = gpu::FakeGpuTree::CreateWithTwoGpus();
    ASSERT_TRUE(tree.ok()) << tree.status();
    tree_ = *std::move(tree);
    ASSERT_TRUE(tree_->AddFile("/usr/bin/nvidia-smi", "#!/bin/sh\necho \"fake nvidia-smi: $NVIDIA_VISIBLE_DEVICES\"\n",
                               0755)
                    .ok());
    plugins_dir_ = dir_ + "/device-plugins";
    cdi_dir_ = dir_ + "/cdi";
    extra_flags_ = {"--device-plugins-dir", plugins_dir_, "--cdi-spec-dirs", cdi_dir_};
  }
  void TearDown() override {
    // Pods first, while the plugin still answers; the test's directory only
    // once the plugin is gone too (it writes its log there and makes its
    // socket again when the agent's goes: "Directory not empty" otherwise).
    std::string dir = dir_;
    dir_.clear();
    AgentTest::TearDown();
    if (plugin_pid_ > 0) {
      kill(plugin_pid_, SIGTERM);
      waitpid(plugin_pid_, nullptr, 0);
    }
    tree_.reset();
    if (!dir.empty()) {
      absl::Status removed = RemoveAll(dir);
      EXPECT_TRUE(removed.ok()) << removed;
    }
  }
  void StartPlugin() {
    const std::string& r = tree_->root();
    std::vector<std::string> args = {BERTH_GPU_PLUGIN_PATH, "--root", r, "--device-plugin-path", plugins_dir_,
                                     "--cdi-spec", cdi_dir_ + "/berth-nvidia.json", "--health-dir", r + "/health",
                                     "--nvml", "off"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, (dir_ + "/plugin.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ASSERT_EQ(posix_spawn(&plugin_pid_, argv[0], &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
  }

  // Polls the agent's /node until nvidia.com/gpu has `allocatable` (no event to wait on from here).
  bool WaitAllocatable(int allocatable) {
    absl::Time deadline = absl::Now() + absl::Seconds(15);
    while (absl::Now() < deadline) {
      auto node = Get("/node");
      if (node.ok()) {
        auto j = nlohmann::json::parse(*node, nullptr, false);
        const auto path = nlohmann::json::json_pointer("/status/allocatable/nvidia.com~1gpu");
        if (!j.is_discarded() && j.contains(path) && j[path] == std::to_string(allocatable)) return true;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    ADD_FAILURE() << "nvidia.com/gpu allocatable never " << allocatable << "; /node: " << Get("/node").value_or("");
    return false;
  }

  std::unique_ptr<gpu::FakeGpuTree> tree_;
  std::string plugins_dir_, cdi_dir_;
  pid_t plugin_pid_ = -1;
};

TEST_F(GpuAgentTest, EachPodSeesItsOwnGpuAndRunsNvidiaSmiThroughCdi) {
  AGENT_ASSERT_OK(StartAgent());
  StartPlugin();
  ASSERT_TRUE(WaitAllocatable(2));
  AGENT_ASSERT_OK(WriteManifest("a.yaml", GpuPod("a")));
  AGENT_ASSERT_OK(WriteManifest("b.yaml", GpuPod("b")));
  std::set<std::string> seen;
  for (const char* name : {"a", "b"}) {
    auto pod = WaitForPod(absl::StrCat(name, "-e2e-node"), IsRunningAndReady, absl::Seconds(60));
    AGENT_ASSERT_OK(pod.status());
    auto out = Exec(absl::StrCat(name, "-e2e-node"), "cuda",
                    {"sh", "-c", "echo $NVIDIA_VISIBLE_DEVICES $(ls /dev | grep -E '^nvidia[0-9]+$'); "
                                 "test -c /dev/nvidiactl && nvidia-smi"});
    AGENT_ASSERT_OK(out.status());
    std::string text(absl::StripAsciiWhitespace(*out));
    EXPECT_TRUE(text == "GPU-aaaa nvidia0\nfake nvidia-smi: GPU-aaaa" ||
                text == "GPU-bbbb nvidia1\nfake nvidia-smi: GPU-bbbb")
        << text;
    seen.insert(text);
  }
  EXPECT_EQ(seen.size(), 2u);
  AGENT_ASSERT_OK(WriteManifest("c.yaml", GpuPod("c")));
  auto c = WaitForPod("c-e2e-node", [](const k8s::Pod& p) { return p.status.phase == "Failed"; }, absl::Seconds(20));
  AGENT_ASSERT_OK(c.status());
  EXPECT_EQ(c->status.reason, "UnexpectedAdmissionError");
  EXPECT_THAT(c->status.message, HasSubstr("requested number of devices unavailable for nvidia.com/gpu"));
}

}  // namespace
}  // namespace berth::e2e
