#include "runtime-shim/shim/monitor_args.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace berth::shim {
namespace {

class MonitorArgsTest : public ::testing::Test {
 protected:
  // The parsed strings point into words_, which lives as long as the test.
  bool Parse(std::vector<std::string> words, MonitorArgs* args, std::string* error) {
    words_ = std::move(words);
    std::vector<char*> argv = {const_cast<char*>(kMonitorName)};
    for (std::string& word : words_) argv.push_back(word.data());
    Text<512> text;
    bool ok = ParseMonitorArgs(static_cast<int>(argv.size()), argv.data(), args, &text);
    *error = std::string(text.view());
    return ok;
  }
  std::vector<std::string> words_;
};

TEST_F(MonitorArgsTest, RoundTrips) {
  MonitorArgs in;
  in.bundle = "/run/berth/c1";
  in.init_pid = 4242;
  in.oom_kills_at_create = 7;
  in.listen_fd = 5;
  in.start_fd = 6;
  in.sync_fd = 7;
  in.stdout_fd = 8;
  in.stderr_fd = 9;
  in.stdin_fd = 10;
  in.log_fd = 11;
  in.log_path = "/var/log/pods/ns_p_uid/c/0.log";
  in.memory_cgroup_dir = "/sys/fs/cgroup/kubepods/pod1/c1";
  in.attach_fd = 12;
  in.tty = true;
  in.stdin_once = true;
  in.log_max_size = 1 << 20;
  in.log_max_files = 3;
  in.shim_path = "/usr/bin/berth-shim";
  std::vector<std::string> words = FormatMonitorArgs(in);
  MonitorArgs out;
  std::string error;
  ASSERT_TRUE(Parse(words, &out, &error)) << error;
  EXPECT_STREQ(out.bundle, in.bundle);
  EXPECT_EQ(out.init_pid, 4242);
  EXPECT_EQ(out.oom_kills_at_create, 7);
  EXPECT_EQ(out.listen_fd, 5);
  EXPECT_EQ(out.start_fd, 6);
  EXPECT_EQ(out.sync_fd, 7);
  EXPECT_EQ(out.stdout_fd, 8);
  EXPECT_EQ(out.stderr_fd, 9);
  EXPECT_EQ(out.stdin_fd, 10);
  EXPECT_EQ(out.log_fd, 11);
  EXPECT_STREQ(out.log_path, in.log_path);
  EXPECT_STREQ(out.memory_cgroup_dir, in.memory_cgroup_dir);
  EXPECT_EQ(out.attach_fd, 12);
  EXPECT_TRUE(out.tty);
  EXPECT_TRUE(out.stdin_once);
  EXPECT_EQ(out.log_max_size, 1 << 20);
  EXPECT_EQ(out.log_max_files, 3);
  EXPECT_STREQ(out.shim_path, in.shim_path);
}

TEST_F(MonitorArgsTest, OptionalFdsStayUnset) {
  MonitorArgs in;
  in.init_pid = 9;
  in.listen_fd = 4;
  in.start_fd = 5;
  in.sync_fd = 6;
  in.stdout_fd = 7;
  MonitorArgs out;
  std::string error;
  ASSERT_TRUE(Parse(FormatMonitorArgs(in), &out, &error)) << error;
  EXPECT_EQ(out.stderr_fd, -1);
  EXPECT_EQ(out.stdin_fd, -1);
  EXPECT_EQ(out.log_fd, -1);
  EXPECT_EQ(out.oom_kills_at_create, -1);
  EXPECT_STREQ(out.log_path, "");
  EXPECT_EQ(out.attach_fd, -1);
  EXPECT_FALSE(out.tty);
  EXPECT_EQ(out.log_max_size, 0);
}

TEST_F(MonitorArgsTest, RejectsBadInputNamingIt) {
  MonitorArgs out;
  std::string error;
  EXPECT_FALSE(Parse({"--init-pid", "x1"}, &out, &error));
  EXPECT_EQ(error, "flag --init-pid: bad number \"x1\"");
  EXPECT_FALSE(Parse({"--frobnicate", "1"}, &out, &error));
  EXPECT_EQ(error, "unknown flag --frobnicate");
  EXPECT_FALSE(Parse({"--init-pid"}, &out, &error));
  EXPECT_EQ(error, "flag --init-pid needs a value");
  EXPECT_FALSE(Parse({"--init-pid", "5", "--stdout-fd", "3"}, &out, &error));
  EXPECT_EQ(error, "missing --listen-fd");
  EXPECT_FALSE(Parse({"--init-pid", "5", "--listen-fd", "3", "--start-fd", "4", "--sync-fd", "6",
                      "--stdout-fd", "7", "--log-max-size", "1024", "--log-max-files", "1"},
                     &out, &error));
  EXPECT_EQ(error, "--log-max-files must be at least 2 with --log-max-size");
}

}  // namespace
}  // namespace berth::shim
