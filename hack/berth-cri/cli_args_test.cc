#include "hack/berth-cri/cli_args.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::cri_cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<Invocation> Parse(std::vector<std::string> args,
                                 std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "berth-cri");
  return ParseCommandLine(args, [&env](const std::string& name) { return env[name]; });
}

std::string MessageOf(const absl::StatusOr<Invocation>& inv) {
  return std::string(inv.status().message());
}

TEST(CliArgsTest, EndpointFromFlagThenEnvThenDefault) {
  auto flag = Parse({"-r", "unix:///tmp/a.sock", "version"}, {{kEndpointEnv, "unix:///tmp/env.sock"}});
  ASSERT_TRUE(flag.ok()) << flag.status();
  EXPECT_EQ(flag->endpoint, "unix:///tmp/a.sock");
  auto long_form = Parse({"--runtime-endpoint=/tmp/b.sock", "version"});
  ASSERT_TRUE(long_form.ok()) << long_form.status();
  EXPECT_EQ(long_form->endpoint, "unix:///tmp/b.sock");
  auto env = Parse({"version"}, {{kEndpointEnv, "unix:///tmp/env.sock"}});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->endpoint, "unix:///tmp/env.sock");
  auto fallback = Parse({"version"});
  ASSERT_TRUE(fallback.ok());
  EXPECT_EQ(fallback->endpoint, "unix:///run/berth/berth.sock");
  EXPECT_EQ(fallback->command, "version");
}

TEST(CliArgsTest, RejectsBadEndpointAndTimeout) {
  EXPECT_THAT(MessageOf(Parse({"-r", "tcp://1.2.3.4:5", "version"})), HasSubstr("tcp://1.2.3.4:5"));
  EXPECT_THAT(MessageOf(Parse({"--timeout", "soon", "version"})), HasSubstr("soon"));
  auto timeout = Parse({"--timeout", "2m", "ps"});
  ASSERT_TRUE(timeout.ok());
  EXPECT_EQ(timeout->timeout, absl::Minutes(2));
  auto seconds = Parse({"-t", "7", "ps"});
  ASSERT_TRUE(seconds.ok());
  EXPECT_EQ(seconds->timeout, absl::Seconds(7));
}

TEST(CliArgsTest, NoCommandOrHelpMeansHelp) {
  EXPECT_EQ(Parse({})->command, "help");
  EXPECT_EQ(Parse({"--help"})->command, "help");
  EXPECT_EQ(Parse({"ps", "-h"})->command, "help");
  EXPECT_EQ(Parse({"help"})->command, "help");
  EXPECT_THAT(Usage(), HasSubstr("runp POD.json"));
}

TEST(CliArgsTest, UnknownCommandAndFlagsAreNamed) {
  EXPECT_THAT(MessageOf(Parse({"frobnicate"})), HasSubstr("frobnicate"));
  EXPECT_THAT(MessageOf(Parse({"ps", "--bogus"})), HasSubstr("--bogus"));
  EXPECT_THAT(MessageOf(Parse({"ps", "-z"})), HasSubstr("-z"));
  EXPECT_THAT(MessageOf(Parse({"pods", "--name"})), HasSubstr("needs a value"));
  EXPECT_THAT(MessageOf(Parse({"ps", "--all=yes"})), HasSubstr("takes no value"));
}

TEST(CliArgsTest, ShortFlagsCombineAndTakeValues) {
  auto ps = Parse({"ps", "-aq", "--pod", "abc"});
  ASSERT_TRUE(ps.ok()) << ps.status();
  EXPECT_TRUE(ps->Has("all"));
  EXPECT_TRUE(ps->Has("quiet"));
  EXPECT_EQ(ps->Get("pod"), "abc");
  auto stop = Parse({"stop", "-t5", "c1"});
  ASSERT_TRUE(stop.ok()) << stop.status();
  EXPECT_EQ(*stop->GetCount("timeout", 0), 5);
  auto stop2 = Parse({"stop", "c1", "-t", "10", "c2"});
  ASSERT_TRUE(stop2.ok()) << stop2.status();
  EXPECT_EQ(*stop2->GetCount("timeout", 0), 10);
  EXPECT_THAT(stop2->args, ElementsAre("c1", "c2"));
  auto pods = Parse({"pods", "--name=demo", "--state", "ready", "-q"});
  ASSERT_TRUE(pods.ok()) << pods.status();
  EXPECT_EQ(pods->Get("name"), "demo");
  EXPECT_EQ(pods->Get("state"), "ready");
  EXPECT_TRUE(pods->Has("quiet"));
}

TEST(CliArgsTest, CountsMustBeWholeNumbers) {
  auto stop = Parse({"stop", "-t", "-3", "c1"});
  ASSERT_TRUE(stop.ok()) << stop.status();
  EXPECT_THAT(std::string(stop->GetCount("timeout", 0).status().message()), HasSubstr("-3"));
  auto logs = Parse({"logs", "--tail", "x", "c1"});
  ASSERT_TRUE(logs.ok());
  EXPECT_FALSE(logs->GetCount("tail", -1).ok());
  EXPECT_EQ(*Parse({"logs", "c1"})->GetCount("tail", -1), -1);
}

TEST(CliArgsTest, ExecKeepsFlagsAfterTheIdForTheCommand) {
  auto exec = Parse({"exec", "--timeout", "5", "c1", "ls", "-la", "--color"});
  ASSERT_TRUE(exec.ok()) << exec.status();
  EXPECT_EQ(exec->Get("timeout"), "5");
  EXPECT_THAT(exec->args, ElementsAre("c1", "ls", "-la", "--color"));
  auto dashes = Parse({"exec", "c1", "--", "sh", "-c", "exit 3"});
  ASSERT_TRUE(dashes.ok()) << dashes.status();
  EXPECT_THAT(dashes->args, ElementsAre("c1", "sh", "-c", "exit 3"));
  EXPECT_THAT(MessageOf(Parse({"exec", "c1"})), HasSubstr("expected ID CMD"));
}

TEST(CliArgsTest, ArgumentCountsAreChecked) {
  EXPECT_THAT(MessageOf(Parse({"create", "pod", "c.json"})), HasSubstr("POD-ID CONTAINER.json POD.json"));
  EXPECT_THAT(MessageOf(Parse({"runp"})), HasSubstr("POD.json"));
  EXPECT_THAT(MessageOf(Parse({"version", "extra"})), HasSubstr("no arguments"));
  EXPECT_THAT(MessageOf(Parse({"logs", "a", "b"})), HasSubstr("got 2 arguments"));
  auto run = Parse({"run", "c.json", "p.json"});
  ASSERT_TRUE(run.ok());
  EXPECT_THAT(run->args, ElementsAre("c.json", "p.json"));
  EXPECT_TRUE(Parse({"rmp", "-a"}).ok());
}

}  // namespace
}  // namespace berth::cri_cli
