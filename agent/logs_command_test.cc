#include "agent/logs_command.h"

#include <stdlib.h>

#include "common/fs.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

TEST(LogsArgsTest, ParsesKubectlFlags) {
  auto options = ParseLogsArgs({"web", "-c", "nginx", "-f", "--tail=10", "--timestamps", "-n", "kube-system"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->pod, "web");
  EXPECT_EQ(options->container, "nginx");
  EXPECT_TRUE(options->follow);
  EXPECT_EQ(options->tail, 10);
  EXPECT_TRUE(options->timestamps);
  EXPECT_EQ(options->ns, "kube-system");
  EXPECT_TRUE(ParseLogsArgs({"web", "--previous"})->previous);
  EXPECT_EQ(options->state_dir, "/var/lib/berth");
  EXPECT_EQ(ParseLogsArgs({"web", "--state-dir", "/srv/berth"})->state_dir, "/srv/berth");
}

TEST(LogsArgsTest, BadInputNamesIt) {
  EXPECT_EQ(ParseLogsArgs({"web", "--tail", "lots"}).status().message(),
            "--tail: \"lots\" is not a number of lines (-1: all)");
  EXPECT_EQ(ParseLogsArgs({"web", "--bogus"}).status().message(), "unknown flag --bogus");
  EXPECT_EQ(ParseLogsArgs({}).status().message(), "a pod name is required");
  EXPECT_EQ(ParseLogsArgs({"web", "-c"}).status().message(), "flag -c needs a value");
  EXPECT_FALSE(ParseLogsArgs({"web", "-f", "-p"}).ok());
}

TEST(LogPrinterTest, PrintsMessagesJoiningPartials) {
  LogPrinter plain(false), stamped(true);
  std::string a, b;
  for (const char* line : {"2026-12-07T16:30:05.000000001Z stdout P hel", "2026-12-07T16:30:05.000000001Z stdout F lo",
                           "2026-12-07T16:30:06.000000001Z stderr F oops"}) {
    plain.Append(line, &a);
    stamped.Append(line, &b);
  }
  EXPECT_EQ(a, "hello\noops\n");
  EXPECT_EQ(b, "2026-12-07T16:30:05.000000001Z hello\n2026-12-07T16:30:06.000000001Z oops\n");
}

TEST(LogPrinterTest, TailCountsWholeMessages) {
  std::vector<std::string> lines = {"t stdout F one", "t stdout P tw", "t stdout F o", "t stdout F three"};
  EXPECT_EQ(TailStart(lines, 1), 3u);
  EXPECT_EQ(TailStart(lines, 2), 1u);
  EXPECT_EQ(TailStart(lines, 9), 0u);
  EXPECT_EQ(TailStart(lines, 0), 4u);
  EXPECT_EQ(TailStart(lines, -1), 0u);
}

TEST(FindContainerLogTest, PicksCurrentOrPreviousRestart) {
  char tmpl[] = "/tmp/berth-podlogs-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string c = dir + "/default_web_uid1/nginx";
  ASSERT_TRUE(MkdirAll(c).ok());
  ASSERT_TRUE(AtomicWriteFile(c + "/0.log", "").ok());
  ASSERT_TRUE(AtomicWriteFile(c + "/2.log", "").ok());
  ASSERT_TRUE(AtomicWriteFile(c + "/2.log.20261207-163010", "").ok());
  LogsOptions options;
  options.pod = "web";
  options.pod_logs_dir = dir;
  EXPECT_EQ(*FindContainerLog(options), c + "/2.log");
  options.previous = true;
  EXPECT_EQ(*FindContainerLog(options), c + "/0.log");
  ASSERT_TRUE(MkdirAll(dir + "/default_web_uid1/sidecar").ok());
  options.previous = false;
  EXPECT_EQ(FindContainerLog(options).status().message(),
            "pod default/web has containers [nginx sidecar]: choose one with -c");
  options.container = "sidecar";
  EXPECT_EQ(FindContainerLog(options).status().code(), absl::StatusCode::kNotFound);
  options.pod = "db";
  EXPECT_EQ(FindContainerLog(options).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(RemoveAll(dir).ok());
}

}  // namespace
}  // namespace berth::agent
