#include "agent/container_exit_watch.h"

#include <poll.h>
#include <stdlib.h>

#include <string>

#include "absl/strings/match.h"
#include "common/fs.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

class ContainerExitWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-exitwatch-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_TRUE(MkdirAll(root_ + "/logs/default_web_uid1/app").ok());
    // Two containers of one pod: attempt 0 (its log 0.log) and its restart.
    AddContainer("c0", root_ + "/logs/default_web_uid1/app/0.log");
    AddContainer("c1", root_ + "/logs/default_web_uid1/app/1.log");
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(root_).ok()); }

  void AddContainer(const std::string& id, const std::string& log) {
    ASSERT_TRUE(MkdirAll(Bundle(id)).ok());
    ASSERT_TRUE(AtomicWriteFile(Bundle(id) + "/state.json", "{\"id\":\"" + id + "\",\"log_path\":\"" + log + "\"}").ok());
  }
  std::string Bundle(const std::string& id) const { return root_ + "/state/containers/" + id; }

  static bool Readable(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 5000) == 1;
  }

  std::string root_;
};

TEST_F(ContainerExitWatchTest, FindsTheContainerByItsLogAndSeesExitJsonRenamedIn) {
  // The log path as `logs` builds it may be spelled differently ("//", "..").
  auto watch = ContainerExitWatch::Start(root_ + "/state", root_ + "/logs//default_web_uid1/../default_web_uid1/app/0.log");
  ASSERT_TRUE(watch.ok()) << watch.status();
  EXPECT_EQ((*watch)->container_id(), "c0");
  EXPECT_FALSE((*watch)->Exited());
  // Other files in the bundle wake it but are not an exit.
  ASSERT_TRUE(AtomicWriteFile(Bundle("c0") + "/init.pid", "42").ok());
  ASSERT_TRUE(Readable((*watch)->inotify_fd()));
  EXPECT_FALSE((*watch)->Exited());
  // The restart's exit is not ours.
  ASSERT_TRUE(AtomicWriteFile(Bundle("c1") + "/exit.json", "{}").ok());
  EXPECT_FALSE((*watch)->Exited());
  ASSERT_TRUE(AtomicWriteFile(Bundle("c0") + "/exit.json", "{\"exit_code\":0}").ok());
  ASSERT_TRUE(Readable((*watch)->inotify_fd()));
  EXPECT_TRUE((*watch)->Exited());
}

TEST_F(ContainerExitWatchTest, AlreadyExitedOrRemovedCountsAsExited) {
  ASSERT_TRUE(AtomicWriteFile(Bundle("c1") + "/exit.json", "{}").ok());
  auto exited = ContainerExitWatch::Start(root_ + "/state", root_ + "/logs/default_web_uid1/app/1.log");
  ASSERT_TRUE(exited.ok()) << exited.status();
  EXPECT_TRUE((*exited)->Exited());

  auto removed = ContainerExitWatch::Start(root_ + "/state", root_ + "/logs/default_web_uid1/app/0.log");
  ASSERT_TRUE(removed.ok()) << removed.status();
  ASSERT_TRUE(RemoveAll(Bundle("c0")).ok());
  ASSERT_TRUE(Readable((*removed)->inotify_fd()));
  EXPECT_TRUE((*removed)->Exited());
}

TEST_F(ContainerExitWatchTest, NoContainerWritesTheLog) {
  auto none = ContainerExitWatch::Start(root_ + "/state", root_ + "/logs/default_web_uid1/app/7.log");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(none.status().message(), "7.log")) << none.status();
  // A bundle without state.json or with a bad one is skipped.
  ASSERT_TRUE(MkdirAll(Bundle("broken")).ok());
  ASSERT_TRUE(AtomicWriteFile(Bundle("broken") + "/state.json", "{not json").ok());
  auto missing_state = ContainerExitWatch::Start(root_ + "/nowhere", root_ + "/logs/default_web_uid1/app/0.log");
  EXPECT_EQ(missing_state.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(ContainerExitWatch::Start(root_ + "/state", root_ + "/logs/default_web_uid1/app/0.log").ok());
}

}  // namespace
}  // namespace berth::agent
