// AddMasquerade / DeleteMasquerade against the kernel, each test in a private
// network namespace of its own (nftables state is per namespace), verified
// by listing the table.
#include "cni-plugins/nft/masquerade.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cni-plugins/nft/nft.h"
#include "cni-plugins/nft/nft_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/fs.h"
#include "runtime-shim/cni/testing/netns_testing.h"

namespace berth::cniplugin {
namespace {

using ::testing::UnorderedElementsAre;

class MasqueradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    auto original = cni::testing::EnterPrivateNetns();
    ASSERT_TRUE(original.ok()) << original.status();
    orig_netns_ = *original;
  }
  void TearDown() override {
    // The namespace, and every rule in it, goes away with the thread's move back.
    if (orig_netns_ >= 0) {
      EXPECT_TRUE(cni::testing::LeavePrivateNetns(orig_netns_).ok());
    }
  }

  nlohmann::json Listing() {
    auto listed = cninft::ListJson("table inet berth-cni");
    EXPECT_TRUE(listed.ok()) << listed.status();
    return listed.ok() ? *listed : nlohmann::json::array();
  }

  int orig_netns_ = -1;
};

TEST_F(MasqueradeTest, AddCreatesChainRulesAndElements) {
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16", "fd00:22::5/64"}).ok());
  nlohmann::json l = Listing();
  std::string chain = MasqueradeChainName("net1", "c1", "eth0");
  EXPECT_TRUE(cninft::HasChain(l, chain));
  EXPECT_THAT(cninft::MapKeysJumpingTo(l, "masq4", chain), UnorderedElementsAre("10.22.0.5"));
  EXPECT_THAT(cninft::MapKeysJumpingTo(l, "masq6", chain), UnorderedElementsAre("fd00:22::5"));
  // subnet v4, subnet v6, multicast v4, multicast v6, masquerade.
  auto rules = cninft::RulesOf(l, chain);
  ASSERT_EQ(rules.size(), 5u);
  EXPECT_TRUE(rules.back()["expr"].dump().find("masquerade") != std::string::npos);
  EXPECT_TRUE(absl::StrContains(rules.back().value("comment", ""), "id=c1"));
  std::string all = l.dump();
  EXPECT_TRUE(absl::StrContains(all, "\"10.22.0.0\"")) << all;
  EXPECT_TRUE(absl::StrContains(all, "\"224.0.0.0\""));
  EXPECT_TRUE(absl::StrContains(all, "\"ff00::\""));
  // The base chain dispatches on the source address.
  EXPECT_EQ(cninft::RulesOf(l, "masq-postrouting").size(), 2u);
}

TEST_F(MasqueradeTest, AddIsIdempotentAndReplaces) {
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16"}).ok());
  nlohmann::json first = Listing();
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16"}).ok());
  nlohmann::json second = Listing();
  EXPECT_EQ(cninft::CountRules(first), cninft::CountRules(second));
  std::string chain = MasqueradeChainName("net1", "c1", "eth0");
  EXPECT_THAT(cninft::MapKeysJumpingTo(second, "masq4", chain), UnorderedElementsAre("10.22.0.5"));
  // A new address for the same attachment replaces the old one.
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.9/16"}).ok());
  EXPECT_THAT(cninft::MapKeysJumpingTo(Listing(), "masq4", chain),
              UnorderedElementsAre("10.22.0.9"));
}

TEST_F(MasqueradeTest, AddTakesOverAnAddressAStaleAttachmentHolds) {
  ASSERT_TRUE(AddMasquerade("net1", "old", "eth0", {"10.22.0.5/16"}).ok());
  ASSERT_TRUE(AddMasquerade("net1", "new", "eth0", {"10.22.0.5/16"}).ok());
  nlohmann::json l = Listing();
  EXPECT_THAT(cninft::MapKeysJumpingTo(l, "masq4", MasqueradeChainName("net1", "new", "eth0")),
              UnorderedElementsAre("10.22.0.5"));
  EXPECT_TRUE(cninft::MapKeysJumpingTo(l, "masq4", MasqueradeChainName("net1", "old", "eth0")).empty());
  // The stale attachment's DEL leaves the new one alone.
  ASSERT_TRUE(DeleteMasquerade("net1", "old", "eth0").ok());
  EXPECT_THAT(cninft::ElementKeys(Listing(), "masq4"), UnorderedElementsAre("10.22.0.5"));
}

TEST_F(MasqueradeTest, RepairsABaseChainWithExtraRules) {
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16"}).ok());
  ASSERT_TRUE(cninft::RunBatch("add rule inet berth-cni masq-postrouting ip saddr vmap @masq4\n",
                               "duplicate").ok());
  ASSERT_EQ(cninft::RulesOf(Listing(), "masq-postrouting").size(), 3u);
  // A repeated ADD takes the slow path, which repairs the base chain.
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16"}).ok());
  EXPECT_EQ(cninft::RulesOf(Listing(), "masq-postrouting").size(), 2u);
}

TEST_F(MasqueradeTest, DeleteRemovesExactlyItsRules) {
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16", "fd00:22::5/64"}).ok());
  ASSERT_TRUE(AddMasquerade("net1", "c2", "eth0", {"10.22.0.6/16"}).ok());
  ASSERT_TRUE(AddMasquerade("net2", "c1", "eth0", {"10.23.0.5/16"}).ok());
  ASSERT_TRUE(DeleteMasquerade("net1", "c1", "eth0").ok());
  nlohmann::json l = Listing();
  EXPECT_FALSE(cninft::HasChain(l, MasqueradeChainName("net1", "c1", "eth0")));
  EXPECT_TRUE(cninft::HasChain(l, MasqueradeChainName("net1", "c2", "eth0")));
  EXPECT_TRUE(cninft::HasChain(l, MasqueradeChainName("net2", "c1", "eth0")));
  EXPECT_THAT(cninft::ElementKeys(l, "masq4"), UnorderedElementsAre("10.22.0.6", "10.23.0.5"));
  EXPECT_TRUE(cninft::ElementKeys(l, "masq6").empty());
  // Idempotent: again, and for an attachment that never existed.
  EXPECT_TRUE(DeleteMasquerade("net1", "c1", "eth0").ok());
  EXPECT_TRUE(DeleteMasquerade("net9", "nope", "eth0").ok());
  ASSERT_TRUE(DeleteMasquerade("net1", "c2", "eth0").ok());
  ASSERT_TRUE(DeleteMasquerade("net2", "c1", "eth0").ok());
  l = Listing();
  EXPECT_TRUE(cninft::ElementKeys(l, "masq4").empty());
  // Only the two dispatch rules of the base chain remain.
  EXPECT_EQ(cninft::CountRules(l), 2);
}

TEST_F(MasqueradeTest, DeleteWithoutTableIsOk) {
  EXPECT_TRUE(DeleteMasquerade("net1", "c1", "eth0").ok());
  auto exists = cninft::TableExists("inet", "berth-cni");
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

TEST_F(MasqueradeTest, BadInputNamesItAndChangesNothing) {
  absl::Status s = AddMasquerade("net1", "c1", "eth0", {"10.22.0.5/16", "10.22.0.300/16"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "10.22.0.300/16")) << s;
  EXPECT_EQ(AddMasquerade("net1", "c1", "eth0", {}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AddMasquerade("", "c1", "eth0", {"10.0.0.1/8"}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DeleteMasquerade("net1", "", "eth0").code(), absl::StatusCode::kInvalidArgument);
  auto exists = cninft::TableExists("inet", "berth-cni");
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

TEST_F(MasqueradeTest, RunBatchIsAtomicAndNamesTheFailure) {
  // The second command fails, so the first one (a table) must not appear.
  absl::Status s = cninft::RunBatch(
      "add table inet berth-atomic\nadd rule inet berth-atomic nochain accept\n", "atomic test");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "atomic test")) << s;
  auto exists = cninft::TableExists("inet", "berth-atomic");
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

// Traffic: pod (10.30.0.5/24, via veth to the node's 10.30.0.1) -> node
// (forwarding) -> remote (192.168.77.2, which has no route back to the pod
// subnet). Only a masqueraded connection gets an answer, and the remote
// sees the node's address as the peer.
class MasqueradeTrafficTest : public MasqueradeTest {
 protected:
  void SetUp() override {
    MasqueradeTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    char tmpl[] = "/tmp/berth-masq-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    pod_ = dir_ + "/pod";
    remote_ = dir_ + "/remote";
    for (const std::string& ns : {pod_, remote_}) {
      ASSERT_TRUE(cni::testing::PinNewNetns(ns).ok());
      pinned_.push_back(ns);
    }
    std::string script = absl::StrCat(
        "set -e; ip link set lo up; echo 1 > /proc/sys/net/ipv4/ip_forward; "
        "ip link add hp0 type veth peer name eth0 netns ", pod_, "; "
        "ip link add nr0 type veth peer name eth0 netns ", remote_, "; "
        "ip addr add 10.30.0.1/24 dev hp0; ip link set hp0 up; "
        "ip addr add 192.168.77.1/24 dev nr0; ip link set nr0 up; "
        "nsenter --net=", pod_, " sh -c 'ip link set lo up; ip addr add 10.30.0.5/24 dev eth0; "
        "ip link set eth0 up; ip route add default via 10.30.0.1'; "
        "nsenter --net=", remote_, " sh -c 'ip link set lo up; ip addr add 192.168.77.2/24 dev eth0; "
        "ip link set eth0 up'");
    ASSERT_EQ(std::system(absl::StrCat("sh -c \"", script, "\"").c_str()), 0) << script;
    // The remote's TCP server, made inside its namespace.
    cni::testing::InNetns(remote_, [&] { listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); });
    ASSERT_GE(listener_, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(7000);
    ASSERT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(listen(listener_, 8), 0);
  }
  void TearDown() override {
    if (listener_ >= 0) close(listener_);
    for (const auto& ns : pinned_) umount2(ns.c_str(), MNT_DETACH);
    if (!dir_.empty()) {
      EXPECT_TRUE(RemoveAll(dir_).ok());
    }
    MasqueradeTest::TearDown();
  }

  // Connects from the pod to the remote; the peer address the remote
  // accepted, or "" when no connection was made within 2 s.
  std::string PeerSeenByRemote() {
    std::string peer;
    std::thread acceptor([&] {
      pollfd pfd = {listener_, POLLIN, 0};
      if (poll(&pfd, 1, 3000) != 1) return;
      sockaddr_in from{};
      socklen_t len = sizeof from;
      int conn = accept4(listener_, reinterpret_cast<sockaddr*>(&from), &len, SOCK_CLOEXEC);
      if (conn < 0) return;
      char buf[INET_ADDRSTRLEN] = {};
      inet_ntop(AF_INET, &from.sin_addr, buf, sizeof buf);
      peer = buf;
      close(conn);
    });
    bool connected = false;
    cni::testing::InNetns(pod_, [&] {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      timeval tv{.tv_sec = 2, .tv_usec = 0};
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(7000);
      inet_pton(AF_INET, "192.168.77.2", &to.sin_addr);
      connected = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
      close(fd);
    });
    acceptor.join();
    return connected ? peer : "";
  }

  std::string dir_, pod_, remote_;
  std::vector<std::string> pinned_;
  int listener_ = -1;
};

TEST_F(MasqueradeTrafficTest, PodTrafficLeavingItsSubnetIsMasqueradedUntilDelete) {
  // Without masquerade the remote cannot answer (no route to 10.30.0.0/24).
  EXPECT_EQ(PeerSeenByRemote(), "");
  ASSERT_TRUE(AddMasquerade("net1", "c1", "eth0", {"10.30.0.5/24"}).ok());
  EXPECT_EQ(PeerSeenByRemote(), "192.168.77.1");
  // Another attachment's rules do not cover this pod's address.
  ASSERT_TRUE(DeleteMasquerade("net1", "c1", "eth0").ok());
  ASSERT_TRUE(AddMasquerade("net1", "c2", "eth0", {"10.30.0.6/24"}).ok());
  EXPECT_EQ(PeerSeenByRemote(), "");
}

}  // namespace
}  // namespace berth::cniplugin
