// berth-gpu-plugin over a fake device tree, registered with the agent's
// DeviceManager (agent/devices) in a temporary device-plugins dir: capacity,
// two pods with one GPU each getting different device nodes,
// NVIDIA_VISIBLE_DEVICES and CDI devices, a third pod failing admission, an
// unhealthy GPU leaving allocatable, time-slicing, the plugin restarting and
// the agent's device manager restarting (allocations kept, the plugin back
// within a second).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

#include "agent/devices/device_manager.h"
#include "common/fs.h"
#include "device-plugin/fake_gpu_tree.h"

extern char** environ;

namespace berth::agent::devices {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
constexpr char kGpu[] = "nvidia.com/gpu";

k8s::Pod GpuPod(const std::string& name, int gpus) {
  k8s::Pod pod;
  pod.metadata.name = name;
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "uid-" + name;
  k8s::Container c;
  c.name = "cuda";
  c.image = "busybox";
  c.resources.limits[kGpu] = *k8s::Quantity::Parse(std::to_string(gpus));
  pod.spec.containers.push_back(c);
  return pod;
}

std::string Env(const cri::ContainerConfig& config, const std::string& key) {
  for (const auto& kv : config.envs()) {
    if (kv.key() == key) return kv.value();
  }
  return "";
}

class PluginProcess {
 public:
  explicit PluginProcess(std::vector<std::string> args, const std::string& log) {
    std::string path = BERTH_GPU_PLUGIN_PATH;
    std::vector<char*> argv = {path.data()};
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (posix_spawn(&pid_, path.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    pidfd_ = pid_ > 0 ? static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)) : -1;
  }
  ~PluginProcess() { Stop(SIGKILL); }
  bool started() const { return pidfd_ >= 0; }
  // Signals the plugin and waits (up to 10 s) for it to exit; its exit code.
  int Stop(int sig) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    struct pollfd p = {pidfd_, POLLIN, 0};
    poll(&p, 1, 10000);
    int status = 0;
    waitpid(pid_, &status, 0);
    close(pidfd_);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
};

class GpuDevicesE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tree = gpu::FakeGpuTree::CreateWithTwoGpus();
    ASSERT_TRUE(tree.ok()) << tree.status();
    tree_ = *std::move(tree);
    ASSERT_TRUE(tree_->AddFile("/etc/berth/gpu.yaml", "version: v1\n").ok());
    dir_ = tree_->root() + "/device-plugins";
    ASSERT_TRUE(MkdirAll(dir_).ok());
  }
  void TearDown() override {
    plugin_.reset();
    manager_.reset();
  }

  void StartManager() {
    DeviceManagerOptions o;
    o.plugins_dir = dir_;
    o.grace_period = absl::Seconds(30);
    o.rpc_timeout = absl::Seconds(5);
    manager_ = std::make_unique<DeviceManager>(o);
    ASSERT_TRUE(manager_->Start().ok());
  }
  void StartPlugin() {
    const std::string& r = tree_->root();
    plugin_ = std::make_unique<PluginProcess>(
        std::vector<std::string>{"--root", r, "--device-plugin-path", dir_, "--cdi-spec", r + "/cdi/berth-nvidia.json",
                                 "--config", r + "/etc/berth/gpu.yaml", "--health-dir", r + "/health", "--nvml", "off"},
        r + "/plugin.log");
    ASSERT_TRUE(plugin_->started());
  }
  std::string Log() const {
    auto text = ReadFile(tree_->root() + "/plugin.log");
    return text.ok() ? *text : "";
  }
  // Polls the manager's view (its own state; no events to wait on) until
  // `ok` holds or 15 s pass.
  bool WaitForView(const std::function<bool(const ResourceView&)>& ok) {
    auto deadline = Clock::now() + std::chrono::seconds(15);
    while (Clock::now() < deadline) {
      auto resources = manager_->Resources();
      auto it = resources.find(kGpu);
      if (it != resources.end() && ok(it->second)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  void Write(const std::string& path, const std::string& content) {
    ASSERT_TRUE(AtomicWriteFile(tree_->root() + path, content, 0644, false).ok());
  }

  std::unique_ptr<gpu::FakeGpuTree> tree_;
  std::string dir_;
  std::unique_ptr<DeviceManager> manager_;
  std::unique_ptr<PluginProcess> plugin_;
};

TEST_F(GpuDevicesE2eTest, PodsGetDistinctGpusAndTheNodeFollowsThePlugin) {
  StartManager();
  StartPlugin();
  ASSERT_TRUE(WaitForView([](const ResourceView& v) { return v.capacity == 2 && v.allocatable == 2; })) << Log();

  // Two pods with one GPU each: different nodes, env and CDI devices.
  k8s::Pod a = GpuPod("a", 1), b = GpuPod("b", 1);
  ASSERT_TRUE(manager_->AllocatePod(a).ok());
  ASSERT_TRUE(manager_->AllocatePod(b).ok());
  cri::ContainerConfig ca, cb;
  ASSERT_TRUE(manager_->AddContainerDevices(a, a.spec.containers[0], &ca).ok());
  ASSERT_TRUE(manager_->AddContainerDevices(b, b.spec.containers[0], &cb).ok());
  std::string va = Env(ca, "NVIDIA_VISIBLE_DEVICES"), vb = Env(cb, "NVIDIA_VISIBLE_DEVICES");
  EXPECT_THAT(std::vector<std::string>({va, vb}), ::testing::UnorderedElementsAre("GPU-aaaa", "GPU-bbbb"));
  ASSERT_GE(ca.devices_size(), 2);
  ASSERT_GE(cb.devices_size(), 2);
  EXPECT_NE(ca.devices(0).container_path(), cb.devices(0).container_path());
  EXPECT_EQ(ca.devices(0).host_path(), tree_->root() + ca.devices(0).container_path());
  std::vector<std::string> nodes_a;
  for (const auto& d : ca.devices()) nodes_a.push_back(d.container_path());
  EXPECT_THAT(nodes_a, ::testing::Contains("/dev/nvidiactl"));
  ASSERT_EQ(ca.cdi_devices_size(), 1);
  EXPECT_EQ(ca.cdi_devices(0).name(), "nvidia.com/gpu=" + va);
  EXPECT_EQ(cb.cdi_devices(0).name(), "nvidia.com/gpu=" + vb);

  // A third pod: no GPU left, admission fails with the kubelet's message.
  absl::Status third = manager_->AllocatePod(GpuPod("c", 1));
  ASSERT_FALSE(third.ok());
  EXPECT_THAT(third.message(), HasSubstr("which is unexpected"));
  EXPECT_EQ(manager_->Resources()[kGpu].allocated, 2);

  // GPU b of pod b turns unhealthy: capacity stays, allocatable drops, pod b keeps it.
  Write("/health/" + vb, "xid 79\n");
  ASSERT_TRUE(WaitForView([](const ResourceView& v) { return v.capacity == 2 && v.allocatable == 1; })) << Log();
  EXPECT_EQ(manager_->PodDevices(b.metadata.uid)["cuda"][kGpu], std::vector<std::string>{vb});
  ASSERT_EQ(unlink((tree_->root() + "/health/" + vb).c_str()), 0);
  ASSERT_TRUE(WaitForView([](const ResourceView& v) { return v.allocatable == 2; })) << Log();

  // Time-slicing: each GPU as 3 replicas, without restarting the plugin.
  manager_->RemovePod(a.metadata.uid);
  manager_->RemovePod(b.metadata.uid);
  Write("/etc/berth/gpu.yaml",
        "version: v1\nsharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 3\n");
  ASSERT_TRUE(WaitForView([](const ResourceView& v) { return v.capacity == 6 && v.allocatable == 6; })) << Log();
  k8s::Pod shared = GpuPod("shared", 2);
  ASSERT_TRUE(manager_->AllocatePod(shared).ok());
  cri::ContainerConfig cs;
  ASSERT_TRUE(manager_->AddContainerDevices(shared, shared.spec.containers[0], &cs).ok());
  // Two replicas spread over both GPUs (the plugin's preferred allocation).
  EXPECT_THAT(Env(cs, "NVIDIA_VISIBLE_DEVICES"), ::testing::AnyOf("GPU-aaaa,GPU-bbbb", "GPU-bbbb,GPU-aaaa"));

  // The plugin restarts: it registers again and the resource is served again.
  EXPECT_EQ(plugin_->Stop(SIGTERM), 0);
  ASSERT_TRUE(WaitForView([](const ResourceView& v) { return !v.plugin_connected; }));
  StartPlugin();
  ASSERT_TRUE(WaitForView([](const ResourceView& v) { return v.plugin_connected && v.allocatable == 6; })) << Log();
}

TEST_F(GpuDevicesE2eTest, AgentRestartKeepsAllocationsAndThePluginIsBackWithinASecond) {
  StartManager();
  StartPlugin();
  ASSERT_TRUE(WaitForView([](const ResourceView& v) { return v.allocatable == 2; })) << Log();
  k8s::Pod a = GpuPod("a", 1);
  ASSERT_TRUE(manager_->AllocatePod(a).ok());
  std::vector<std::string> held = manager_->PodDevices(a.metadata.uid)["cuda"][kGpu];
  ASSERT_EQ(held.size(), 1u);

  manager_.reset();  // the agent goes away; kubelet.sock with it
  auto restarted = Clock::now();
  StartManager();    // kubelet.sock made again: the plugin sees it and registers
  ASSERT_TRUE(WaitForView([](const ResourceView& v) { return v.plugin_connected && v.allocatable == 2; })) << Log();
  double back_ms = std::chrono::duration<double, std::milli>(Clock::now() - restarted).count();
  fprintf(stderr, "plugin re-registered and capacity back %.1f ms after the device manager restarted\n", back_ms);
  EXPECT_LT(back_ms, 1000);
  EXPECT_EQ(manager_->PodDevices(a.metadata.uid)["cuda"][kGpu], held);
  // The other GPU goes to the next pod.
  k8s::Pod b = GpuPod("b", 1);
  ASSERT_TRUE(manager_->AllocatePod(b).ok());
  EXPECT_NE(manager_->PodDevices(b.metadata.uid)["cuda"][kGpu], held);
}

}  // namespace
}  // namespace berth::agent::devices
