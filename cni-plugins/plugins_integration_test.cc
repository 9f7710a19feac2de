// Runs berth-host-local and berth-loopback as the runtime would: through the
// berth_cni CniClient, chained after Debian's reference bridge plugin
// (/usr/lib/cni). Each test first unshares its thread into a private network
// namespace (the plugins it spawns inherit it), so the bridge and the
// 10.246.X.0/24 subnet exist only there; pod namespaces are made on
// short-lived threads and bind-mounted under the test's temp dir.
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime-shim/cni/cni_client.h"
#include "runtime-shim/cni/testing/netns_testing.h"
#include "runtime-shim/cni/plugin_exec.h"

namespace berth::cni {
namespace {

constexpr char kReferenceDir[] = "/usr/lib/cni";
constexpr char kBerthDir[] = BERTH_CNI_PLUGINS_DIR;

using testing::InNetns;

// "<ifname> <address>" for each IPv4 address, and "<ifname> up" for each up
// interface, in the calling thread's namespace.
std::set<std::string> LinkState() {
  std::set<std::string> out;
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) < 0) return out;
  for (auto* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_flags & IFF_UP) out.insert(absl::StrCat(it->ifa_name, " up"));
    if (it->ifa_addr != nullptr && it->ifa_addr->sa_family == AF_INET) {
      char buf[INET_ADDRSTRLEN] = {};
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(it->ifa_addr)->sin_addr, buf, sizeof buf);
      out.insert(absl::StrCat(it->ifa_name, " ", buf));
    }
  }
  freeifaddrs(list);
  return out;
}

class PluginsIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    if (!PathExists(absl::StrCat(kReferenceDir, "/bridge"))) {
      GTEST_SKIP() << "containernetworking-plugins not installed in " << kReferenceDir;
    }
    char tmpl[] = "/tmp/berth-cni-plugins-it-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MkdirAll(dir_ + "/conf").ok());
    ASSERT_TRUE(MkdirAll(dir_ + "/netns").ok());
    // The private host namespace, for this thread (and so the plugins) only.
    auto original = testing::EnterPrivateNetns();
    ASSERT_TRUE(original.ok()) << original.status();
    orig_netns_ = *original;
    subnet_ = absl::StrCat("10.246.", 100 + (++test_index_) % 100, ".");
    WriteConfig();
  }

  void TearDown() override {
    for (const auto& path : pinned_) {
      umount2(path.c_str(), MNT_DETACH);
      unlink(path.c_str());
    }
    // Leaving drops the last reference: the bridge and veths go with it.
    if (orig_netns_ >= 0) {
      absl::Status left = testing::LeavePrivateNetns(orig_netns_);
      EXPECT_TRUE(left.ok()) << left;
    }
    if (!dir_.empty()) {
      EXPECT_TRUE(RemoveAll(dir_).ok());
    }
  }

  std::string NewPodNetns(const std::string& name) {
    std::string path = absl::StrCat(dir_, "/netns/", name);
    absl::Status pinned = testing::PinNewNetns(path);
    EXPECT_TRUE(pinned.ok()) << pinned;
    if (pinned.ok()) pinned_.push_back(path);
    return path;
  }

  std::string IpamDir() const { return dir_ + "/ipam"; }

  void WriteConfig(int first = 10, int last = 12) {
    std::string conf = absl::StrCat(
        R"({"cniVersion": "1.0.0", "name": "berth-it", "plugins": [
          {"type": "bridge", "bridge": "berthit0", "isGateway": true, "ipMasq": false,
           "ipam": {"type": "berth-host-local", "dataDir": ")", IpamDir(), R"(",
                    "ranges": [[{"subnet": ")", subnet_, R"(0/24", "rangeStart": ")", subnet_, first,
        R"(", "rangeEnd": ")", subnet_, last, R"(", "gateway": ")", subnet_, R"(1"}]],
                    "routes": [{"dst": "0.0.0.0/0"}]}},
          {"type": "berth-loopback"}]})");
    ASSERT_TRUE(AtomicWriteFile(dir_ + "/conf/10-berth.conflist", conf).ok());
  }

  CniClientOptions Options() const {
    CniClientOptions options;
    options.conf_dir = dir_ + "/conf";
    options.bin_dirs = {kBerthDir, kReferenceDir};
    options.cache_dir = dir_ + "/cache";
    options.plugin_timeout = absl::Seconds(10);
    return options;
  }

  AttachmentRequest Request(const std::string& id, const std::string& netns) const {
    AttachmentRequest request;
    request.container_id = id;
    request.netns = netns;
    request.pod_namespace = "default";
    request.pod_name = "pod-" + id;
    request.pod_uid = "uid-" + id;
    return request;
  }

  std::set<std::string> AllocatedIps() const {
    std::set<std::string> out;
    auto names = ListDir(IpamDir() + "/berth-it");
    if (!names.ok()) return out;
    for (const auto& name : *names) {
      if (absl::StartsWith(name, subnet_)) out.insert(name);
    }
    return out;
  }

  static inline int test_index_ = 0;
  std::string dir_;
  std::string subnet_;
  int orig_netns_ = -1;
  std::vector<std::string> pinned_;
};

TEST_F(PluginsIntegrationTest, AddGivesAnIpFromTheRangeAndDelFreesIt) {
  CniClient client(Options());
  std::string netns = NewPodNetns("a");
  auto result = client.Add(Request("sandbox-a", netns));
  ASSERT_TRUE(result.ok()) << result.status();
  auto ips = result->PodIPs();
  ASSERT_EQ(ips.size(), 1u);
  EXPECT_THAT(ips[0], ::testing::AnyOf(subnet_ + "10", subnet_ + "11", subnet_ + "12"));
  EXPECT_EQ(AllocatedIps(), std::set<std::string>{ips[0]});
  auto owner = ReadFile(absl::StrCat(IpamDir(), "/berth-it/", ips[0]));
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(*owner, "sandbox-a\neth0");
  std::set<std::string> state;
  InNetns(netns, [&] { state = LinkState(); });
  EXPECT_TRUE(state.contains("lo up")) << ::testing::PrintToString(state);
  EXPECT_TRUE(state.contains("lo 127.0.0.1"));
  EXPECT_TRUE(state.contains("eth0 " + ips[0])) << ::testing::PrintToString(state);

  EXPECT_TRUE(client.Check(Request("sandbox-a", netns)).ok());
  ASSERT_TRUE(client.Del(Request("sandbox-a", netns)).ok());
  EXPECT_TRUE(AllocatedIps().empty());
  EXPECT_TRUE(client.Del(Request("sandbox-a", netns)).ok());  // idempotent
}

TEST_F(PluginsIntegrationTest, TwoPodsGetDistinctIpsAndAFullRangeFailsCleanly) {
  WriteConfig(10, 11);
  CniClient client(Options());
  std::string a = NewPodNetns("a"), b = NewPodNetns("b"), c = NewPodNetns("c");
  auto ra = client.Add(Request("sandbox-a", a));
  auto rb = client.Add(Request("sandbox-b", b));
  ASSERT_TRUE(ra.ok()) << ra.status();
  ASSERT_TRUE(rb.ok()) << rb.status();
  EXPECT_NE(ra->PodIPs()[0], rb->PodIPs()[0]);
  EXPECT_EQ(AllocatedIps(), (std::set<std::string>{subnet_ + "10", subnet_ + "11"}));
  auto rc = client.Add(Request("sandbox-c", c));
  ASSERT_FALSE(rc.ok());
  EXPECT_THAT(rc.status().message(), ::testing::HasSubstr("no IP addresses available"));
  EXPECT_EQ(AllocatedIps().size(), 2u);  // nothing leaked
  ASSERT_TRUE(client.Del(Request("sandbox-a", a)).ok());
  auto rc2 = client.Add(Request("sandbox-c", c));
  ASSERT_TRUE(rc2.ok()) << rc2.status();
  EXPECT_EQ(rc2->PodIPs()[0], ra->PodIPs()[0]);
  ASSERT_TRUE(client.Del(Request("sandbox-b", b)).ok());
  ASSERT_TRUE(client.Del(Request("sandbox-c", c)).ok());
  EXPECT_TRUE(AllocatedIps().empty());
}

TEST_F(PluginsIntegrationTest, DelToleratesAGoneNetns) {
  CniClient client(Options());
  std::string netns = NewPodNetns("gone");
  auto result = client.Add(Request("sandbox-g", netns));
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(umount2(netns.c_str(), MNT_DETACH), 0);
  ASSERT_EQ(unlink(netns.c_str()), 0);
  pinned_.clear();
  ASSERT_TRUE(client.Del(Request("sandbox-g", netns)).ok());
  EXPECT_TRUE(AllocatedIps().empty());
}

// Runs one of berth's plugins directly: (exit code, stdout as JSON or null).
std::pair<int, nlohmann::json> RunBerthPlugin(const std::string& name, std::vector<std::string> env,
                                              const std::string& input) {
  env.push_back(absl::StrCat("CNI_PATH=", kBerthDir));
  auto out = RunProcess(absl::StrCat(kBerthDir, "/", name), env, input, absl::Seconds(10));
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return {-1, nullptr};
  auto json = nlohmann::json::parse(out->out, nullptr, false);
  return {out->exit_code, json.is_discarded() ? nlohmann::json() : json};
}

TEST_F(PluginsIntegrationTest, LoopbackAloneAddCheckDelAndErrors) {
  std::string netns = NewPodNetns("lo");
  std::string conf = R"({"cniVersion": "1.0.0", "name": "lo", "type": "berth-loopback"})";
  std::vector<std::string> env = {"CNI_CONTAINERID=c1", "CNI_IFNAME=lo", "CNI_NETNS=" + netns};
  auto with = [&](const std::string& command) {
    auto e = env;
    e.push_back("CNI_COMMAND=" + command);
    return e;
  };
  auto [rc, add] = RunBerthPlugin("berth-loopback", with("ADD"), conf);
  ASSERT_EQ(rc, 0) << add.dump();
  EXPECT_EQ(add["interfaces"][0]["name"], "lo");
  EXPECT_EQ(add["ips"][0]["address"], "127.0.0.1/8");
  EXPECT_EQ(add["ips"][1]["address"], "::1/128");
  std::set<std::string> state;
  InNetns(netns, [&] { state = LinkState(); });
  EXPECT_TRUE(state.contains("lo up"));
  EXPECT_EQ(RunBerthPlugin("berth-loopback", with("CHECK"), conf).first, 0);
  EXPECT_EQ(RunBerthPlugin("berth-loopback", with("DEL"), conf).first, 0);

  // A fresh namespace's lo is down: CHECK says so.
  std::string down = NewPodNetns("down");
  auto check_env = with("CHECK");
  check_env[2] = "CNI_NETNS=" + down;
  auto [check_rc, check] = RunBerthPlugin("berth-loopback", check_env, conf);
  EXPECT_EQ(check_rc, 1);
  EXPECT_GE(check["code"].get<int>(), 100);

  auto missing = with("DEL");
  missing[2] = "CNI_NETNS=" + dir_ + "/netns/nope";
  EXPECT_EQ(RunBerthPlugin("berth-loopback", missing, conf).first, 0);
  missing.back() = "CNI_COMMAND=ADD";
  auto [add_rc, err] = RunBerthPlugin("berth-loopback", missing, conf);
  EXPECT_EQ(add_rc, 1);
  EXPECT_EQ(err["code"], 4);
  EXPECT_THAT(err["msg"].get<std::string>(), ::testing::HasSubstr("nope"));

  auto [bad_rc, bad] = RunBerthPlugin("berth-loopback", with("ADD"), "{nope");
  EXPECT_EQ(bad_rc, 1);
  EXPECT_EQ(bad["code"], 6);
  auto [v_rc, v] = RunBerthPlugin("berth-loopback", {"CNI_COMMAND=VERSION"}, "");
  EXPECT_EQ(v_rc, 0);
  EXPECT_EQ(v["supportedVersions"].size(), 5u);
}

TEST_F(PluginsIntegrationTest, HostLocalGcReleasesInvalidAttachments) {
  std::string conf = absl::StrCat(R"({"cniVersion": "1.1.0", "name": "berth-it", "type": "x",
      "ipam": {"type": "berth-host-local", "dataDir": ")", IpamDir(), R"(",
               "ranges": [[{"subnet": ")", subnet_, R"(0/24"}]]}})");
  for (const char* id : {"keep", "drop"}) {
    auto [rc, out] = RunBerthPlugin("berth-host-local",
                                    {"CNI_COMMAND=ADD", absl::StrCat("CNI_CONTAINERID=", id),
                                     "CNI_IFNAME=eth0", "CNI_NETNS=/proc/self/ns/net"},
                                    conf);
    ASSERT_EQ(rc, 0) << out.dump();
  }
  EXPECT_EQ(AllocatedIps().size(), 2u);
  auto gc = nlohmann::json::parse(conf);
  gc["cni.dev/valid-attachments"] = {{{"containerID", "keep"}, {"ifname", "eth0"}}};
  auto [rc, out] = RunBerthPlugin("berth-host-local", {"CNI_COMMAND=GC"}, gc.dump());
  ASSERT_EQ(rc, 0) << out.dump();
  EXPECT_EQ(AllocatedIps(), std::set<std::string>{subnet_ + "2"});
  auto check = [&](const char* id) {
    return RunBerthPlugin("berth-host-local",
                          {"CNI_COMMAND=CHECK", absl::StrCat("CNI_CONTAINERID=", id),
                           "CNI_IFNAME=eth0", "CNI_NETNS=/proc/self/ns/net"},
                          conf)
        .first;
  };
  EXPECT_EQ(check("keep"), 0);
  EXPECT_EQ(check("drop"), 1);
}

}  // namespace
}  // namespace berth::cni
