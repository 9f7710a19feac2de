#include "runtime-shim/shim/control_command.h"

#include <string>

#include "gtest/gtest.h"

namespace berth::shim {
namespace {

// The parsed command, or the error text prefixed with "error: ".
struct Parsed {
  bool ok = false;
  ControlCommand command;
  std::string error;
};

Parsed Parse(std::string_view line) {
  Parsed parsed;
  Text<256> error;
  parsed.ok = ParseControlCommand(line, &parsed.command, &error);
  parsed.error = std::string(error.view());
  return parsed;
}

TEST(ControlCommandTest, ParsesEveryVerb) {
  EXPECT_EQ(Parse("start").command.kind, ControlCommand::Kind::kStart);
  EXPECT_EQ(Parse("status\n").command.kind, ControlCommand::Kind::kStatus);
  EXPECT_EQ(Parse("reopen-log\r\n").command.kind, ControlCommand::Kind::kReopenLog);
  EXPECT_EQ(Parse("shutdown").command.kind, ControlCommand::Kind::kShutdown);
  Parsed kill = Parse("kill 15");
  ASSERT_TRUE(kill.ok) << kill.error;
  EXPECT_EQ(kill.command.kind, ControlCommand::Kind::kKill);
  EXPECT_EQ(kill.command.signal, 15);
  EXPECT_TRUE(Parse("kill  9 ").ok);
}

TEST(ControlCommandTest, RejectsBadInputNamingIt) {
  Parsed unknown = Parse("explode");
  ASSERT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.error, "unknown command \"explode\"");
  EXPECT_EQ(Parse("").error, "empty command");
  EXPECT_EQ(Parse("kill").error, "command \"kill\" takes 1 argument(s), got 0");
  EXPECT_FALSE(Parse("kill 0").ok);
  EXPECT_FALSE(Parse("kill 999").ok);
  EXPECT_FALSE(Parse("kill 1 2").ok);
  EXPECT_EQ(Parse("start now").error, "command \"start\" takes 0 argument(s), got 1");
  Parsed bad_signal = Parse("kill TERM");
  ASSERT_FALSE(bad_signal.ok);
  EXPECT_EQ(bad_signal.error, "kill: bad signal \"TERM\"");
}

}  // namespace
}  // namespace berth::shim
