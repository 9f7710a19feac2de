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
