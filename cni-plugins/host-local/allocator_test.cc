#include "cni-plugins/host-local/allocator.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cni-plugins/common/plugin.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::hostlocal {
namespace {

using ::testing::HasSubstr;

class AllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-host-local-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { EXPECT_TRUE(RemoveAll(dir_).ok()); }

  IpamConfig Config(const std::string& ranges) {
    auto c = ParseIpamConfig(nlohmann::json::parse(absl::StrCat(
        R"({"name": "net", "ipam": {"dataDir": ")", dir_, R"(", "ranges": )", ranges,
        R"(, "routes": [{"dst": "0.0.0.0/0"}]}, "dns": {"nameservers": ["10.0.0.53"]}})")));
    EXPECT_TRUE(c.ok()) << c.status();
    return *c;
  }
  std::string File(const std::string& name) {
    auto data = ReadFile(absl::StrCat(dir_, "/net/", name));
    return data.ok() ? *data : "<missing>";
  }

  std::string dir_;
};

TEST_F(AllocatorTest, AllocatesRoundRobinAndWritesFiles) {
  auto config = Config(R"([[{"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.10", "rangeEnd": "10.0.0.12"}]])");
  auto a = Allocate(config, "c1", "eth0");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].ip.ToString(), "10.0.0.10");
  EXPECT_EQ(File("10.0.0.10"), "c1\neth0");
  EXPECT_EQ(File("last_reserved_ip.0"), "10.0.0.10");
  EXPECT_EQ(Allocate(config, "c2", "eth0").value()[0].ip.ToString(), "10.0.0.11");
  ASSERT_TRUE(Release(config, "c1", "eth0").ok());
  EXPECT_EQ(File("10.0.0.10"), "<missing>");
  // Round-robin: after .11 comes .12, then .10 again (freed), not .10 first.
  EXPECT_EQ(Allocate(config, "c3", "eth0").value()[0].ip.ToString(), "10.0.0.12");
  EXPECT_EQ(Allocate(config, "c4", "eth0").value()[0].ip.ToString(), "10.0.0.10");
}

TEST_F(AllocatorTest, TornLastReservedHintIsIgnored) {
  // last_reserved_ip is rewritten in place (no rename): a torn or garbled
  // hint must only lose the round-robin position, never an allocation.
  auto config = Config(R"([[{"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.10", "rangeEnd": "10.0.0.12"}]])");
  ASSERT_EQ(Allocate(config, "c1", "eth0").value()[0].ip.ToString(), "10.0.0.10");
  for (const char* hint : {"", "10.0.", "not an ip", "10.0.0.11garbage"}) {
    ASSERT_TRUE(AtomicWriteFile(absl::StrCat(dir_, "/net/last_reserved_ip.0"), hint).ok());
    auto a = Allocate(config, absl::StrCat("c-", std::string(hint)), "eth0");
    ASSERT_TRUE(a.ok()) << hint << ": " << a.status();
    EXPECT_NE((*a)[0].ip.ToString(), "10.0.0.10") << "hint " << hint << " handed out a taken address";
    ASSERT_TRUE(Release(config, absl::StrCat("c-", std::string(hint)), "eth0").ok());
  }
  // A good hint is written back whole after the next allocation.
  auto b = Allocate(config, "c2", "eth0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(File("last_reserved_ip.0"), (*b)[0].ip.ToString());
}

TEST_F(AllocatorTest, IdempotentForSameContainerAndIfname) {
  auto config = Config(R"([[{"subnet": "10.0.0.0/24"}]])");
  auto a = Allocate(config, "c1", "eth0");
  auto b = Allocate(config, "c1", "eth0");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)[0].ip, (*b)[0].ip);
  EXPECT_EQ((*a)[0].ip.ToString(), "10.0.0.2");  // .1 is the default gateway
  auto c = Allocate(config, "c1", "eth1");
  ASSERT_TRUE(c.ok());
  EXPECT_NE((*c)[0].ip, (*a)[0].ip);
  ASSERT_TRUE(Find(config, "c1", "eth0").ok());
  EXPECT_FALSE(Find(config, "c9", "eth0").ok());
  ASSERT_TRUE(Release(config, "c1", "eth0").ok());
  ASSERT_TRUE(Release(config, "c1", "eth0").ok());  // idempotent
  EXPECT_FALSE(Find(config, "c1", "eth0").ok());
  EXPECT_TRUE(Find(config, "c1", "eth1").ok());
}

TEST_F(AllocatorTest, ExhaustionNamesTheRange) {
  auto config = Config(R"([[{"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.1", "rangeEnd": "10.0.0.3"}]])");
  ASSERT_TRUE(Allocate(config, "c1", "eth0").ok());  // .2 (.1 is the gateway)
  ASSERT_TRUE(Allocate(config, "c2", "eth0").ok());  // .3
  auto full = Allocate(config, "c3", "eth0");
  ASSERT_FALSE(full.ok());
  EXPECT_THAT(full.status().message(), HasSubstr("10.0.0.0/24 (10.0.0.1-10.0.0.3)"));
  EXPECT_GE(cniplugin::CniCode(full.status()), 100);
}

TEST_F(AllocatorTest, DualStackAndRollbackOnExhaustion) {
  auto config = Config(R"([[{"subnet": "10.0.0.0/24"}], [{"subnet": "fd00::/64"}]])");
  auto a = Allocate(config, "c1", "eth0");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].ip.ToString(), "10.0.0.2");
  EXPECT_EQ((*a)[1].ip.ToString(), "fd00::2");
  auto json = ResultJson(config, *a, "1.0.0");
  EXPECT_EQ(json["ips"][0]["address"], "10.0.0.2/24");
  EXPECT_EQ(json["ips"][0]["gateway"], "10.0.0.1");
  EXPECT_EQ(json["ips"][1]["address"], "fd00::2/64");
  EXPECT_EQ(json["routes"][0]["dst"], "0.0.0.0/0");
  EXPECT_EQ(json["dns"]["nameservers"][0], "10.0.0.53");
  EXPECT_FALSE(json["ips"][0].contains("version"));
  EXPECT_EQ(ResultJson(config, *a, "0.3.1")["ips"][1]["version"], "6");

  // v6 exhausted: the v4 address taken in that call is given back.
  auto tight = Config(R"([[{"subnet": "10.0.0.0/24"}], [{"subnet": "fd00::/64", "rangeStart": "fd00::2", "rangeEnd": "fd00::2"}]])");
  auto b = Allocate(tight, "c2", "eth0");
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("fd00::/64"));
  auto names = ListDir(dir_ + "/net");
  ASSERT_TRUE(names.ok());
  std::set<std::string> ips;
  for (const auto& n : *names) {
    if (ParseIp(n)) ips.insert(n);
  }
  EXPECT_EQ(ips, (std::set<std::string>{"10.0.0.2", "fd00::2"}));
}

TEST_F(AllocatorTest, GarbageCollectKeepsValidOnly) {
  auto config = Config(R"([[{"subnet": "10.0.0.0/24"}]])");
  ASSERT_TRUE(Allocate(config, "keep", "eth0").ok());
  ASSERT_TRUE(Allocate(config, "drop", "eth0").ok());
  ASSERT_TRUE(GarbageCollect(config, {{"keep", "eth0"}}).ok());
  EXPECT_TRUE(Find(config, "keep", "eth0").ok());
  EXPECT_FALSE(Find(config, "drop", "eth0").ok());
}

TEST_F(AllocatorTest, ConcurrentThreadsGetDistinctIps) {
  auto config = Config(R"([[{"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.10", "rangeEnd": "10.0.0.17"}]])");
  std::vector<std::string> got(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < 3; ++round) {
        std::string id = absl::StrCat("c", i);
        auto a = Allocate(config, id, "eth0");
        if (!a.ok()) {
          got[i] = std::string(a.status().message());
          return;
        }
        got[i] = (*a)[0].ip.ToString();
        if (round < 2) (void)Release(config, id, "eth0");
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> distinct(got.begin(), got.end());
  EXPECT_EQ(distinct.size(), 8u) << ::testing::PrintToString(got);
}

TEST_F(AllocatorTest, ConcurrentProcessesGetDistinctIps) {
  auto config = Config(R"([[{"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.10", "rangeEnd": "10.0.0.17"}]])");
  std::vector<pid_t> pids;
  for (int i = 0; i < 8; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto a = Allocate(config, absl::StrCat("p", i), "eth0");
      _exit(a.ok() ? 0 : 1);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::set<std::string> owners;
  for (int i = 10; i <= 17; ++i) owners.insert(File(absl::StrCat("10.0.0.", i)));
  EXPECT_EQ(owners.size(), 8u);
  EXPECT_FALSE(owners.contains("<missing>"));
  EXPECT_FALSE(Allocate(config, "ninth", "eth0").ok());
}

}  // namespace
}  // namespace berth::hostlocal
