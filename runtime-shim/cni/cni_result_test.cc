#include "runtime-shim/cni/cni_result.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::cni {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CniResultTest, ParsesDualStackResult) {
  auto json = nlohmann::json::parse(R"({
    "cniVersion": "1.0.0",
    "interfaces": [
      {"name": "cni0", "mac": "aa:bb:cc:dd:ee:01"},
      {"name": "veth1234", "mac": "aa:bb:cc:dd:ee:02"},
      {"name": "eth0", "mac": "aa:bb:cc:dd:ee:03", "sandbox": "/run/netns/p", "mtu": 1500}
    ],
    "ips": [
      {"address": "fd00:10::5/64", "gateway": "fd00:10::1", "interface": 2},
      {"address": "10.244.1.5/24", "gateway": "10.244.1.1", "interface": 2},
      {"address": "10.244.1.6/24", "interface": 2}
    ],
    "routes": [{"dst": "0.0.0.0/0", "gw": "10.244.1.1"}, {"dst": "::/0"}],
    "dns": {"nameservers": ["10.96.0.10"], "domain": "cluster.local",
            "search": ["default.svc.cluster.local"], "options": ["ndots:5"]}
  })");
  auto result = ParseCniResult(json, "bridge");
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->interfaces.size(), 3u);
  EXPECT_EQ(result->interfaces[2].sandbox, "/run/netns/p");
  EXPECT_EQ(result->interfaces[2].mtu, 1500);
  ASSERT_EQ(result->ips.size(), 3u);
  EXPECT_TRUE(result->ips[0].IsV6());
  EXPECT_EQ(result->ips[1].Addr(), "10.244.1.5");
  EXPECT_EQ(result->ips[1].interface, 2);
  ASSERT_EQ(result->routes.size(), 2u);
  EXPECT_EQ(result->routes[0].gw, "10.244.1.1");
  EXPECT_THAT(result->dns.nameservers, ElementsAre("10.96.0.10"));
  EXPECT_EQ(result->dns.domain, "cluster.local");
  EXPECT_THAT(result->PodIPs(), ElementsAre("10.244.1.5", "fd00:10::5"));
  EXPECT_TRUE(result->PodIPs("eth1").empty());
}

TEST(CniResultTest, ParsesOldResultWithoutInterfaceIndex) {
  auto json = nlohmann::json::parse(R"({
    "cniVersion": "0.3.1",
    "ips": [{"version": "4", "address": "10.1.0.2/16", "gateway": "10.1.0.1"}]
  })");
  auto result = ParseCniResult(json, "host-local");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(result->PodIPs(), ElementsAre("10.1.0.2"));
}

TEST(CniResultTest, BadResultsNameThePluginAndField) {
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"ips": [{"address": "10.0.0.1"}]})", "ips[0].address"},
      {R"({"interfaces": [], "ips": [{"address": "10.0.0.1/8", "interface": 0}]})", "ips[0].interface"},
      {R"({"ips": {}})", "ips: must be an array"},
      {R"({"routes": [{"dst": 5}]})", "routes[0].dst"},
      {R"({"dns": {"nameservers": "1.1.1.1"}})", "dns.nameservers"},
      {R"("x")", "must be a JSON object"},
  };
  for (const auto& c : cases) {
    auto result = ParseCniResult(nlohmann::json::parse(c.json), "myplugin");
    ASSERT_FALSE(result.ok()) << c.json;
    EXPECT_THAT(result.status().message(), HasSubstr("myplugin")) << c.json;
    EXPECT_THAT(result.status().message(), HasSubstr(c.field)) << c.json;
  }
}

}  // namespace
}  // namespace berth::cni
