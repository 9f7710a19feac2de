#include "cni-plugins/bridge/bridge_config.h"

#include "cni-plugins/common/plugin.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::bridge {
namespace {

using ::testing::HasSubstr;

nlohmann::json Base() {
  return nlohmann::json::parse(R"({"cniVersion": "1.0.0", "name": "net", "type": "berth-bridge",
      "ipam": {"type": "berth-host-local", "subnet": "10.22.0.0/16"}})");
}

TEST(BridgeConfigTest, Defaults) {
  auto c = ParseBridgeConfig(Base());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->bridge, "cni0");
  EXPECT_EQ(c->mtu, 0u);
  EXPECT_FALSE(c->is_gateway);
  EXPECT_FALSE(c->ip_masq);
  EXPECT_EQ(c->ipam_type, "berth-host-local");
  EXPECT_EQ(c->network_name, "net");
  EXPECT_TRUE(c->prev_result.is_null());
  EXPECT_TRUE(c->runtime_config.is_object());
}

TEST(BridgeConfigTest, AllKeys) {
  auto j = Base();
  j["bridge"] = "br0";
  j["mtu"] = 1400;
  j["isDefaultGateway"] = true;
  j["ipMasq"] = true;
  j["hairpinMode"] = true;
  j["forceAddress"] = true;
  j["prevResult"] = {{"ips", nlohmann::json::array()}};
  j["runtimeConfig"] = {{"mac", "0A:58:0a:16:00:05"}};
  auto c = ParseBridgeConfig(j);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->bridge, "br0");
  EXPECT_EQ(c->mtu, 1400u);
  EXPECT_TRUE(c->is_gateway);  // implied by isDefaultGateway
  EXPECT_TRUE(c->is_default_gateway);
  EXPECT_TRUE(c->ip_masq);
  EXPECT_TRUE(c->hairpin_mode);
  EXPECT_TRUE(c->force_address);
  EXPECT_TRUE(c->prev_result.is_object());
  EXPECT_EQ(c->runtime_mac, "0a:58:0a:16:00:05");
}

TEST(BridgeConfigTest, LayerTwoOnlyWithoutIpam) {
  auto j = Base();
  j.erase("ipam");
  auto c = ParseBridgeConfig(j);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->ipam_type.empty());
  j["ipMasq"] = true;
  EXPECT_THAT(ParseBridgeConfig(j).status().message(), HasSubstr("ipMasq needs an ipam"));
}

struct BadCase {
  const char* key;
  nlohmann::json value;
  const char* message;
};

TEST(BridgeConfigTest, BadValuesAreCode7NamingTheFieldAndValue) {
  std::vector<BadCase> cases = {
      {"bridge", 7, "bridge must be a string, not 7"},
      {"bridge", "a-very-long-bridge-name", "bridge \"a-very-long-bridge-name\" is not a valid"},
      {"bridge", "br/0", "bridge \"br/0\""},
      {"mtu", "1500", "mtu must be an integer 68..65535, not \"1500\""},
      {"mtu", 9, "not 9"},
      {"mtu", 70000, "not 70000"},
      {"mtu", 1400.5, "not 1400.5"},
      {"isGateway", "yes", "isGateway must be true or false, not \"yes\""},
      {"ipMasq", 1, "ipMasq must be true or false, not 1"},
      {"hairpinMode", "on", "hairpinMode"},
      {"promiscMode", 0, "promiscMode"},
      {"forceAddress", "x", "forceAddress"},
      {"isDefaultGateway", "x", "isDefaultGateway"},
      {"ipam", "host-local", "ipam must be an object"},
      {"prevResult", "x", "prevResult must be an object"},
      {"runtimeConfig", 3, "runtimeConfig must be an object"},
  };
  for (const auto& c : cases) {
    auto j = Base();
    j[c.key] = c.value;
    auto parsed = ParseBridgeConfig(j);
    ASSERT_FALSE(parsed.ok()) << c.key;
    EXPECT_EQ(cniplugin::CniCode(parsed.status()), cniplugin::kInvalidConfig) << c.key;
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.message)) << c.key;
  }
  auto j = Base();
  j["ipam"]["type"] = "../evil";
  EXPECT_THAT(ParseBridgeConfig(j).status().message(), HasSubstr("ipam.type \"../evil\""));
  j = Base();
  j["ipam"]["type"] = 3;
  EXPECT_THAT(ParseBridgeConfig(j).status().message(), HasSubstr("ipam.type must be a string"));
  j = Base();
  j["runtimeConfig"] = {{"mac", "zz:00"}};
  EXPECT_THAT(ParseBridgeConfig(j).status().message(), HasSubstr("runtimeConfig.mac \"zz:00\""));
  j = Base();
  j["hairpinMode"] = true;
  j["promiscMode"] = true;
  EXPECT_THAT(ParseBridgeConfig(j).status().message(), HasSubstr("cannot both be true"));
  j = Base();
  j.erase("name");
  EXPECT_THAT(ParseBridgeConfig(j).status().message(), HasSubstr("name must be"));
}

TEST(BridgeConfigTest, HostVethNameIsStableAndDistinct) {
  std::string a = HostVethName("net", "c1", "eth0");
  EXPECT_THAT(a, ::testing::MatchesRegex("veth[0-9a-f]{8}"));
  EXPECT_EQ(a, HostVethName("net", "c1", "eth0"));
  EXPECT_NE(a, HostVethName("net", "c2", "eth0"));
  EXPECT_NE(a, HostVethName("net", "c1", "eth1"));
  EXPECT_NE(a, HostVethName("net2", "c1", "eth0"));
  EXPECT_NE(HostVethName("ab", "c", "e"), HostVethName("a", "bc", "e"));
  EXPECT_TRUE(ValidInterfaceName(a));
  std::string r = RandomHostVethName();
  EXPECT_THAT(r, ::testing::MatchesRegex("veth[0-9a-f]{8}"));
  EXPECT_NE(r, RandomHostVethName());
}

TEST(BridgeConfigTest, VethOwnerNamesTheAttachment) {
  EXPECT_EQ(VethOwner("net", "c1", "eth0"), "berth-bridge net c1 eth0");
  EXPECT_NE(VethOwner("net", "c1", "eth0"), VethOwner("net", "c1", "eth1"));
  std::string long_id(300, 'a');
  std::string owner = VethOwner("net", long_id, "eth0");
  EXPECT_LE(owner.size(), 255u);
  EXPECT_NE(owner, VethOwner("net", long_id + "b", "eth0"));
}

}  // namespace
}  // namespace berth::bridge
