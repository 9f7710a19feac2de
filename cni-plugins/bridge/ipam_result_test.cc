#include "cni-plugins/bridge/ipam_result.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::bridge {
namespace {

TEST(IpamResultTest, ParsesDualStackWithRoutesAndDns) {
  auto r = ParseIpamResult(nlohmann::json::parse(R"({"cniVersion": "1.0.0",
      "ips": [{"address": "10.22.0.5/16", "gateway": "10.22.0.1"}, {"address": "fd00::5/64"}],
      "routes": [{"dst": "0.0.0.0/0"}, {"dst": "192.168.0.0/24", "gw": "10.22.0.9"}],
      "dns": {"nameservers": ["10.96.0.10"]}})"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->ips.size(), 2u);
  EXPECT_EQ(r->ips[0].address.ToString(), "10.22.0.5/16");
  EXPECT_EQ(r->ips[0].gateway->AddrString(), "10.22.0.1");
  EXPECT_FALSE(r->ips[1].gateway.has_value());
  ASSERT_EQ(r->routes.size(), 2u);
  EXPECT_EQ(r->routes[1].gw->AddrString(), "10.22.0.9");
  EXPECT_EQ(r->dns["nameservers"][0], "10.96.0.10");
}

TEST(IpamResultTest, MalformedNamesTheField) {
  auto bad = ParseIpamResult(nlohmann::json::parse(R"({"ips": [{"address": "10.22.0.5"}]})"));
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("ips[0].address \"10.22.0.5\""));
  bad = ParseIpamResult(nlohmann::json::parse(R"({"ips": [{"address": "10.0.0.2/8", "gateway": "x"}]})"));
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("ips[0].gateway \"x\""));
  bad = ParseIpamResult(nlohmann::json::parse(R"({"routes": [{"dst": "0.0.0.0/0", "gw": "fd00::1"}]})"));
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("routes[0].gw"));
}

TEST(IpamResultTest, GatewaysAsTheReferenceBridge) {
  IpamResult r = *ParseIpamResult(nlohmann::json::parse(
      R"({"ips": [{"address": "10.22.0.5/16"}, {"address": "fd00::5/64", "gateway": "fd00::fe"}]})"));
  auto gws = ApplyGateways(&r, true, true);
  ASSERT_EQ(gws.size(), 2u);
  EXPECT_EQ(gws[0].ToString(), "10.22.0.1/16");
  EXPECT_EQ(gws[1].ToString(), "fd00::fe/64");
  EXPECT_EQ(r.ips[0].gateway->AddrString(), "10.22.0.1");
  ASSERT_EQ(r.routes.size(), 2u);
  EXPECT_EQ(r.routes[0].dst.ToString(), "0.0.0.0/0");
  EXPECT_EQ(r.routes[0].gw->AddrString(), "10.22.0.1");
  EXPECT_EQ(r.routes[1].dst.ToString(), "::/0");

  // A default route with a gateway from IPAM is kept, not doubled.
  IpamResult withDefault = *ParseIpamResult(nlohmann::json::parse(
      R"({"ips": [{"address": "10.22.0.5/16", "gateway": "10.22.0.1"}],
          "routes": [{"dst": "0.0.0.0/0", "gw": "10.22.0.254"}]})"));
  ApplyGateways(&withDefault, true, true);
  EXPECT_EQ(withDefault.routes.size(), 1u);

  // Not a gateway: no gateway invented, no bridge address.
  IpamResult plain = *ParseIpamResult(nlohmann::json::parse(R"({"ips": [{"address": "10.22.0.5/16"}]})"));
  EXPECT_TRUE(ApplyGateways(&plain, false, false).empty());
  EXPECT_FALSE(plain.ips[0].gateway.has_value());
}

TEST(IpamResultTest, ResultJsonShape) {
  IpamResult r = *ParseIpamResult(nlohmann::json::parse(
      R"({"ips": [{"address": "10.22.0.5/16", "gateway": "10.22.0.1"}],
          "routes": [{"dst": "0.0.0.0/0"}], "dns": {"search": ["x"]}})"));
  std::vector<ResultInterface> ifs = {{"cni0", "aa:aa:aa:aa:aa:aa", ""},
                                      {"veth01234567", "bb:bb:bb:bb:bb:bb", ""},
                                      {"eth0", "cc:cc:cc:cc:cc:cc", "/run/netns/x"}};
  auto j = ResultJson("1.0.0", ifs, r, 2);
  EXPECT_EQ(j["cniVersion"], "1.0.0");
  EXPECT_EQ(j["interfaces"].size(), 3u);
  EXPECT_EQ(j["interfaces"][2]["sandbox"], "/run/netns/x");
  EXPECT_FALSE(j["interfaces"][0].contains("sandbox"));
  EXPECT_EQ(j["ips"][0]["interface"], 2);
  EXPECT_EQ(j["ips"][0]["gateway"], "10.22.0.1");
  EXPECT_FALSE(j["ips"][0].contains("version"));
  EXPECT_EQ(j["routes"][0]["dst"], "0.0.0.0/0");
  EXPECT_EQ(j["dns"]["search"][0], "x");
  auto old = ResultJson("0.3.1", ifs, r, 2);
  EXPECT_EQ(old["ips"][0]["version"], "4");
}

}  // namespace
}  // namespace berth::bridge
