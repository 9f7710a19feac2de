#include "cni-plugins/portmap/portmap_config.h"

#include "absl/strings/match.h"
#include "cni-plugins/common/plugin.h"
#include "gtest/gtest.h"

namespace berth::portmap {
namespace {

nlohmann::json Config(nlohmann::json mappings) {
  return {{"cniVersion", "1.0.0"},
          {"name", "net1"},
          {"type", "berth-portmap"},
          {"runtimeConfig", {{"portMappings", mappings}}},
          {"prevResult",
           {{"cniVersion", "1.0.0"},
            {"interfaces",
             {{{"name", "cni0"}, {"mac", "aa:bb:cc:dd:ee:ff"}},
              {{"name", "veth1"}, {"mac", "aa:bb:cc:dd:ee:01"}},
              {{"name", "eth0"}, {"mac", "aa:bb:cc:dd:ee:02"}, {"sandbox", "/run/netns/x"}}}},
            {"ips",
             {{{"address", "10.22.0.1/16"}, {"interface", 0}},
              {{"address", "10.22.0.5/16"}, {"interface", 2}, {"gateway", "10.22.0.1"}},
              {{"address", "10.22.0.6/16"}, {"interface", 2}},
              {{"address", "fd00:22::5/64"}, {"interface", 2}}}}}}};
}

void ExpectConfigError(const nlohmann::json& config, const std::string& needle) {
  auto c = ParsePortmapConfig(config, true);
  ASSERT_FALSE(c.ok()) << config.dump();
  EXPECT_EQ(cniplugin::CniCode(c.status()), cniplugin::kInvalidConfig) << c.status();
  EXPECT_TRUE(absl::StrContains(c.status().message(), needle)) << c.status();
}

TEST(PortmapConfigTest, ParsesMappingsAndContainerIps) {
  auto c = ParsePortmapConfig(
      Config({{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "TCP"}},
              {{"hostPort", 5353}, {"containerPort", 53}, {"protocol", "udp"},
               {"hostIP", "127.0.0.1"}},
              {{"hostPort", 9000}, {"containerPort", 9000}, {"protocol", "sctp"},
               {"hostIP", "0.0.0.0"}},
              {{"hostPort", 9001}, {"containerPort", 9001}, {"hostIP", "::"}}}),
      true);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->network_name, "net1");
  EXPECT_TRUE(c->snat);
  EXPECT_EQ(c->MarkMask(), 0x2000u);
  ASSERT_EQ(c->mappings.size(), 4u);
  EXPECT_EQ(c->mappings[0].protocol, "tcp");
  EXPECT_EQ(c->mappings[0].family, 0);
  EXPECT_EQ(c->mappings[0].Describe(), "8080/tcp");
  EXPECT_EQ(c->mappings[1].host_ip, "127.0.0.1");
  EXPECT_EQ(c->mappings[1].Describe(), "127.0.0.1:5353/udp");
  EXPECT_EQ(c->mappings[2].host_ip, "");
  EXPECT_EQ(c->mappings[2].family, 4);
  EXPECT_EQ(c->mappings[3].protocol, "tcp");
  EXPECT_EQ(c->mappings[3].family, 6);
  // The host-side address (interface without sandbox) is not the container's.
  ASSERT_TRUE(c->container_v4.has_value());
  EXPECT_EQ(c->container_v4->address, "10.22.0.5");
  EXPECT_EQ(c->container_v4->network, "10.22.0.0/16");
  ASSERT_TRUE(c->container_v6.has_value());
  EXPECT_EQ(c->container_v6->address, "fd00:22::5");
}

TEST(PortmapConfigTest, OptionsAndNoMappings) {
  nlohmann::json config = Config(nlohmann::json::array());
  config["snat"] = false;
  config["markMasqBit"] = 5;
  auto c = ParsePortmapConfig(config, true);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->snat);
  EXPECT_EQ(c->MarkMask(), 0x20u);
  EXPECT_TRUE(c->mappings.empty());
  config.erase("runtimeConfig");
  EXPECT_TRUE(ParsePortmapConfig(config, true).ok());
}

TEST(PortmapConfigTest, ErrorsNameTheField) {
  ExpectConfigError(Config({{{"hostPort", 0}, {"containerPort", 80}}}),
                    "runtimeConfig.portMappings[0].hostPort: must be an integer 1..65535, got 0");
  ExpectConfigError(Config({{{"hostPort", 80}, {"containerPort", 70000}}}),
                    "portMappings[0].containerPort");
  ExpectConfigError(Config({{{"hostPort", "80"}, {"containerPort", 80}}}),
                    "portMappings[0].hostPort: must be an integer 1..65535, got \"80\"");
  ExpectConfigError(Config({{{"containerPort", 80}}}), "portMappings[0].hostPort: is required");
  ExpectConfigError(Config({{{"hostPort", 80}, {"containerPort", 80}},
                            {{"hostPort", 81}, {"containerPort", 80}, {"protocol", "icmp"}}}),
                    "portMappings[1].protocol: must be tcp, udp or sctp, got \"icmp\"");
  ExpectConfigError(Config({{{"hostPort", 80}, {"containerPort", 80}, {"hostIP", "1.2.3"}}}),
                    "portMappings[0].hostIP: invalid IP address \"1.2.3\"");
  ExpectConfigError(Config({{{"hostPort", 80}, {"containerPort", 80}},
                            {{"hostPort", 80}, {"containerPort", 81}, {"hostIP", "10.0.0.1"}}}),
                    "portMappings[1]: hostPort 10.0.0.1:80/tcp is mapped twice");
  ExpectConfigError(Config("x"), "runtimeConfig.portMappings: must be a list");
  nlohmann::json c = Config(nlohmann::json::array());
  c["snat"] = "yes";
  ExpectConfigError(c, "snat: must be a boolean");
  c = Config(nlohmann::json::array());
  c["markMasqBit"] = 32;
  ExpectConfigError(c, "markMasqBit: must be an integer 0..31, got 32");
  c = Config(nlohmann::json::array());
  c.erase("prevResult");
  ExpectConfigError(c, "prevResult: is required");
  EXPECT_TRUE(ParsePortmapConfig(c, /*need_prev_result=*/false).ok());
  c = Config(nlohmann::json::array());
  c["prevResult"]["ips"][1]["address"] = "10.22.0.500/16";
  ExpectConfigError(c, "prevResult.ips[1].address: invalid CIDR \"10.22.0.500/16\"");
}

TEST(PortmapConfigTest, SamePortOtherProtocolOrHostIpIsFine) {
  auto c = ParsePortmapConfig(
      Config({{{"hostPort", 80}, {"containerPort", 80}},
              {{"hostPort", 80}, {"containerPort", 80}, {"protocol", "udp"}},
              {{"hostPort", 81}, {"containerPort", 80}, {"hostIP", "10.0.0.1"}},
              {{"hostPort", 81}, {"containerPort", 80}, {"hostIP", "10.0.0.2"}},
              {{"hostPort", 82}, {"containerPort", 80}, {"hostIP", "0.0.0.0"}},
              {{"hostPort", 82}, {"containerPort", 80}, {"hostIP", "::"}}}),
      true);
  EXPECT_TRUE(c.ok()) << c.status();
}

}  // namespace
}  // namespace berth::portmap
