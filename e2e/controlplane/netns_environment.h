// A gtest environment that creates a network namespace and moves the main
// thread into it, so every process a test starts listens and connects on
// its own loopback; the namespace goes at the end.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "e2e/runtime_under_test.h"
#include "gtest/gtest.h"

namespace berth::e2e {

class NetnsEnvironment : public ::testing::Environment {
 public:
  explicit NetnsEnvironment(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    name_ = absl::StrCat(prefix_, getpid());
    ASSERT_TRUE(RunCommand({"ip", "netns", "add", name_}, absl::Seconds(20)).ok());
    int fd = open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(setns(fd, CLONE_NEWNET), 0) << strerror(errno);
    close(fd);
    ASSERT_TRUE(RunCommand({"ip", "link", "set", "lo", "up"}, absl::Seconds(20)).ok());
  }
  void TearDown() override { (void)RunCommand({"ip", "netns", "del", name_}, absl::Seconds(20)); }

 private:
  std::string prefix_, name_;
};

}  // namespace berth::e2e
