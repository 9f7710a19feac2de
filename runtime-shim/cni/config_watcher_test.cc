// NetworkConfigWatcher over a temp conf dir: every kind of change is seen
// through inotify (waited on with a deadline, never slept), and CniClient's
// NetworkReady follows it.
#include "runtime-shim/cni/config_watcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime-shim/cni/cni_client.h"

namespace berth::cni {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kDeadline = absl::Seconds(10);

std::string Conflist(const std::string& name) {
  return absl::StrCat(R"({"cniVersion": "1.0.0", "name": ")", name,
                      R"(", "plugins": [{"type": "bridge"}]})");
}

// Waits until `pred(watcher.Current())` holds, waking on each reload.
bool WaitFor(const NetworkConfigWatcher& watcher,
             const std::function<bool(const absl::StatusOr<NetworkConfigList>&)>& pred) {
  absl::Time deadline = absl::Now() + kDeadline;
  for (;;) {
    uint64_t gen = watcher.generation();
    if (pred(watcher.Current())) return true;
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    watcher.WaitForGeneration(gen, left);
  }
}

auto NetworkIs(const std::string& name) {
  return [name](const absl::StatusOr<NetworkConfigList>& l) { return l.ok() && l->name == name; };
}
auto NotReady(const std::string& needle) {
  return [needle](const absl::StatusOr<NetworkConfigList>& l) {
    return !l.ok() && absl::StrContains(l.status().message(), needle);
  };
}

// Writes in place (open, write, close): IN_CLOSE_WRITE, no rename.
void WriteInPlace(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fd);
}

class ConfigWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cni-watch-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    conf_ = dir_ + "/net.d";
  }
  void TearDown() override { EXPECT_TRUE(RemoveAll(dir_).ok()); }

  std::string dir_, conf_;
};

TEST_F(ConfigWatcherTest, SeesCreateModifyDeleteAndMoves) {
  // The conf dir does not exist yet: it is made.
  auto watcher = NetworkConfigWatcher::Start(conf_);
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  NetworkConfigWatcher& w = **watcher;
  EXPECT_TRUE(PathExists(conf_));
  EXPECT_EQ(w.generation(), 1u);
  EXPECT_EQ(w.Current().status().code(), absl::StatusCode::kNotFound);

  // Dropped in atomically (a rename: IN_MOVED_TO).
  ASSERT_TRUE(AtomicWriteFile(conf_ + "/10-a.conflist", Conflist("a")).ok());
  ASSERT_TRUE(WaitFor(w, NetworkIs("a")));
  EXPECT_EQ(w.Current()->source, conf_ + "/10-a.conflist");

  // Rewritten in place (IN_CLOSE_WRITE).
  WriteInPlace(conf_ + "/10-a.conflist", Conflist("a2"));
  ASSERT_TRUE(WaitFor(w, NetworkIs("a2")));

  // A broken file that sorts first: not ready, naming the file and field.
  WriteInPlace(conf_ + "/05-bad.conf", R"({"cniVersion": "1.0.0", "name": "bad"})");
  ASSERT_TRUE(WaitFor(w, NotReady("05-bad.conf: (plugin).type: missing")))
      << w.Current().status();

  // Deleted: the next file counts again.
  ASSERT_EQ(unlink((conf_ + "/05-bad.conf").c_str()), 0);
  ASSERT_TRUE(WaitFor(w, NetworkIs("a2")));

  // Moved out of the dir, then another moved in.
  ASSERT_EQ(rename((conf_ + "/10-a.conflist").c_str(), (dir_ + "/away.conflist").c_str()), 0);
  ASSERT_TRUE(WaitFor(w, NotReady("no CNI config")));
  ASSERT_EQ(rename((dir_ + "/away.conflist").c_str(), (conf_ + "/20-b.json").c_str()), 0);
  ASSERT_TRUE(WaitFor(w, NetworkIs("a2")));
  EXPECT_EQ(w.Current()->source, conf_ + "/20-b.json");
}

TEST_F(ConfigWatcherTest, SurvivesTheDirBeingRemovedAndMadeAgain) {
  ASSERT_TRUE(MkdirAll(conf_).ok());
  ASSERT_TRUE(AtomicWriteFile(conf_ + "/10-a.conflist", Conflist("a")).ok());
  auto watcher = NetworkConfigWatcher::Start(conf_);
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  NetworkConfigWatcher& w = **watcher;
  ASSERT_TRUE(w.Current().ok());

  ASSERT_TRUE(RemoveAll(conf_).ok());
  ASSERT_TRUE(WaitFor(w, NotReady("no CNI config")));
  // Made again elsewhere and moved into place, as config management does.
  std::string staged = dir_ + "/staged";
  ASSERT_TRUE(MkdirAll(staged).ok());
  ASSERT_TRUE(AtomicWriteFile(staged + "/10-c.conflist", Conflist("c")).ok());
  ASSERT_EQ(rename(staged.c_str(), conf_.c_str()), 0);
  ASSERT_TRUE(WaitFor(w, NetworkIs("c")));
  // And the new dir is watched.
  ASSERT_TRUE(AtomicWriteFile(conf_ + "/01-d.conflist", Conflist("d")).ok());
  ASSERT_TRUE(WaitFor(w, NetworkIs("d")));
}

TEST_F(ConfigWatcherTest, StopsPromptlyAndReloadCounts) {
  auto watcher = NetworkConfigWatcher::Start(conf_);
  ASSERT_TRUE(watcher.ok());
  uint64_t gen = (*watcher)->generation();
  (*watcher)->Reload();
  EXPECT_TRUE((*watcher)->WaitForGeneration(gen, absl::ZeroDuration()));
  EXPECT_FALSE((*watcher)->WaitForGeneration(gen + 1, absl::Milliseconds(1)));
  watcher->reset();  // joins the thread: must not hang
}

TEST_F(ConfigWatcherTest, CniClientNetworkReadyFollowsTheDir) {
  CniClientOptions options;
  options.conf_dir = conf_;
  options.bin_dirs = {dir_ + "/bin"};
  options.cache_dir = dir_ + "/cache";
  options.watch_conf_dir = true;
  CniClient client(options);
  absl::Status ready = client.NetworkReady();
  EXPECT_EQ(ready.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(ready.message(), HasSubstr("NetworkPluginNotReady: no CNI config"));

  // No network yet: ADD fails and says why.
  ASSERT_TRUE(MkdirAll(dir_ + "/bin").ok());
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/netns", "").ok());
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/bin/fake",
                              "#!/bin/sh\ncat >/dev/null\n"
                              "echo '{\"cniVersion\": \"1.0.0\", \"interfaces\": [{\"name\": "
                              "\"eth0\", \"sandbox\": \"x\"}], \"ips\": [{\"address\": "
                              "\"10.9.0.7/24\", \"interface\": 0}]}'\n",
                              0755)
                  .ok());
  AttachmentRequest request;
  request.container_id = "pod1";
  request.netns = dir_ + "/netns";
  EXPECT_FALSE(client.Add(request).ok());

  auto wait_ready = [&](const std::function<bool(const absl::Status&)>& pred) {
    absl::Time deadline = absl::Now() + kDeadline;
    while (!pred(client.NetworkReady())) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(5));  // polls a condition, bounded
    }
    return true;
  };
  ASSERT_TRUE(AtomicWriteFile(conf_ + "/10-a.conflist",
                              R"({"cniVersion": "1.0.0", "name": "a", "plugins": [{"type": "fake"}]})")
                  .ok());
  // Ready at once, even before the watcher's thread has seen the file.
  EXPECT_TRUE(client.NetworkReady().ok()) << client.NetworkReady();
  ASSERT_TRUE(wait_ready([](const absl::Status& s) { return s.ok(); }));
  // The next pod gets networking from the new config, no restart.
  auto added = client.Add(request);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->PodIPs(), std::vector<std::string>{"10.9.0.7"});
  EXPECT_TRUE(client.Del(request).ok());
  WriteInPlace(conf_ + "/10-a.conflist", R"({"cniVersion": "9.9.9", "name": "a", "plugins": []})");
  ASSERT_TRUE(wait_ready([](const absl::Status& s) {
    return absl::StrContains(s.message(), "10-a.conflist") && absl::StrContains(s.message(), "cniVersion");
  })) << client.NetworkReady();
}

}  // namespace
}  // namespace berth::cni
