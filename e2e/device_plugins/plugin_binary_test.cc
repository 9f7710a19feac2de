// test-device-plugin (the binary) against the agent's DeviceManager in this
// process, without a whole agent: registration, the Allocate answer, the
// health file, the CDI spec it writes, and re-registration when the manager
// restarts (a new kubelet.sock), timed: the "plugins back within 1 s" target
// at the device manager's level.
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <functional>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/devices/device_manager.h"
#include "common/fs.h"
#include "gtest/gtest.h"
#include "runtime-shim/cdi/cdi_injection.h"

extern char** environ;

namespace berth::agent::devices {
namespace {

class PluginBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-plugin-binary-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    manager_.reset();
    RemoveAll(dir_).IgnoreError();
  }
  void StartManager() {
    DeviceManagerOptions o;
    o.plugins_dir = dir_ + "/dp";
    o.grace_period = absl::Seconds(30);
    manager_ = std::make_unique<DeviceManager>(o);
    ASSERT_TRUE(manager_->Start().ok());
  }
  void StartPlugin() {
    std::vector<std::string> args = {TEST_DEVICE_PLUGIN_PATH, "--plugins-dir", dir_ + "/dp", "--device-dir",
                                     dir_ + "/nodes", "--devices", "2", "--health-file", dir_ + "/unhealthy",
                                     "--cdi-spec-dir", dir_ + "/cdi"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  }
  bool WaitFor(const std::function<bool(const ResourceView&)>& ok, absl::Duration timeout = absl::Seconds(10)) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      auto all = manager_->Resources();
      auto it = all.find("example.com/widget");
      if (it != all.end() && ok(it->second)) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  std::string dir_;
  pid_t pid_ = -1;
  std::unique_ptr<DeviceManager> manager_;
};

TEST_F(PluginBinaryTest, RegistersAllocatesFollowsHealthAndComesBackAfterARestart) {
  ASSERT_TRUE(MkdirAll(dir_ + "/dp").ok());
  StartManager();
  StartPlugin();
  ASSERT_TRUE(WaitFor([](const ResourceView& v) { return v.plugin_connected && v.allocatable == 2; }));

  k8s::Pod pod;
  pod.metadata.uid = "uid-1";
  pod.metadata.name = "p";
  pod.metadata.namespace_ = "default";
  k8s::Container c;
  c.name = "app";
  c.resources.limits["example.com/widget"] = *k8s::Quantity::Parse("1");
  pod.spec.containers.push_back(c);
  ASSERT_TRUE(manager_->AllocatePod(pod).ok());
  cri::ContainerConfig config;
  ASSERT_TRUE(manager_->AddContainerDevices(pod, c, &config).ok());
  ASSERT_EQ(config.cdi_devices_size(), 1);
  EXPECT_EQ(config.cdi_devices(0).name(), "example.com/widget=w0");
  ASSERT_EQ(config.envs_size(), 1);
  EXPECT_EQ(config.envs(0).value(), "w0");
  // The runtime resolves it from the plugin's spec file.
  auto edits = cdi::ResolveForContainer(config, {dir_ + "/cdi"});
  ASSERT_TRUE(edits.ok()) << edits.status();
  ASSERT_EQ(edits->devices.size(), 1u);
  EXPECT_EQ(edits->devices[0].path, "/dev/widget0");
  EXPECT_EQ(edits->devices[0].host_path, dir_ + "/nodes/widget0");

  ASSERT_TRUE(AtomicWriteFile(dir_ + "/unhealthy", "w1\n").ok());
  ASSERT_TRUE(WaitFor([](const ResourceView& v) { return v.allocatable == 1 && v.capacity == 2; }));

  // The agent restarts: a new manager, a new kubelet.sock; the plugin sees it and registers again.
  manager_.reset();
  absl::Time begin = absl::Now();
  StartManager();
  ASSERT_TRUE(WaitFor([](const ResourceView& v) { return v.plugin_connected && v.allocatable == 1; }));
  absl::Duration took = absl::Now() - begin;
  fprintf(stderr, "device manager restart -> plugin registered again and devices listed: %s\n",
          absl::FormatDuration(took).c_str());
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_EQ(manager_->PodDevices("uid-1")["app"]["example.com/widget"], std::vector<std::string>{"w0"});
}

}  // namespace
}  // namespace berth::agent::devices
