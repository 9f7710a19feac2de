// Drives Debian's reference CNI plugins (containernetworking-plugins, in
// /usr/lib/cni) through CniClient. Every test runs in a private "host" network
// namespace it makes first (unshare on the test thread, which spawns the
// plugins), so the bridge, the veths and the 10.244.X.0/24 subnet exist only
// there; pod namespaces are made on short-lived threads and bind-mounted
// under the test's temp dir. Nothing touches the machine's own network.
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime-shim/cni/cni_client.h"
#include "runtime-shim/cni/testing/netns_testing.h"

namespace berth::cni {
namespace {

using ::testing::HasSubstr;

constexpr char kPluginDir[] = "/usr/lib/cni";

using testing::InNetns;

// name -> addresses (IPv4 and IPv6, textual) of the current thread's netns.
std::map<std::string, std::set<std::string>> Addresses() {
  std::map<std::string, std::set<std::string>> out;
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) < 0) return out;
  for (auto* it = list; it != nullptr; it = it->ifa_next) {
    out[it->ifa_name];
    if (it->ifa_addr == nullptr) continue;
    char buf[INET6_ADDRSTRLEN] = {};
    if (it->ifa_addr->sa_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(it->ifa_addr)->sin_addr, buf, sizeof buf);
      out[it->ifa_name].insert(buf);
    } else if (it->ifa_addr->sa_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(it->ifa_addr)->sin6_addr, buf, sizeof buf);
      out[it->ifa_name].insert(buf);
    }
  }
  freeifaddrs(list);
  return out;
}

// Interface names of the current thread's netns starting with `prefix`.
std::vector<std::string> LinksWithPrefix(const std::string& prefix) {
  std::vector<std::string> out;
  struct if_nameindex* names = if_nameindex();
  if (names == nullptr) return out;
  for (auto* n = names; n->if_index != 0; ++n) {
    if (absl::StartsWith(n->if_name, prefix)) out.push_back(n->if_name);
  }
  if_freenameindex(names);
  return out;
}

class CniIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    if (!PathExists(absl::StrCat(kPluginDir, "/bridge"))) {
      GTEST_SKIP() << "containernetworking-plugins not installed in " << kPluginDir;
    }
    char tmpl[] = "/tmp/berth-cni-it-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MkdirAll(dir_ + "/conf").ok());
    ASSERT_TRUE(MkdirAll(dir_ + "/netns").ok());
    // The private host namespace, for this thread (and so the plugins) only.
    auto original = testing::EnterPrivateNetns();
    ASSERT_TRUE(original.ok()) << original.status();
    orig_netns_ = *original;
    ++test_index_;
    subnet_ = absl::StrCat("10.244.", 200 + test_index_ % 50, ".");
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

  // A new pod net namespace pinned at <dir>/netns/<name>.
  std::string NewPodNetns(const std::string& name) {
    std::string path = absl::StrCat(dir_, "/netns/berth-cni-test-", getpid(), "-", name);
    absl::Status pinned = testing::PinNewNetns(path);
    EXPECT_TRUE(pinned.ok()) << pinned;
    if (pinned.ok()) pinned_.push_back(path);
    return path;
  }

  // Unpins the namespace (it dies); `keep_file` leaves the empty mount point.
  void RemovePodNetns(const std::string& path, bool keep_file = false) {
    ASSERT_EQ(umount2(path.c_str(), MNT_DETACH), 0) << strerror(errno);
    if (!keep_file) {
      ASSERT_EQ(unlink(path.c_str()), 0);
    }
  }

  std::string IpamDir() const { return dir_ + "/ipam"; }

  void WriteConfig(const std::string& file, const std::string& json) {
    ASSERT_TRUE(AtomicWriteFile(absl::StrCat(dir_, "/conf/", file), json).ok());
  }

  // bridge + host-local over <subnet>.<first>..<subnet>.<last>, plus an
  // IPv6 range when `ipv6`.
  std::string BridgePlugin(int first = 10, int last = 11, bool ipv6 = false) const {
    std::string v6 = ipv6 ? R"(, [{"subnet": "fd00:10:244::/64"}])" : "";
    std::string v6_route = ipv6 ? R"(, {"dst": "::/0"})" : "";
    return absl::StrCat(R"({"type": "bridge", "bridge": "berthbr0", "isGateway": true,
        "ipMasq": false, "hairpinMode": true,
        "ipam": {"type": "host-local", "dataDir": ")", IpamDir(), R"(",
                 "ranges": [[{"subnet": ")", subnet_, R"(0/24", "rangeStart": ")", subnet_, first,
                        R"(", "rangeEnd": ")", subnet_, last, R"(", "gateway": ")", subnet_,
                        R"(1"}])", v6, R"(],
                 "routes": [{"dst": "0.0.0.0/0"})", v6_route, "]}}");
  }

  void WriteBridgeConfig(const std::string& name = "berth-test", const std::string& extra = "") {
    WriteConfig("10-berth.conflist",
                absl::StrCat(R"({"cniVersion": "1.0.0", "name": ")", name, R"(", "plugins": [)",
                             BridgePlugin(), extra, "]}"));
  }

  void WriteConfigWithPlugin(const std::string& plugin) {
    WriteConfig("10-berth.conflist",
                absl::StrCat(R"({"cniVersion": "1.0.0", "name": "berth-test", "plugins": [)", plugin, "]}"));
  }

  CniClientOptions Options() const {
    CniClientOptions options;
    options.conf_dir = dir_ + "/conf";
    options.bin_dirs = {kPluginDir};
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

  // IPs host-local holds for `network` (its data dir has one file per IP).
  std::set<std::string> AllocatedIps(const std::string& network = "berth-test") const {
    std::set<std::string> out;
    auto names = ListDir(absl::StrCat(IpamDir(), "/", network));
    if (!names.ok()) return out;
    for (const auto& name : *names) {
      if (absl::StartsWith(name, subnet_) || absl::StartsWith(name, "fd00")) out.insert(name);
    }
    return out;
  }

  std::vector<std::string> CacheFiles() const {
    auto names = ListDir(dir_ + "/cache");
    return names.ok() ? *names : std::vector<std::string>();
  }

  // The host end of the pod's veth in the result.
  static std::string HostVeth(const CniResult& result) {
    for (const auto& iface : result.interfaces) {
      if (iface.sandbox.empty() && absl::StartsWith(iface.name, "veth")) return iface.name;
    }
    return "";
  }

  std::string dir_;
  std::string subnet_;  // "10.244.X."
  int orig_netns_ = -1;
  std::vector<std::string> pinned_;
  static inline int test_index_ = 0;
};

// A UDP round trip from `from_ns` to `to_ip` (in `to_ns`) and back, with a
// bounded number of tries (the first datagram may wait on ARP).
bool UdpRoundTrip(const std::string& from_ns, const std::string& to_ns, const std::string& to_ip) {
  int server = -1, client = -1;
  InNetns(to_ns, [&] { server = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  InNetns(from_ns, [&] { client = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  if (server < 0 || client < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(7777);
  inet_pton(AF_INET, to_ip.c_str(), &addr.sin_addr);
  bool ok = bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  const int64_t deadline = MonotonicNanos() + 8'000'000'000LL;
  bool got_request = false, got_reply = false;
  while (ok && !got_reply && MonotonicNanos() < deadline) {
    if (!got_request) {
      sendto(client, "ping", 4, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      pollfd pfd = {server, POLLIN, 0};
      if (poll(&pfd, 1, 250) == 1) {
        char buf[16];
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        ssize_t n = recvfrom(server, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len);
        if (n == 4 && std::string(buf, 4) == "ping") {
          got_request = true;
          sendto(server, "pong", 4, 0, reinterpret_cast<sockaddr*>(&peer), len);
        }
      }
    } else {
      pollfd pfd = {client, POLLIN, 0};
      if (poll(&pfd, 1, 250) == 1) {
        char buf[16];
        ssize_t n = recv(client, buf, sizeof buf, 0);
        got_reply = n == 4 && std::string(buf, 4) == "pong";
      } else {
        got_request = false;  // reply lost: start over
      }
    }
  }
  close(server);
  close(client);
  return got_reply;
}

TEST_F(CniIntegrationTest, AddConnectsPodsAndDelReleases) {
  WriteBridgeConfig("berth-test", R"(, {"type": "portmap", "capabilities": {"portMappings": true}})");
  CniClient client(Options());
  ASSERT_TRUE(client.NetworkReady().ok());
  ASSERT_TRUE(client.Status().ok()) << client.Status();

  std::string ns1 = NewPodNetns("1"), ns2 = NewPodNetns("2");
  AttachmentRequest req1 = Request("pod1", ns1);
  req1.port_mappings = {{80, 18080, "tcp", ""}};
  auto r1 = client.Add(req1);
  ASSERT_TRUE(r1.ok()) << r1.status();
  auto r2 = client.Add(Request("pod2", ns2));
  ASSERT_TRUE(r2.ok()) << r2.status();

  ASSERT_EQ(r1->PodIPs().size(), 1u);
  ASSERT_EQ(r2->PodIPs().size(), 1u);
  std::string ip1 = r1->PodIPs()[0], ip2 = r2->PodIPs()[0];
  EXPECT_TRUE(absl::StartsWith(ip1, subnet_)) << ip1;
  EXPECT_TRUE(absl::StartsWith(ip2, subnet_)) << ip2;
  EXPECT_NE(ip1, ip2);
  EXPECT_EQ(AllocatedIps(), (std::set<std::string>{ip1, ip2}));
  InNetns(ns1, [&] { EXPECT_TRUE(Addresses()["eth0"].contains(ip1)); });
  InNetns(ns2, [&] { EXPECT_TRUE(Addresses()["eth0"].contains(ip2)); });
  std::string veth1 = HostVeth(*r1);
  ASSERT_FALSE(veth1.empty());
  EXPECT_NE(if_nametoindex(veth1.c_str()), 0u);
  EXPECT_EQ(CacheFiles().size(), 2u);
  EXPECT_TRUE(UdpRoundTrip(ns2, ns1, ip1)) << "pod2 -> pod1 " << ip1;
  EXPECT_TRUE(UdpRoundTrip(ns1, ns2, ip2)) << "pod1 -> pod2 " << ip2;
  // portmap got the mapping through runtimeConfig: its DNAT rule is in the
  // private host namespace's nat table.
  if (PathExists("/usr/sbin/iptables-save")) {
    auto rules = RunProcess("/usr/sbin/iptables-save", {"PATH=/usr/sbin:/usr/bin"}, "", absl::Seconds(10));
    ASSERT_TRUE(rules.ok()) << rules.status();
    EXPECT_THAT(rules->out, HasSubstr("--dport 18080"));
    EXPECT_THAT(rules->out, HasSubstr(absl::StrCat("--to-destination ", ip1, ":80")));
  }
  // CHECK on pod2 (Debian's portmap 1.1.1 fails CHECK of an IPv4-only
  // mapping on its IPv6 chain, so pod1's mapping is not CHECKed).
  AttachmentRequest req2 = Request("pod2", ns2);
  EXPECT_TRUE(client.Check(req2).ok()) << client.Check(req2);

  // DEL removes the veth and releases the IP; twice is fine.
  ASSERT_TRUE(client.Del(req1).ok());
  EXPECT_EQ(if_nametoindex(veth1.c_str()), 0u) << veth1;
  InNetns(ns1, [&] { EXPECT_FALSE(Addresses().contains("eth0")); });
  EXPECT_EQ(AllocatedIps(), (std::set<std::string>{ip2}));
  EXPECT_EQ(CacheFiles().size(), 1u);
  EXPECT_TRUE(client.Del(req1).ok());
  EXPECT_EQ(client.Check(req1).code(), absl::StatusCode::kFailedPrecondition);

  // The range has two addresses: a third pod gets the released one.
  std::string ns3 = NewPodNetns("3");
  auto r3 = client.Add(Request("pod3", ns3));
  ASSERT_TRUE(r3.ok()) << r3.status();
  EXPECT_EQ(r3->PodIPs()[0], ip1);

  // The range is full now: a fourth ADD fails and leaves nothing.
  std::string ns4 = NewPodNetns("4");
  auto r4 = client.Add(Request("pod4", ns4));
  ASSERT_FALSE(r4.ok());
  EXPECT_THAT(r4.status().message(), HasSubstr("bridge"));
  InNetns(ns4, [&] { EXPECT_FALSE(Addresses().contains("eth0")); });
  EXPECT_EQ(CacheFiles().size(), 2u);
  EXPECT_EQ(AllocatedIps().size(), 2u);

  // DEL after the pod's netns is gone still releases the IP.
  RemovePodNetns(ns2);
  ASSERT_TRUE(client.Del(Request("pod2", ns2)).ok());
  EXPECT_EQ(AllocatedIps(), (std::set<std::string>{ip1}));
  ASSERT_TRUE(client.Del(Request("pod3", ns3)).ok());
  EXPECT_TRUE(AllocatedIps().empty());
  EXPECT_TRUE(CacheFiles().empty());
  EXPECT_TRUE(LinksWithPrefix("veth").empty());
}

TEST_F(CniIntegrationTest, CacheSurvivesRestartAndConfigChange) {
  WriteBridgeConfig();
  std::string ns = NewPodNetns("r");
  std::string ip, veth;
  {
    CniClient client(Options());
    auto r = client.Add(Request("podr", ns));
    ASSERT_TRUE(r.ok()) << r.status();
    ip = r->PodIPs()[0];
    veth = HostVeth(*r);
  }
  // The conf dir now holds something else entirely; a new client (the agent
  // restarted) still has the attachment and tears it down from its cache.
  ASSERT_TRUE(RemoveAll(dir_ + "/conf").ok());
  ASSERT_TRUE(MkdirAll(dir_ + "/conf").ok());
  WriteConfig("10-other.conflist", R"({"cniVersion": "1.0.0", "name": "other", "plugins": [{"type": "nope"}]})");
  CniClient restarted(Options());
  auto cached = restarted.CachedResult(Request("podr", ns));
  ASSERT_TRUE(cached.ok()) << cached.status();
  EXPECT_EQ(cached->PodIPs()[0], ip);
  ASSERT_TRUE(restarted.Del(Request("podr", ns)).ok());
  EXPECT_TRUE(AllocatedIps().empty());
  EXPECT_EQ(if_nametoindex(veth.c_str()), 0u);
  EXPECT_TRUE(CacheFiles().empty());
}

TEST_F(CniIntegrationTest, BadConfigsAndPluginsLeaveNothing) {
  CniClient client(Options());
  std::string ns = NewPodNetns("bad");
  EXPECT_EQ(client.NetworkReady().code(), absl::StatusCode::kFailedPrecondition);

  WriteConfig("10-berth.conflist", R"({"cniVersion": "1.0.0", "name": "berth-test", "plugins": [)");
  auto malformed = client.Add(Request("podb", ns));
  ASSERT_FALSE(malformed.ok());
  EXPECT_THAT(malformed.status().message(), HasSubstr("10-berth.conflist"));
  EXPECT_THAT(malformed.status().message(), HasSubstr("malformed JSON"));
  EXPECT_EQ(client.NetworkReady().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client.Status().code(), absl::StatusCode::kFailedPrecondition);

  WriteBridgeConfig("berth-test", R"(, {"type": "berth-no-such-plugin"})");
  EXPECT_EQ(client.Status().code(), absl::StatusCode::kFailedPrecondition);
  auto missing = client.Add(Request("podb", ns));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("\"berth-no-such-plugin\" not found in /usr/lib/cni"));

  // A plugin failing after bridge succeeded: the chain is undone.
  WriteBridgeConfig("berth-test",
                    R"(, {"type": "tuning", "sysctl": {"net.ipv4.conf.eth0.berth_no_such_knob": "1"}})");
  auto midway = client.Add(Request("podb", ns));
  ASSERT_FALSE(midway.ok());
  EXPECT_THAT(midway.status().message(), HasSubstr("CNI plugin tuning ADD failed"));

  EXPECT_TRUE(AllocatedIps().empty());
  EXPECT_TRUE(LinksWithPrefix("veth").empty());
  InNetns(ns, [&] { EXPECT_FALSE(Addresses().contains("eth0")); });
  EXPECT_TRUE(CacheFiles().empty());
  EXPECT_TRUE(client.Del(Request("podb", ns)).ok());  // nothing cached: still fine
}

TEST_F(CniIntegrationTest, GarbageCollectRemovesStaleAttachments) {
  WriteBridgeConfig();
  CniClient client(Options());
  std::string nsa = NewPodNetns("ga"), nsb = NewPodNetns("gb");
  auto a = client.Add(Request("poda", nsa));
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = client.Add(Request("podb", nsb));
  ASSERT_TRUE(b.ok()) << b.status();
  RemovePodNetns(nsa, /*keep_file=*/true);  // the sandbox went away while the agent was down
  ASSERT_TRUE(client.GarbageCollect({"podb"}).ok());
  EXPECT_EQ(AllocatedIps(), (std::set<std::string>{b->PodIPs()[0]}));
  EXPECT_EQ(CacheFiles().size(), 1u);
  ASSERT_TRUE(client.CachedResult(Request("podb", nsb)).ok());
  ASSERT_TRUE(client.GarbageCollect({}).ok());
  EXPECT_TRUE(AllocatedIps().empty());
  EXPECT_TRUE(CacheFiles().empty());
}

TEST_F(CniIntegrationTest, DualStackPodIPs) {
  WriteConfigWithPlugin(BridgePlugin(10, 11, /*ipv6=*/true));
  CniClient client(Options());
  std::string ns = NewPodNetns("ds");
  auto r = client.Add(Request("podds", ns));
  ASSERT_TRUE(r.ok()) << r.status();
  auto ips = r->PodIPs();
  ASSERT_EQ(ips.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(ips[0], subnet_)) << ips[0];
  EXPECT_TRUE(absl::StartsWith(ips[1], "fd00:10:244::")) << ips[1];
  InNetns(ns, [&] {
    auto addrs = Addresses()["eth0"];
    EXPECT_TRUE(addrs.contains(ips[0]));
    EXPECT_TRUE(addrs.contains(ips[1]));
  });
  EXPECT_EQ(AllocatedIps().size(), 2u);
  ASSERT_TRUE(client.Del(Request("podds", ns)).ok());
  EXPECT_TRUE(AllocatedIps().empty());
}

TEST_F(CniIntegrationTest, ConcurrentAddsGetDistinctAddresses) {
  constexpr int kPods = 8;
  WriteConfigWithPlugin(BridgePlugin(10, 10 + kPods - 1));
  CniClient client(Options());
  std::vector<std::string> netns;
  for (int i = 0; i < kPods; ++i) netns.push_back(NewPodNetns(absl::StrCat("c", i)));
  std::vector<absl::StatusOr<CniResult>> results(kPods, absl::UnknownError("not run"));
  {
    // Threads made here share this thread's private host namespace.
    std::vector<std::thread> workers;
    for (int i = 0; i < kPods; ++i) {
      workers.emplace_back([&, i] { results[i] = client.Add(Request(absl::StrCat("podc", i), netns[i])); });
    }
    for (auto& w : workers) w.join();
  }
  std::set<std::string> ips;
  for (int i = 0; i < kPods; ++i) {
    ASSERT_TRUE(results[i].ok()) << i << ": " << results[i].status();
    ips.insert(results[i]->PodIPs()[0]);
  }
  EXPECT_EQ(ips.size(), static_cast<size_t>(kPods));
  EXPECT_EQ(AllocatedIps(), ips);
  std::vector<absl::Status> dels(kPods);
  {
    std::vector<std::thread> workers;
    for (int i = 0; i < kPods; ++i) {
      workers.emplace_back([&, i] { dels[i] = client.Del(Request(absl::StrCat("podc", i), netns[i])); });
    }
    for (auto& w : workers) w.join();
  }
  for (int i = 0; i < kPods; ++i) EXPECT_TRUE(dels[i].ok()) << i << ": " << dels[i];
  EXPECT_TRUE(AllocatedIps().empty());
  EXPECT_TRUE(CacheFiles().empty());
  EXPECT_TRUE(LinksWithPrefix("veth").empty());
}

TEST_F(CniIntegrationTest, SingleLoopbackConf) {
  WriteConfig("99-loopback.conf", R"({"cniVersion": "0.3.1", "name": "lo", "type": "loopback"})");
  CniClient client(Options());
  std::string ns = NewPodNetns("lo");
  AttachmentRequest request = Request("podl", ns);
  request.ifname = "lo";
  auto r = client.Add(request);
  ASSERT_TRUE(r.ok()) << r.status();
  InNetns(ns, [&] { EXPECT_TRUE(Addresses()["lo"].contains("127.0.0.1")); });
  EXPECT_EQ(client.Check(request).code(), absl::StatusCode::kUnimplemented);  // 0.3.1 has no CHECK
  EXPECT_TRUE(client.Del(request).ok());
  EXPECT_TRUE(CacheFiles().empty());
}

}  // namespace
}  // namespace berth::cni
