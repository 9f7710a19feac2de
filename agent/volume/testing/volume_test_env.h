// Test support for the volume tests (run as root): the test binary moves into
// a private mount namespace first, so that no tmpfs or bind mount a test makes
// can outlive it or show on the host; each test gets a temporary root that is
// unmounted and removed after it, also when it failed.
#pragma once

#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>

#include <string>

#include <gtest/gtest.h>

#include "agent/volume/mount_table.h"
#include "common/fs.h"

namespace berth::agent::volume::testing {

class PrivateMountNamespace : public ::testing::Environment {
 public:
  void SetUp() override {
    ASSERT_EQ(unshare(CLONE_NEWNS), 0) << "unshare(CLONE_NEWNS) needs root";
    ASSERT_EQ(mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
  }
};

class TempRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-volume-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    EXPECT_TRUE(UnmountUnder(root_).ok());
    EXPECT_TRUE(RemoveAll(root_).ok());
  }
  std::string root_;
};

}  // namespace berth::agent::volume::testing
