// berth-portmap end to end, as the runtime runs it: the CniClient with a
// conflist of Debian's reference bridge + host-local and then a portmap
// plugin, inside a private network namespace per test (the bridge, the
// node's "external" veth and every nft/iptables rule exist only there).
// Each connectivity test runs twice: with berth-portmap and with the
// reference /usr/lib/cni/portmap in its place, which must behave the same.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cni-plugins/nft/nft.h"
#include "cni-plugins/nft/nft_json.h"
#include "nlohmann/json.hpp"
#include "common/fs.h"
#include "common/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime-shim/cni/cni_client.h"
#include "runtime-shim/cni/testing/netns_testing.h"

namespace berth::cni {
namespace {

using ::testing::HasSubstr;
using testing::InNetns;

constexpr char kReferenceDir[] = "/usr/lib/cni";
constexpr char kBerthDir[] = BERTH_PORTMAP_DIR;
#ifdef BERTH_BRIDGE_DIR
constexpr char kBerthBridgeDir[] = BERTH_BRIDGE_DIR;
#else
constexpr char kBerthBridgeDir[] = "";
#endif
constexpr char kBerthHostLocalDir[] = BERTH_HOST_LOCAL_DIR;
// The parameter: "berth-portmap" or "portmap" after the reference bridge and
// host-local, or kAllBerth: berth-bridge (ipMasq on) + berth-host-local +
// berth-portmap, the chain berth ships.
constexpr char kAllBerth[] = "berth-all";
constexpr int kContainerPort = 80;
constexpr int kHostPort = 18080;

// Runs a shell command in the calling thread's network namespace.
bool Sh(const std::string& command) { return std::system(command.c_str()) == 0; }

// A TCP and a UDP server (dual-stack) on sockets made inside a pod's
// namespace (a socket stays in the namespace it was made in); each answers
// "<proto> <peer ip>".
class EchoServer {
 public:
  EchoServer(const std::string& netns, int port) {
    InNetns(netns, [&] {
      tcp_ = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
      udp_ = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    });
    stop_ = eventfd(0, EFD_CLOEXEC);
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(port);
    int one = 1, zero = 0;
    setsockopt(tcp_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(tcp_, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    setsockopt(udp_, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    ok_ = tcp_ >= 0 && udp_ >= 0 && stop_ >= 0 &&
          bind(tcp_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          listen(tcp_, 16) == 0 && bind(udp_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (ok_) thread_ = std::thread([this] { Serve(); });
  }
  ~EchoServer() {
    if (thread_.joinable()) {
      uint64_t one = 1;
      (void)!write(stop_, &one, sizeof one);
      thread_.join();
    }
    for (int fd : {tcp_, udp_, stop_}) {
      if (fd >= 0) close(fd);
    }
  }
  bool ok() const { return ok_; }

 private:
  void Serve() {
    for (;;) {
      pollfd fds[3] = {{stop_, POLLIN, 0}, {tcp_, POLLIN, 0}, {udp_, POLLIN, 0}};
      if (poll(fds, 3, -1) < 0) return;
      if (fds[0].revents) return;
      if (fds[1].revents) {
        sockaddr_in6 peer{};
        socklen_t len = sizeof peer;
        int conn = accept4(tcp_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
        if (conn >= 0) {
          std::string reply = absl::StrCat("tcp ", Ip(peer));
          (void)!write(conn, reply.data(), reply.size());
          close(conn);
        }
      }
      if (fds[2].revents) {
        char buf[64];
        sockaddr_in6 peer{};
        socklen_t len = sizeof peer;
        if (recvfrom(udp_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len) >= 0) {
          std::string reply = absl::StrCat("udp ", Ip(peer));
          sendto(udp_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&peer), len);
        }
      }
    }
  }
  // IPv4 peers (v4-mapped) as dotted quads.
  static std::string Ip(const sockaddr_in6& a) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (IN6_IS_ADDR_V4MAPPED(&a.sin6_addr)) {
      inet_ntop(AF_INET, &a.sin6_addr.s6_addr[12], buf, sizeof buf);
    } else {
      inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof buf);
    }
    return buf;
  }

  int tcp_ = -1, udp_ = -1, stop_ = -1;
  bool ok_ = false;
  std::thread thread_;
};

// One request/answer with `ip:port` over `proto` from the calling thread's
// namespace: the server's answer, or an error. Bounded: UDP tries for 6 s
// (the first datagram may wait on ARP), TCP connects within 5 s.
absl::StatusOr<std::string> Exchange(const std::string& proto, const std::string& ip, int port) {
  bool udp = proto == "udp";
  bool v6 = ip.find(':') != std::string::npos;
  int fd = socket(v6 ? AF_INET6 : AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket");
  timeval tv{.tv_sec = udp ? 0 : 5, .tv_usec = udp ? 300'000 : 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_storage storage{};
  socklen_t addr_len = 0;
  if (v6) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&storage);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    inet_pton(AF_INET6, ip.c_str(), &a6->sin6_addr);
    addr_len = sizeof *a6;
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&storage);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    inet_pton(AF_INET, ip.c_str(), &a4->sin_addr);
    addr_len = sizeof *a4;
  }
  absl::StatusOr<std::string> out = absl::DeadlineExceededError(
      absl::StrCat(proto, " ", ip, ":", port, ": no answer"));
  if (connect(fd, reinterpret_cast<sockaddr*>(&storage), addr_len) < 0) {
    out = absl::UnavailableError(absl::StrCat(proto, " connect ", ip, ":", port, ": ",
                                              strerror(errno)));
  } else {
    const int64_t deadline = MonotonicNanos() + 6'000'000'000LL;
    char buf[128];
    do {
      if (udp && send(fd, "hi", 2, 0) < 0) {
        out = absl::UnavailableError(absl::StrCat("udp send ", ip, ": ", strerror(errno)));
        break;
      }
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        out = std::string(buf, n);
        break;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        out = absl::UnavailableError(absl::StrCat(proto, " recv ", ip, ": ", strerror(errno)));
        if (!udp || errno != ECONNREFUSED) break;
      }
    } while (udp && MonotonicNanos() < deadline);
  }
  close(fd);
  return out;
}

class PortmapIntegrationTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    for (const char* p : {"bridge", "host-local", "portmap"}) {
      if (!PathExists(absl::StrCat(kReferenceDir, "/", p))) {
        GTEST_SKIP() << "containernetworking-plugins not installed in " << kReferenceDir;
      }
    }
    if (GetParam() == kAllBerth && !PathExists(absl::StrCat(kBerthBridgeDir, "/berth-bridge"))) {
      GTEST_SKIP() << "berth-bridge not built";
    }
    char tmpl[] = "/tmp/berth-portmap-it-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MkdirAll(dir_ + "/conf").ok());
    ASSERT_TRUE(MkdirAll(dir_ + "/netns").ok());
    auto original = testing::EnterPrivateNetns();
    ASSERT_TRUE(original.ok()) << original.status();
    orig_netns_ = *original;
    int n = 100 + (++test_index_) % 100;
    subnet_ = absl::StrCat("10.247.", n, ".");
    gateway_ = subnet_ + "1";
    node_ip_ = absl::StrCat("192.168.", n, ".1");
    subnet6_ = absl::StrCat("fd00:247:", n, "::");
    node_ip6_ = absl::StrCat("fd00:ff:", n, "::1");
    // No duplicate address detection in this namespace: addresses are usable at once.
    for (const char* knob : {"/proc/sys/net/ipv6/conf/all/accept_dad",
                             "/proc/sys/net/ipv6/conf/default/accept_dad"}) {
      ASSERT_TRUE(WriteKnob(knob, "0").ok()) << knob;
    }
    // The node: lo, and an "external" interface with the node's address.
    ASSERT_TRUE(Sh(absl::StrCat(
        "ip link set lo up && ip link add pmext0 type veth peer name pmext1 && "
        "ip link set pmext0 up && ip link set pmext1 up && ip addr add ",
        node_ip_, "/24 dev pmext0 && ip -6 addr add ", node_ip6_, "/64 dev pmext0 nodad")));
    WriteConfig(GetParam());
  }

  void TearDown() override {
    server_.reset();
    for (const auto& path : pinned_) {
      umount2(path.c_str(), MNT_DETACH);
      unlink(path.c_str());
    }
    // Leaving drops the namespace: bridge, veths and every rule go with it.
    if (orig_netns_ >= 0) {
      absl::Status left = testing::LeavePrivateNetns(orig_netns_);
      EXPECT_TRUE(left.ok()) << left;
    }
    if (!dir_.empty()) {
      EXPECT_TRUE(RemoveAll(dir_).ok());
    }
  }

  void WriteConfig(const std::string& param, bool dual_stack = false) {
    bool all = param == kAllBerth;
    std::string portmap_type = all ? "berth-portmap" : param;
    std::string v6_range = dual_stack ? absl::StrCat(R"(, [{"subnet": ")", subnet6_, R"(/64"}])") : "";
    std::string v6_route = dual_stack ? R"(, {"dst": "::/0"})" : "";
    std::string conf = absl::StrCat(
        R"({"cniVersion": "1.0.0", "name": "berth-pm", "plugins": [
          {"type": ")", all ? "berth-bridge" : "bridge", R"(", "bridge": "pmbr0",
           "isGateway": true, "ipMasq": )", all ? "true" : "false", R"(, "hairpinMode": true,
           "ipam": {"type": ")", all ? "berth-host-local" : "host-local", R"(",
                    "dataDir": ")", dir_, R"(/ipam",
                    "ranges": [[{"subnet": ")", subnet_, R"(0/24", "gateway": ")", gateway_, R"("}])",
        v6_range, R"(],
                    "routes": [{"dst": "0.0.0.0/0"})", v6_route, R"(]}},
          {"type": ")", portmap_type, R"(", "capabilities": {"portMappings": true}}]})");
    ASSERT_TRUE(AtomicWriteFile(dir_ + "/conf/10-pm.conflist", conf).ok());
  }

  CniClientOptions Options() const {
    CniClientOptions options;
    options.conf_dir = dir_ + "/conf";
    options.bin_dirs = {kBerthDir, kReferenceDir};
    if (GetParam() == kAllBerth) {
      options.bin_dirs = {kBerthDir, kBerthBridgeDir, kBerthHostLocalDir, kReferenceDir};
    }
    options.cache_dir = dir_ + "/cache";
    options.plugin_timeout = absl::Seconds(20);
    return options;
  }

  std::string NewPodNetns(const std::string& name) {
    std::string path = absl::StrCat(dir_, "/netns/", name);
    absl::Status pinned = testing::PinNewNetns(path);
    EXPECT_TRUE(pinned.ok()) << pinned;
    if (pinned.ok()) pinned_.push_back(path);
    InNetns(path, [] {
      EXPECT_TRUE(WriteKnob("/proc/sys/net/ipv6/conf/default/accept_dad", "0").ok());
    });
    return path;
  }

  AttachmentRequest Request(const std::string& id, const std::string& netns, int host_port) const {
    AttachmentRequest request;
    request.container_id = id;
    request.netns = netns;
    request.pod_namespace = "default";
    request.pod_name = "pod-" + id;
    request.pod_uid = "uid-" + id;
    request.port_mappings = {{kContainerPort, host_port, "tcp", ""},
                             {kContainerPort, host_port, "udp", ""}};
    return request;
  }

  bool IsBerth() const { return GetParam() != "portmap"; }

  // berth-portmap's per-attachment state in the table: chains and elements.
  int BerthAttachmentObjects() {
    auto listing = cninft::ListJson("table inet berth-portmap");
    if (absl::IsNotFound(listing.status())) return 0;
    EXPECT_TRUE(listing.ok()) << listing.status();
    if (!listing.ok()) return -1;
    int n = 0;
    for (const char* map : {"dnat4", "dnat6", "dnatany"}) {
      n += static_cast<int>(cninft::ElementKeys(*listing, map).size());
    }
    for (const auto& item : *listing) {
      if (item.contains("chain") && absl::StartsWith(item["chain"].value("name", ""), "pm-")) ++n;
    }
    return n;
  }

  // berth-bridge's per-attachment masquerade chains (ipMasq, kAllBerth).
  int MasqueradeChains() {
    auto listing = cninft::ListJson("table inet berth-cni");
    if (absl::IsNotFound(listing.status())) return 0;
    EXPECT_TRUE(listing.ok()) << listing.status();
    int n = 0;
    for (const auto& item : listing.ok() ? *listing : nlohmann::json::array()) {
      std::string name = item.contains("chain") ? item["chain"].value("name", "") : "";
      if (absl::StartsWith(name, "masq-") && name != "masq-postrouting") ++n;
    }
    return n;
  }

  static inline int test_index_ = 0;
  std::string dir_, subnet_, gateway_, node_ip_, subnet6_, node_ip6_;
  int orig_netns_ = -1;
  std::vector<std::string> pinned_;
  std::unique_ptr<EchoServer> server_;
};

TEST_P(PortmapIntegrationTest, HostPortAnswersFromNodeLocalhostAndHairpinThenDelRemovesIt) {
  CniClient client(Options());
  std::string ns = NewPodNetns("a");
  AttachmentRequest req = Request("sandbox-a", ns, kHostPort);
  auto result = client.Add(req);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->PodIPs().size(), 1u);
  std::string pod_ip = result->PodIPs()[0];
  EXPECT_TRUE(absl::StartsWith(pod_ip, subnet_)) << pod_ip;
  server_ = std::make_unique<EchoServer>(ns, kContainerPort);
  ASSERT_TRUE(server_->ok());

  for (const std::string proto : {"tcp", "udp"}) {
    SCOPED_TRACE(proto);
    // From the node to its own address: DNAT in output, source kept.
    auto r = Exchange(proto, node_ip_, kHostPort);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, absl::StrCat(proto, " ", node_ip_));
    // From the node's localhost: DNAT, then masqueraded to the bridge's address.
    r = Exchange(proto, "127.0.0.1", kHostPort);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, absl::StrCat(proto, " ", gateway_));
    // Hairpin: the pod to its own host port, masqueraded so the reply returns.
    InNetns(ns, [&] {
      auto h = Exchange(proto, node_ip_, kHostPort);
      ASSERT_TRUE(h.ok()) << h.status();
      EXPECT_EQ(*h, absl::StrCat(proto, " ", gateway_));
    });
  }
  auto route_localnet = ReadFile("/proc/sys/net/ipv4/conf/pmbr0/route_localnet");
  ASSERT_TRUE(route_localnet.ok());
  EXPECT_EQ(*route_localnet, "1\n");
  if (IsBerth()) {
    EXPECT_EQ(BerthAttachmentObjects(), 3);  // chain + tcp and udp elements
  }
  EXPECT_EQ(MasqueradeChains(), GetParam() == kAllBerth ? 1 : 0);
  // Debian's portmap 1.1.1 fails CHECK of an IPv4-only pod on its IPv6
  // chain, so CHECK is berth's alone here.
  if (IsBerth()) {
    EXPECT_TRUE(client.Check(req).ok()) << client.Check(req);
  }

  ASSERT_TRUE(client.Del(req).ok());
  if (IsBerth()) {
    EXPECT_EQ(BerthAttachmentObjects(), 0);
  }
  EXPECT_EQ(MasqueradeChains(), 0);
  // Nothing listens on the node's port itself: refused now, not answered.
  auto after = Exchange("tcp", "127.0.0.1", kHostPort);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable) << after.status();
  after = Exchange("tcp", node_ip_, kHostPort);
  EXPECT_FALSE(after.ok());
  EXPECT_TRUE(client.Del(req).ok());  // idempotent
}

TEST_P(PortmapIntegrationTest, TwoPodsTwoPortsAndDelOfOneKeepsTheOther) {
  CniClient client(Options());
  std::string a = NewPodNetns("a"), b = NewPodNetns("b");
  AttachmentRequest ra = Request("sandbox-a", a, kHostPort);
  AttachmentRequest rb = Request("sandbox-b", b, kHostPort + 1);
  ASSERT_TRUE(client.Add(ra).ok());
  ASSERT_TRUE(client.Add(rb).ok());
  EchoServer sa(a, kContainerPort), sb(b, kContainerPort);
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_TRUE(Exchange("tcp", node_ip_, kHostPort).ok());
  EXPECT_TRUE(Exchange("udp", node_ip_, kHostPort + 1).ok());
  // Pod b reaches pod a's host port through the node's address.
  InNetns(b, [&] {
    auto r = Exchange("tcp", node_ip_, kHostPort);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, absl::StrCat("tcp ", gateway_));
  });
  ASSERT_TRUE(client.Del(ra).ok());
  EXPECT_FALSE(Exchange("tcp", node_ip_, kHostPort).ok());
  auto r = Exchange("tcp", node_ip_, kHostPort + 1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, absl::StrCat("tcp ", node_ip_));
  ASSERT_TRUE(client.Del(rb).ok());
  if (IsBerth()) {
    EXPECT_EQ(BerthAttachmentObjects(), 0);
  }
}

TEST_P(PortmapIntegrationTest, UdpFlowSeenBeforeTheMappingIsRedirected) {
  CniClient client(Options());
  // Another pod's mapping first, so the node tracks connections already.
  std::string other = NewPodNetns("other");
  ASSERT_TRUE(client.Add(Request("sandbox-other", other, kHostPort + 5)).ok());
  // A UDP "flow" from a fixed source port to the host port, before it is mapped.
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_port = htons(40123);
  inet_pton(AF_INET, node_ip_.c_str(), &src.sin_addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src), 0);
  sockaddr_in dst = src;
  dst.sin_port = htons(kHostPort);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst), 0);
  timeval tv{.tv_sec = 0, .tv_usec = 300'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[128];
  ASSERT_EQ(send(fd, "hi", 2, 0), 2);
  EXPECT_LT(recv(fd, buf, sizeof buf, 0), 0);  // nobody there yet (port unreachable)

  std::string ns = NewPodNetns("a");
  AttachmentRequest req = Request("sandbox-a", ns, kHostPort);
  ASSERT_TRUE(client.Add(req).ok());
  server_ = std::make_unique<EchoServer>(ns, kContainerPort);
  ASSERT_TRUE(server_->ok());
  // The same flow now reaches the pod: its stale conntrack entry was deleted.
  std::string answer;
  const int64_t deadline = MonotonicNanos() + 6'000'000'000LL;
  while (answer.empty() && MonotonicNanos() < deadline) {
    if (send(fd, "hi", 2, 0) < 0) continue;  // a pending ICMP error is reported once
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) answer.assign(buf, n);
  }
  close(fd);
  EXPECT_EQ(answer, absl::StrCat("udp ", node_ip_));
  ASSERT_TRUE(client.Del(req).ok());
  ASSERT_TRUE(client.Del(Request("sandbox-other", other, kHostPort + 5)).ok());
}

// Retries `fn` until it gives the expected answer or 10 s pass (IPv6
// neighbour discovery may need a moment); returns the last answer.
absl::StatusOr<std::string> ExchangeUntil(const std::function<absl::StatusOr<std::string>()>& fn,
                                          const std::string& want) {
  const int64_t deadline = MonotonicNanos() + 10'000'000'000LL;
  absl::StatusOr<std::string> r = fn();
  while (!(r.ok() && *r == want) && MonotonicNanos() < deadline) r = fn();
  return r;
}

TEST_P(PortmapIntegrationTest, DualStackHostPortAnswersOverIpv6) {
  WriteConfig(GetParam(), /*dual_stack=*/true);
  CniClient client(Options());
  std::string ns = NewPodNetns("a");
  AttachmentRequest req = Request("sandbox-a", ns, kHostPort);
  auto result = client.Add(req);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->PodIPs().size(), 2u);
  EXPECT_TRUE(absl::StartsWith(result->PodIPs()[1], subnet6_)) << result->PodIPs()[1];
  server_ = std::make_unique<EchoServer>(ns, kContainerPort);
  ASSERT_TRUE(server_->ok());
  std::string gateway6 = subnet6_ + "1";
  for (const std::string proto : {"tcp", "udp"}) {
    SCOPED_TRACE(proto);
    // From the node to its IPv6 address, and (IPv4) as before.
    auto r = ExchangeUntil([&] { return Exchange(proto, node_ip6_, kHostPort); },
                           absl::StrCat(proto, " ", node_ip6_));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, absl::StrCat(proto, " ", node_ip6_));
    r = Exchange(proto, node_ip_, kHostPort);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, absl::StrCat(proto, " ", node_ip_));
    // IPv6 hairpin, masqueraded to the bridge's IPv6 address.
    InNetns(ns, [&] {
      auto h = ExchangeUntil([&] { return Exchange(proto, node_ip6_, kHostPort); },
                             absl::StrCat(proto, " ", gateway6));
      ASSERT_TRUE(h.ok()) << h.status();
      EXPECT_EQ(*h, absl::StrCat(proto, " ", gateway6));
    });
  }
  ASSERT_TRUE(client.Del(req).ok());
  if (IsBerth()) {
    EXPECT_EQ(BerthAttachmentObjects(), 0);
  }
  EXPECT_FALSE(Exchange("tcp", node_ip6_, kHostPort).ok());
}

INSTANTIATE_TEST_SUITE_P(BerthAndReference, PortmapIntegrationTest,
                         ::testing::Values("berth-portmap", "portmap", kAllBerth),
                         [](const auto& info) {
                           return info.param == "portmap"     ? std::string("Reference")
                                  : info.param == kAllBerth ? std::string("AllBerth")
                                                            : std::string("Berth");
                         });

// berth-portmap only: the reference plugin does not refuse a taken port.
class BerthPortmapTest : public PortmapIntegrationTest {};

TEST_P(BerthPortmapTest, TakenHostPortIsAClearErrorAndLeaksNothing) {
  CniClient client(Options());
  std::string a = NewPodNetns("a"), b = NewPodNetns("b");
  AttachmentRequest ra = Request("sandbox-a", a, kHostPort);
  ASSERT_TRUE(client.Add(ra).ok());
  auto rb = client.Add(Request("sandbox-b", b, kHostPort));
  ASSERT_FALSE(rb.ok());
  EXPECT_THAT(std::string(rb.status().message()),
              HasSubstr("hostPort 18080/tcp is already in use by net=berth-pm if=eth0 id=sandbox-a"));
  // b's address went back (the client DELs the chain) and a still answers.
  auto ips = ListDir(dir_ + "/ipam/berth-pm");
  ASSERT_TRUE(ips.ok());
  int held = 0;
  for (const auto& name : *ips) held += absl::StartsWith(name, subnet_) ? 1 : 0;
  EXPECT_EQ(held, 1);
  EXPECT_EQ(BerthAttachmentObjects(), 3);
  EchoServer sa(a, kContainerPort);
  ASSERT_TRUE(sa.ok());
  EXPECT_TRUE(Exchange("tcp", node_ip_, kHostPort).ok());
  ASSERT_TRUE(client.Del(ra).ok());
  EXPECT_EQ(BerthAttachmentObjects(), 0);
}

TEST_P(BerthPortmapTest, DelWithoutPrevResultCleansByContainerId) {
  CniClient client(Options());
  std::string a = NewPodNetns("a");
  ASSERT_TRUE(client.Add(Request("sandbox-a", a, kHostPort)).ok());
  ASSERT_EQ(BerthAttachmentObjects(), 3);
  // The plugin alone, as a runtime without a cached result would call it.
  std::string conf = R"({"cniVersion": "1.0.0", "name": "berth-pm", "type": "berth-portmap"})";
  auto out = RunProcess(absl::StrCat(kBerthDir, "/berth-portmap"),
                        {"CNI_COMMAND=DEL", "CNI_CONTAINERID=sandbox-a", "CNI_IFNAME=eth0",
                         "CNI_PATH=/usr/lib/cni"},
                        conf, absl::Seconds(20));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->exit_code, 0) << out->out << out->err;
  EXPECT_EQ(BerthAttachmentObjects(), 0);
  EXPECT_FALSE(Exchange("tcp", node_ip_, kHostPort).ok());
  ASSERT_TRUE(client.Del(Request("sandbox-a", a, kHostPort)).ok());
}

TEST_P(BerthPortmapTest, GcRemovesOnlyAttachmentsNotValid) {
  CniClient client(Options());
  std::string a = NewPodNetns("a"), b = NewPodNetns("b");
  ASSERT_TRUE(client.Add(Request("sandbox-a", a, kHostPort)).ok());
  ASSERT_TRUE(client.Add(Request("sandbox-b", b, kHostPort + 1)).ok());
  ASSERT_EQ(BerthAttachmentObjects(), 6);
  EchoServer sa(a, kContainerPort), sb(b, kContainerPort);
  ASSERT_TRUE(sa.ok() && sb.ok());
  ASSERT_TRUE(Exchange("tcp", node_ip_, kHostPort).ok());
  auto gc = [&](const std::string& valid) {
    std::string conf = absl::StrCat(
        R"({"cniVersion": "1.1.0", "name": "berth-pm", "type": "berth-portmap",
            "cni.dev/valid-attachments": )", valid, "}");
    auto out = RunProcess(absl::StrCat(kBerthDir, "/berth-portmap"),
                          {"CNI_COMMAND=GC", "CNI_PATH=/usr/lib/cni"}, conf, absl::Seconds(20));
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? out->exit_code : -1;
  };
  // Another network's GC leaves this network's chains alone.
  std::string other = R"({"cniVersion": "1.1.0", "name": "other-net", "type": "berth-portmap",
                          "cni.dev/valid-attachments": []})";
  auto out = RunProcess(absl::StrCat(kBerthDir, "/berth-portmap"),
                        {"CNI_COMMAND=GC", "CNI_PATH=/usr/lib/cni"}, other, absl::Seconds(20));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->exit_code, 0) << out->out;
  EXPECT_EQ(BerthAttachmentObjects(), 6);
  EXPECT_EQ(gc(R"([{"containerID": "sandbox-b", "ifname": "eth0"}])"), 0);
  EXPECT_EQ(BerthAttachmentObjects(), 3);
  EXPECT_FALSE(Exchange("tcp", node_ip_, kHostPort).ok());  // a's mapping is gone
  EXPECT_TRUE(Exchange("tcp", node_ip_, kHostPort + 1).ok());
  EXPECT_EQ(gc("[]"), 0);
  EXPECT_EQ(BerthAttachmentObjects(), 0);
  EXPECT_EQ(gc("7"), 1);  // not a list: a config error
}

INSTANTIATE_TEST_SUITE_P(Berth, BerthPortmapTest, ::testing::Values("berth-portmap"));

}  // namespace
}  // namespace berth::cni
