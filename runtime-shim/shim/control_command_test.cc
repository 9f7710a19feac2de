#include "runtime-shim/shim/control_command.h"

#include "gtest/gtest.h"

namespace berth::shim {
namespace {

TEST(ControlCommandTest, ParsesEveryVerb) {
  EXPECT_EQ(ParseControlCommand("start")->kind, ControlCommand::Kind::kStart);
  EXPECT_EQ(ParseControlCommand("status\n")->kind, ControlCommand::Kind::kStatus);
  EXPECT_EQ(ParseControlCommand("reopen-log\r\n")->kind, ControlCommand::Kind::kReopenLog);
  EXPECT_EQ(ParseControlCommand("shutdown")->kind, ControlCommand::Kind::kShutdown);
  auto kill = ParseControlCommand("kill 15");
  ASSERT_TRUE(kill.ok());
  EXPECT_EQ(kill->kind, ControlCommand::Kind::kKill);
  EXPECT_EQ(kill->signal, 15);
}

TEST(ControlCommandTest, RejectsBadInputNamingIt) {
  auto unknown = ParseControlCommand("explode");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("explode"), std::string::npos);
  EXPECT_FALSE(ParseControlCommand("").ok());
  EXPECT_FALSE(ParseControlCommand("kill").ok());
  EXPECT_FALSE(ParseControlCommand("kill 0").ok());
  EXPECT_FALSE(ParseControlCommand("kill 999").ok());
  EXPECT_FALSE(ParseControlCommand("start now").ok());
  auto bad_signal = ParseControlCommand("kill TERM");
  ASSERT_FALSE(bad_signal.ok());
  EXPECT_NE(bad_signal.status().message().find("TERM"), std::string::npos);
}

}  // namespace
}  // namespace berth::shim
