#include "agent/agent_flags.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth {
namespace {

absl::StatusOr<AgentFlags> Parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return ParseAgentFlags(static_cast<int>(argv.size()), argv.data());
}

TEST(AgentFlagsTest, ParsesBothFormsAndPositionals) {
  auto flags = Parse({"berth-agent", "--listen=unix:///tmp/x.sock", "--state-dir", "/tmp/s", "images", "list"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->listen, "unix:///tmp/x.sock");
  EXPECT_EQ(flags->runtime.state_dir, "/tmp/s");
  EXPECT_THAT(flags->positional, ::testing::ElementsAre("images", "list"));
}

TEST(AgentFlagsTest, CniBinDirsAreAList) {
  auto flags = Parse({"berth-agent", "--cni-bin-dir", "/opt/cni/bin,/usr/lib/cni", "--cni-conf-dir=/x"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_THAT(flags->runtime.cni_bin_dirs, ::testing::ElementsAre("/opt/cni/bin", "/usr/lib/cni"));
  EXPECT_EQ(flags->runtime.cni_conf_dir, "/x");
}

TEST(AgentFlagsTest, RejectsUnknownFlagsAndBadValues) {
  auto unknown = Parse({"berth-agent", "--bogus", "1"});
  EXPECT_THAT(std::string(unknown.status().message()), ::testing::HasSubstr("--bogus"));
  auto driver = Parse({"berth-agent", "--cgroup-driver", "cgroupz"});
  EXPECT_THAT(std::string(driver.status().message()), ::testing::HasSubstr("cgroupz"));
  auto parent = Parse({"berth-agent", "--cgroup-parent", "relative"});
  EXPECT_FALSE(parent.ok());
  auto missing = Parse({"berth-agent", "--listen"});
  EXPECT_THAT(std::string(missing.status().message()), ::testing::HasSubstr("needs a value"));
}

}  // namespace
}  // namespace berth

namespace berth {
namespace {

TEST(AgentFlagsTest, ImageGcAndPullDeadline) {
  auto flags = Parse({"berth-agent", "--image-gc-high-threshold", "90", "--image-gc-low-threshold=70",
                               "--image-pull-progress-deadline", "30s"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->runtime.image_gc.high_threshold_percent, 90);
  EXPECT_EQ(flags->runtime.image_gc.low_threshold_percent, 70);
  EXPECT_EQ(flags->runtime.image_pull_progress_deadline, absl::Seconds(30));
  auto inverted = Parse({"berth-agent", "--image-gc-high-threshold", "50", "--image-gc-low-threshold", "60"});
  EXPECT_FALSE(inverted.ok());
  auto over = Parse({"berth-agent", "--image-gc-high-threshold", "101"});
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("--image-gc-high-threshold"), std::string::npos) << over.status();
  auto deadline = Parse({"berth-agent", "--image-pull-progress-deadline", "soon"});
  ASSERT_FALSE(deadline.ok());
  EXPECT_NE(deadline.status().message().find("--image-pull-progress-deadline"), std::string::npos);
}

}  // namespace
}  // namespace berth

namespace berth {
namespace {

TEST(AgentFlagsTest, ClusterMemberFlags) {
  auto flags = Parse({"berth-agent", "--kubeconfig", "/etc/kubernetes/kubelet.conf", "--node-ip=10.0.0.5"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->kubeconfig, "/etc/kubernetes/kubelet.conf");
  EXPECT_EQ(flags->node_ip, "10.0.0.5");
  auto bad_ip = Parse({"berth-agent", "--node-ip", "10.0.0.300"});
  EXPECT_THAT(std::string(bad_ip.status().message()), ::testing::HasSubstr("--node-ip: \"10.0.0.300\""));
}

}  // namespace
}  // namespace berth
