#include "agent/node_cgroups.h"

#include <stdlib.h>

#include "common/fs.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

// A fake /proc whose PID 1 is `init`, and a systemd run dir that exists.
class NodeCgroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/node-cgroups-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MkdirAll(dir_ + "/proc/1", 0755).ok());
    ASSERT_TRUE(MkdirAll(dir_ + "/run/systemd/system", 0755).ok());
    options_.proc_root = dir_ + "/proc";
    options_.systemd_run_dir = dir_ + "/run/systemd/system";
  }
  void TearDown() override { RemoveAll(dir_).IgnoreError(); }
  void Init(const std::string& comm) { ASSERT_TRUE(AtomicWriteFile(dir_ + "/proc/1/comm", comm + "\n").ok()); }

  std::string dir_;
  CgroupOptions options_;
};

TEST_F(NodeCgroupsTest, AutoOnACgroupfsHostGivesPodCgroupsBelowTheRuntimeParent) {
  Init("init");
  KubeletConfig config;
  auto node = ResolveNodeCgroups(config, &options_, "/berth");
  ASSERT_TRUE(node.ok()) << node.status();
  ASSERT_TRUE(node->has_value());
  EXPECT_EQ(options_.driver, "cgroupfs");
  EXPECT_EQ((*node)->options.driver, "cgroupfs");
  EXPECT_EQ((*node)->parent, "/berth");
}

TEST_F(NodeCgroupsTest, AutoUnderSystemdLeavesPodsInTheRuntimeSlices) {
  Init("systemd");
  KubeletConfig config;
  auto node = ResolveNodeCgroups(config, &options_, "/berth");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_FALSE(node->has_value());
  EXPECT_EQ(options_.driver, "systemd");
}

TEST_F(NodeCgroupsTest, TheConfigFilePicksTheDriverWhenTheFlagIsAuto) {
  Init("systemd");
  KubeletConfig config;
  config.cgroupDriver = "cgroupfs";
  config.cgroupDriverSet = true;
  auto node = ResolveNodeCgroups(config, &options_, "/berth");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_TRUE(node->has_value());
  EXPECT_EQ(options_.driver, "cgroupfs");
}

TEST_F(NodeCgroupsTest, AFlagThatContradictsTheFileIsAnErrorNamingBoth) {
  Init("init");
  KubeletConfig config;
  config.cgroupDriver = "systemd";
  config.cgroupDriverSet = true;
  options_.driver = "cgroupfs";
  auto node = ResolveNodeCgroups(config, &options_, "/berth");
  ASSERT_FALSE(node.ok());
  EXPECT_NE(node.status().message().find("cgroupDriver: \"systemd\""), std::string::npos) << node.status();
  EXPECT_NE(node.status().message().find("--cgroup-driver is \"cgroupfs\""), std::string::npos) << node.status();
}

}  // namespace
}  // namespace berth::agent
