// The libnl wrapper against the real kernel, inside a private network
// namespace per test (the test thread's), with a pinned "container" netns.
#include "cni-plugins/netlink/netlink.h"

#include <net/if.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime-shim/cni/testing/netns_testing.h"

namespace berth::netlink {
namespace {

class NetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    char tmpl[] = "/tmp/berth-netlink-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto original = cni::testing::EnterPrivateNetns();
    ASSERT_TRUE(original.ok()) << original.status();
    orig_netns_ = *original;
    auto nl = Netlink::Open();
    ASSERT_TRUE(nl.ok()) << nl.status();
    nl_ = std::move(*nl);
    pod_path_ = dir_ + "/pod";
    ASSERT_TRUE(cni::testing::PinNewNetns(pod_path_).ok());
    pinned_ = true;
    auto pod = Netns::Open(pod_path_);
    ASSERT_TRUE(pod.ok()) << pod.status();
    pod_ = std::move(*pod);
  }

  void TearDown() override {
    nl_.reset();
    pod_ = Netns();
    if (pinned_) {
      umount2(pod_path_.c_str(), MNT_DETACH);
      unlink(pod_path_.c_str());
    }
    if (orig_netns_ >= 0) {
      EXPECT_TRUE(cni::testing::LeavePrivateNetns(orig_netns_).ok());
    }
    if (!dir_.empty()) {
      EXPECT_TRUE(RemoveAll(dir_).ok());
    }
  }

  std::string dir_, pod_path_;
  bool pinned_ = false;
  int orig_netns_ = -1;
  std::unique_ptr<Netlink> nl_;
  Netns pod_;
};

TEST_F(NetlinkTest, BridgeVethIntoNetnsMasterHairpinAddressesRoutes) {
  ASSERT_TRUE(nl_->CreateBridge("br-t0", 1400, true).ok());
  EXPECT_EQ(nl_->CreateBridge("br-t0", 1400, true).code(), absl::StatusCode::kAlreadyExists);
  auto br = nl_->GetLink("br-t0");
  ASSERT_TRUE(br.ok()) << br.status();
  EXPECT_EQ(br->kind, "bridge");
  EXPECT_EQ(br->mtu, 1400u);
  EXPECT_TRUE(br->promisc());
  EXPECT_FALSE(br->up());
  ASSERT_TRUE(nl_->SetUp(br->index).ok());
  EXPECT_TRUE(nl_->GetLink(br->index)->up());

  VethSpec spec{.name = "vethtest0", .peer_name = "eth0", .peer_netns = &pod_, .mtu = 1400,
                .master = br->index, .up = true};
  absl::Status created = nl_->CreateVeth(spec);
  ASSERT_TRUE(created.ok()) << created;
  auto host = nl_->GetLink("vethtest0");
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ(host->kind, "veth");
  EXPECT_EQ(host->master, br->index);
  EXPECT_TRUE(host->up());
  EXPECT_EQ(host->mtu, 1400u);
  EXPECT_EQ(*nl_->LinkIndex("vethtest0"), host->index);
  EXPECT_EQ(nl_->LinkIndex("eth0").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(host->mac, ::testing::MatchesRegex("([0-9a-f]{2}:){5}[0-9a-f]{2}"));
  // The ioctl view agrees with RTM_GETLINK where it overlaps.
  for (const char* name : {"br-t0", "vethtest0"}) {
    auto full = *nl_->GetLink(name);
    auto quick = nl_->QuickLink(name);
    ASSERT_TRUE(quick.ok()) << quick.status();
    EXPECT_EQ(quick->index, full.index);
    EXPECT_EQ(quick->kind, full.kind);
    EXPECT_EQ(quick->flags & (IFF_UP | IFF_PROMISC), full.flags & (IFF_UP | IFF_PROMISC));
    EXPECT_EQ(quick->mac, full.mac);
  }
  EXPECT_EQ(nl_->QuickLink("no-such-link").status().code(), absl::StatusCode::kNotFound);
  // The peer is not here but in the pod's namespace.
  EXPECT_EQ(nl_->GetLink("eth0").status().code(), absl::StatusCode::kNotFound);

  EXPECT_FALSE(*nl_->GetHairpin(host->index));
  ASSERT_TRUE(nl_->SetHairpin(host->index, true).ok());
  EXPECT_TRUE(*nl_->GetHairpin(host->index));
  EXPECT_EQ(nl_->GetHairpin(br->index).status().code(), absl::StatusCode::kNotFound);

  auto gw = *ParseIpPrefix("10.99.0.1/24");
  EXPECT_EQ(nl_->PrimaryIpv4("br-t0").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(nl_->AddAddress(br->index, gw).ok());
  EXPECT_EQ(*nl_->PrimaryIpv4("br-t0"), gw);
  EXPECT_EQ(nl_->AddAddress(br->index, gw).code(), absl::StatusCode::kAlreadyExists);
  auto br_addrs = nl_->ListAddresses(br->index, AF_INET);
  ASSERT_TRUE(br_addrs.ok());
  EXPECT_EQ(*br_addrs, std::vector<IpPrefix>{gw});

  auto pod_nl = Netlink::OpenIn(pod_);
  ASSERT_TRUE(pod_nl.ok()) << pod_nl.status();
  auto eth0 = (*pod_nl)->GetLink("eth0");
  ASSERT_TRUE(eth0.ok()) << eth0.status();
  EXPECT_EQ(*(*pod_nl)->LinkIndex("eth0"), eth0->index);
  EXPECT_EQ(eth0->mtu, 1400u);
  EXPECT_EQ(eth0->kind, "veth");
  auto v4 = *ParseIpPrefix("10.99.0.5/24");
  auto v6 = *ParseIpPrefix("fd99::5/64");
  ASSERT_TRUE((*pod_nl)->AddAddress(eth0->index, v4).ok());
  ASSERT_TRUE((*pod_nl)->AddAddress(eth0->index, v6, /*nodad=*/true).ok());
  ASSERT_TRUE((*pod_nl)->SetUp(eth0->index).ok());
  auto all = (*pod_nl)->ListAddresses(eth0->index, AF_UNSPEC);
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(*all, ::testing::IsSupersetOf({v4, v6}));
  ASSERT_TRUE((*pod_nl)->AddRoute(*ParseIpPrefix("0.0.0.0/0"), *ParseIp("10.99.0.1"), eth0->index).ok());
  ASSERT_TRUE((*pod_nl)->AddRoute(*ParseIpPrefix("::/0"), *ParseIp("fd99::1"), eth0->index).ok());
  EXPECT_EQ((*pod_nl)->AddRoute(*ParseIpPrefix("0.0.0.0/0"), *ParseIp("10.99.0.1"), eth0->index).code(),
            absl::StatusCode::kAlreadyExists);
  auto routes = (*pod_nl)->ListRoutes(eth0->index, AF_INET);
  ASSERT_TRUE(routes.ok());
  bool has_default = false;
  for (const auto& r : *routes) {
    if (r.dst.length == 0 && r.gateway && r.gateway->AddrString() == "10.99.0.1") has_default = true;
  }
  EXPECT_TRUE(has_default);
  auto routes6 = (*pod_nl)->ListRoutes(eth0->index, AF_INET6);
  ASSERT_TRUE(routes6.ok());
  bool has_default6 = false;
  for (const auto& r : *routes6) {
    if (r.dst.length == 0 && r.gateway && r.gateway->AddrString() == "fd99::1") has_default6 = true;
  }
  EXPECT_TRUE(has_default6);

  // Deleting the host side takes the pod side with it.
  ASSERT_TRUE(nl_->DeleteLink("vethtest0").ok());
  EXPECT_EQ((*pod_nl)->GetLink("eth0").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(nl_->DeleteLink("vethtest0").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(nl_->DeleteAddress(br->index, gw).ok());
  EXPECT_TRUE(nl_->ListAddresses(br->index, AF_INET)->empty());
}

TEST_F(NetlinkTest, MtuMasterPromiscAndDeleteByIndex) {
  std::string mac = RandomMac();
  EXPECT_THAT(mac, ::testing::MatchesRegex("[0-9a-f][26ae](:[0-9a-f]{2}){5}"));
  EXPECT_NE(mac, RandomMac());
  ASSERT_TRUE(nl_->CreateBridge("br-t1", 0, false, mac).ok());
  auto br = *nl_->GetLink("br-t1");
  EXPECT_EQ(br.mac, mac);
  EXPECT_FALSE(br.promisc());
  ASSERT_TRUE(nl_->SetPromisc(br.index, true).ok());
  EXPECT_TRUE(nl_->GetLink(br.index)->promisc());
  ASSERT_TRUE(nl_->CreateVeth({.name = "vt-a", .peer_name = "vt-b", .mac = "0a:58:0a:00:00:06",
                               .peer_mac = "0a:58:0a:00:00:07"}).ok());
  EXPECT_EQ(nl_->GetLink("vt-a")->mac, "0a:58:0a:00:00:06");
  EXPECT_EQ(nl_->GetLink("vt-b")->mac, "0a:58:0a:00:00:07");
  EXPECT_EQ(nl_->CreateVeth({.name = "vt-x", .peer_name = "vt-y", .peer_mac = "nope"}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(nl_->CreateVeth({.name = "vt-a", .peer_name = "vt-c"}).code(),
            absl::StatusCode::kAlreadyExists);
  auto a = *nl_->GetLink("vt-a");
  EXPECT_EQ(a.alias, "");
  ASSERT_TRUE(nl_->SetAlias("vt-a", "berth/net/c1/eth0").ok());
  EXPECT_EQ(nl_->GetLink("vt-a")->alias, "berth/net/c1/eth0");
  EXPECT_EQ(nl_->SetAlias("nope", "x").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(nl_->SetMtu(a.index, 1280).ok());
  ASSERT_TRUE(nl_->SetMaster(a.index, br.index).ok());
  auto after = *nl_->GetLink(a.index);
  EXPECT_EQ(nl_->GetLink(br.index)->mac, mac);  // a port does not change it
  EXPECT_EQ(after.mtu, 1280u);
  EXPECT_EQ(after.master, br.index);
  ASSERT_TRUE(nl_->DeleteLink(a.index).ok());
  EXPECT_EQ(nl_->GetLink("vt-b").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(nl_->SetUp(a.index).code(), absl::StatusCode::kNotFound);
}

TEST_F(NetlinkTest, NetnsOpenRejectsMissingAndNonNamespacePaths) {
  EXPECT_EQ(Netns::Open(dir_ + "/nope").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(AtomicWriteFile(dir_ + "/file", "x").ok());
  EXPECT_EQ(Netns::Open(dir_ + "/file").status().code(), absl::StatusCode::kInvalidArgument);
  // RunInNetns runs on another thread inside the namespace; this one stays.
  std::string seen;
  absl::Status s = RunInNetns(pod_, [&]() -> absl::Status {
    auto nl = Netlink::Open();
    if (!nl.ok()) return nl.status();
    auto lo = (*nl)->GetLink("lo");
    if (!lo.ok()) return lo.status();
    seen = lo->name;
    return (*nl)->CreateBridge("only-in-pod", 0, false);
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(seen, "lo");
  EXPECT_EQ(nl_->GetLink("only-in-pod").status().code(), absl::StatusCode::kNotFound);
  auto pod_nl = Netlink::OpenIn(pod_);
  ASSERT_TRUE(pod_nl.ok());
  EXPECT_TRUE((*pod_nl)->GetLink("only-in-pod").ok());
}

}  // namespace
}  // namespace berth::netlink
