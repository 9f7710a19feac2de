// The runtime's small parts: reserved names, the event fan-out, and the
// exit watcher reacting to a shim's exit.json.
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <condition_variable>

#include "common/fs.h"
#include "gtest/gtest.h"
#include "runtime-shim/cri/container_events.h"
#include "runtime-shim/cri/exit_watcher.h"
#include "runtime-shim/cri/name_registry.h"

namespace berth {
namespace {

TEST(NameRegistryTest, ReservesUntilReleased) {
  NameRegistry names;
  ASSERT_TRUE(names.Reserve("pod_default_uid_0", "id-1").ok());
  EXPECT_TRUE(names.Reserve("pod_default_uid_0", "id-1").ok());  // same holder
  auto taken = names.Reserve("pod_default_uid_0", "id-2");
  EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(taken.message().find("reserved for \"id-1\""), std::string::npos);
  names.ReleaseById("id-1");
  EXPECT_TRUE(names.Reserve("pod_default_uid_0", "id-2").ok());
}

TEST(ContainerEventsTest, EverySubscriberGetsEveryEventInOrder) {
  ContainerEvents events;
  auto a = events.Subscribe();
  auto b = events.Subscribe();
  for (const char* id : {"one", "two"}) {
    ::runtime::v1::ContainerEventResponse event;
    event.set_container_id(id);
    events.Publish(event);
  }
  for (const auto& sub : {a, b}) {
    EXPECT_EQ(sub->Next(absl::Seconds(1))->container_id(), "one");
    EXPECT_EQ(sub->Next(absl::Seconds(1))->container_id(), "two");
    EXPECT_FALSE(sub->Next(absl::Milliseconds(10)).has_value());
  }
  events.Unsubscribe(a);
  ::runtime::v1::ContainerEventResponse late;
  events.Publish(late);
  EXPECT_FALSE(a->Next(absl::Milliseconds(10)).has_value());
  EXPECT_TRUE(b->Next(absl::Seconds(1)).has_value());
}

class ExitWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-exit-watcher-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    auto watcher = ExitWatcher::Start([this](const std::string& id) {
      std::lock_guard<std::mutex> lock(mu_);
      exited_.push_back(id);
      cv_.notify_all();
    });
    ASSERT_TRUE(watcher.ok());
    watcher_ = std::move(*watcher);
  }
  void TearDown() override {
    watcher_.reset();
    ASSERT_TRUE(RemoveAll(root_).ok());
  }
  bool WaitFor(size_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return exited_.size() >= count; });
  }

  std::string root_;
  std::unique_ptr<ExitWatcher> watcher_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> exited_;
};

TEST_F(ExitWatcherTest, ReportsExitJsonRenamedIn) {
  ASSERT_TRUE(MkdirAll(root_ + "/c1").ok());
  ASSERT_TRUE(watcher_->Watch("c1", root_ + "/c1").ok());
  ASSERT_TRUE(AtomicWriteFile(root_ + "/c1/other.json", "{}", 0644, false).ok());
  ASSERT_TRUE(AtomicWriteFile(root_ + "/c1/exit.json", "{}", 0644, false).ok());
  ASSERT_TRUE(WaitFor(1));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(exited_, std::vector<std::string>{"c1"});
}

TEST_F(ExitWatcherTest, ReportsAnExitThatHappenedBeforeTheWatch) {
  ASSERT_TRUE(MkdirAll(root_ + "/c2").ok());
  ASSERT_TRUE(AtomicWriteFile(root_ + "/c2/exit.json", "{}", 0644, false).ok());
  ASSERT_TRUE(watcher_->Watch("c2", root_ + "/c2").ok());
  ASSERT_TRUE(WaitFor(1));
}

TEST_F(ExitWatcherTest, UnwatchedContainersAreNotReported) {
  ASSERT_TRUE(MkdirAll(root_ + "/c3").ok());
  ASSERT_TRUE(MkdirAll(root_ + "/c4").ok());
  ASSERT_TRUE(watcher_->Watch("c3", root_ + "/c3").ok());
  ASSERT_TRUE(watcher_->Watch("c4", root_ + "/c4").ok());
  watcher_->Unwatch("c3");
  ASSERT_TRUE(AtomicWriteFile(root_ + "/c3/exit.json", "{}", 0644, false).ok());
  ASSERT_TRUE(AtomicWriteFile(root_ + "/c4/exit.json", "{}", 0644, false).ok());
  ASSERT_TRUE(WaitFor(1));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(exited_, std::vector<std::string>{"c4"});
}

}  // namespace
}  // namespace berth
