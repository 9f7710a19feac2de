#include "cni-plugins/portmap/rules.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "cni-plugins/common/plugin.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::portmap {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

PortmapConfig TwoFamilies() {
  PortmapConfig c;
  c.network_name = "net1";
  c.container_v4 = cninft::ParseCidr("10.22.0.5/16", "x").value();
  c.container_v6 = cninft::ParseCidr("fd00:22::5/64", "x").value();
  PortMapping any;
  any.host_port = 8080;
  any.container_port = 80;
  PortMapping specific;
  specific.host_port = 5353;
  specific.container_port = 53;
  specific.protocol = "udp";
  specific.host_ip = "192.168.1.10";
  specific.family = 4;
  c.mappings = {any, specific};
  return c;
}

TEST(RulesTest, ChainNameAndComment) {
  EXPECT_EQ(ChainName("net1", "abc", "eth0"), ChainName("net1", "abc", "eth0"));
  EXPECT_NE(ChainName("net1", "abc", "eth0"), ChainName("net2", "abc", "eth0"));
  EXPECT_TRUE(absl::StartsWith(ChainName("n", "c", "i"), "pm-"));
  EXPECT_EQ(ChainName("n", "c", "i").size(), 19u);
  EXPECT_EQ(RuleComment("net1", "abc", "eth0"), "\"berth portmap net=net1 if=eth0 id=abc\"");
}

TEST(RulesTest, KeyFor) {
  PortmapConfig c = TwoFamilies();
  EXPECT_EQ(KeyFor(c.mappings[0], c), (DispatchKey{"dnatany", "tcp . 8080"}));
  EXPECT_EQ(KeyFor(c.mappings[1], c), (DispatchKey{"dnat4", "192.168.1.10 . udp . 5353"}));
  c.container_v4.reset();
  // A v4 host address for a v6-only container maps nothing.
  EXPECT_FALSE(KeyFor(c.mappings[1], c).has_value());
  EXPECT_TRUE(KeyFor(c.mappings[0], c).has_value());
}

TEST(RulesTest, AttachmentCommandsDualStack) {
  PortmapConfig c = TwoFamilies();
  std::string text = AttachmentCommands(c, "pm-x", "\"cmt\"", false);
  EXPECT_TRUE(absl::StartsWith(text, "add chain inet berth-portmap pm-x\nadd rule")) << text;
  EXPECT_TRUE(absl::StartsWith(AttachmentCommands(c, "pm-x", "\"cmt\"", true),
                               "flush chain inet berth-portmap pm-x\nadd rule"));
  EXPECT_THAT(text, HasSubstr("add rule inet berth-portmap pm-x meta nfproto ipv4 meta l4proto tcp "
                              "th dport 8080 ip saddr { 10.22.0.0/16, 127.0.0.0/8 } meta mark set "
                              "meta mark | 0x00002000\n"));
  EXPECT_THAT(text, HasSubstr("meta nfproto ipv4 meta l4proto tcp th dport 8080 dnat ip to "
                              "10.22.0.5:80 comment \"cmt\"\n"));
  EXPECT_THAT(text, HasSubstr("meta nfproto ipv6 meta l4proto tcp th dport 8080 ip6 saddr "
                              "fd00:22::/64 meta mark set"));
  EXPECT_THAT(text, HasSubstr("dnat ip6 to [fd00:22::5]:80"));
  EXPECT_THAT(text, HasSubstr("meta nfproto ipv4 ip daddr 192.168.1.10 meta l4proto udp th dport "
                              "5353 dnat ip to 10.22.0.5:53"));
  // The v4-only mapping has no v6 rule.
  EXPECT_THAT(text, Not(HasSubstr("ip6 daddr 192.168.1.10")));
  EXPECT_THAT(text, HasSubstr("add element inet berth-portmap dnatany { tcp . 8080 : jump pm-x }"));
  EXPECT_THAT(text, HasSubstr(
                        "add element inet berth-portmap dnat4 { 192.168.1.10 . udp . 5353 : jump pm-x }"));
}

TEST(RulesTest, NoSnatMeansNoMark) {
  PortmapConfig c = TwoFamilies();
  c.snat = false;
  EXPECT_THAT(AttachmentCommands(c, "pm-x", "\"c\"", false), Not(HasSubstr("meta mark")));
  EXPECT_THAT(SetupCommands(nlohmann::json(), 0x20),
              HasSubstr("meta mark & 0x00000020 == 0x00000020 masquerade comment \"mark 0x00000020\""));
}

TEST(RulesTest, SetupCommandsOnlyWhatIsMissing) {
  nlohmann::json listing = nlohmann::json::array();
  auto chain = [&](const char* name, int rules, const std::string& comment = "") {
    listing.push_back({{"chain", {{"name", name}}}});
    for (int i = 0; i < rules; ++i) {
      listing.push_back({{"rule", {{"chain", name}, {"comment", comment}}}});
    }
  };
  chain("prerouting", 3);
  chain("output", 4);
  chain("postrouting", 1, "mark 0x00002000");
  EXPECT_EQ(SetupCommands(listing, 0x2000), "");
  // Another mark: only postrouting is refilled.
  std::string text = SetupCommands(listing, 0x20);
  EXPECT_THAT(text, HasSubstr("flush chain inet berth-portmap postrouting\n"));
  EXPECT_THAT(text, Not(HasSubstr("flush chain inet berth-portmap prerouting")));
  EXPECT_THAT(text, HasSubstr("add chain inet berth-portmap postrouting {"));
  EXPECT_THAT(text, Not(HasSubstr("prerouting fib")));
}

TEST(RulesTest, SetupCommandsHookAllChains) {
  std::string text = SetupCommands(nlohmann::json(), 0x2000);
  EXPECT_THAT(text, Not(HasSubstr("flush")));
  EXPECT_THAT(text, HasSubstr("create chain inet berth-portmap prerouting {"));
  for (const char* want :
       {"type nat hook prerouting priority dstnat", "type nat hook output priority -100",
        "type nat hook postrouting priority srcnat", "output ip6 daddr ::1 return",
        "prerouting fib daddr type local ip daddr . meta l4proto . th dport vmap @dnat4",
        "output fib daddr type local meta l4proto . th dport vmap @dnatany"}) {
    EXPECT_THAT(text, HasSubstr(want));
  }
}

const char kListing[] = R"([
  {"table": {"family": "inet", "name": "berth-portmap"}},
  {"map": {"name": "dnat4", "map": "verdict",
           "elem": [[{"concat": ["192.168.1.10", "udp", 5353]}, {"jump": {"target": "pm-other"}}]]}},
  {"map": {"name": "dnatany", "map": "verdict",
           "elem": [[{"concat": ["tcp", 8080]}, {"jump": {"target": "pm-other"}}],
                    [{"concat": ["tcp", 9090]}, {"jump": {"target": "pm-x"}}]]}},
  {"chain": {"name": "pm-other"}},
  {"chain": {"name": "pm-x"}},
  {"chain": {"name": "prerouting"}},
  {"rule": {"chain": "pm-other", "comment": "berth portmap net=net1 if=eth0 id=podA", "expr": []}}
])";

TEST(RulesTest, ConflictsNameTheHolder) {
  auto listing = nlohmann::json::parse(kListing);
  PortmapConfig c = TwoFamilies();
  absl::Status s = CheckConflicts(c, "pm-x", listing);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(cniplugin::CniCode(s), cniplugin::kPluginSpecific);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("hostPort 8080/tcp is already in use by net=net1 if=eth0 id=podA"));
  // The holder itself may ADD again.
  EXPECT_TRUE(CheckConflicts(c, "pm-other", listing).ok());
  // A specific address clashes with the same specific address...
  c.mappings.erase(c.mappings.begin());
  s = CheckConflicts(c, "pm-x", listing);
  EXPECT_THAT(std::string(s.message()), HasSubstr("hostPort 192.168.1.10:5353/udp"));
  // ...but not with another address.
  c.mappings[0].host_ip = "192.168.1.11";
  EXPECT_TRUE(CheckConflicts(c, "pm-x", listing).ok());
  // An every-address mapping clashes with a specific one of the same port.
  c.mappings[0].host_ip.clear();
  c.mappings[0].family = 0;
  EXPECT_FALSE(CheckConflicts(c, "pm-x", listing).ok());
}

TEST(RulesTest, DeleteCommandsExactlyTheChain) {
  auto listing = nlohmann::json::parse(kListing);
  EXPECT_EQ(DeleteCommands(listing, "pm-x"),
            "delete element inet berth-portmap dnatany { tcp . 9090 }\n"
            "flush chain inet berth-portmap pm-x\ndelete chain inet berth-portmap pm-x\n");
  EXPECT_EQ(DeleteElementCommands(listing, "pm-x"),
            "delete element inet berth-portmap dnatany { tcp . 9090 }\n");
  EXPECT_EQ(DeleteCommands(listing, "pm-none"), "");
  EXPECT_EQ(DeleteCommands(nlohmann::json(), "pm-x"), "");
  EXPECT_EQ(AttachmentChains(listing), (std::vector<std::string>{"pm-other", "pm-x"}));
}

}  // namespace
}  // namespace berth::portmap
