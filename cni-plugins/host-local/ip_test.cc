#include "cni-plugins/host-local/ip.h"

#include <vector>

#include "cni-plugins/common/plugin.h"
#include "cni-plugins/host-local/ipam_config.h"
#include "gtest/gtest.h"

namespace berth::hostlocal {
namespace {

TEST(Ip, ParseAndFormat) {
  EXPECT_EQ(ParseIp("10.1.2.3")->ToString(), "10.1.2.3");
  EXPECT_EQ(ParseIp("fd00::5")->ToString(), "fd00::5");
  EXPECT_FALSE(ParseIp("10.1.2"));
  auto p = ParsePrefix("10.1.2.3/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->ToString(), "10.1.2.0/24");
  EXPECT_EQ(p->Last().ToString(), "10.1.2.255");
  EXPECT_TRUE(p->Contains(*ParseIp("10.1.2.200")));
  EXPECT_FALSE(p->Contains(*ParseIp("10.1.3.1")));
  EXPECT_FALSE(p->Contains(*ParseIp("fd00::1")));
  auto p6 = ParsePrefix("fd00:10::/64");
  EXPECT_EQ(p6->Last().ToString(), "fd00:10::ffff:ffff:ffff:ffff");
  EXPECT_FALSE(ParsePrefix("10.0.0.0/33"));
  EXPECT_EQ(Next(*ParseIp("10.0.0.255")).ToString(), "10.0.1.0");
}

TEST(Range, Defaults) {
  auto r = ParseRange(nlohmann::json{{"subnet", "10.0.0.0/24"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->start.ToString(), "10.0.0.1");
  EXPECT_EQ(r->end.ToString(), "10.0.0.254");
  EXPECT_EQ(r->gateway.ToString(), "10.0.0.1");
  auto r6 = ParseRange(nlohmann::json{{"subnet", "fd00::/120"}});
  ASSERT_TRUE(r6.ok());
  EXPECT_EQ(r6->end.ToString(), "fd00::fe");
}

TEST(Range, Errors) {
  auto code = [](const nlohmann::json& j) { return cniplugin::CniCode(ParseRange(j).status()); };
  EXPECT_EQ(code({{"subnet", "nope"}}), cniplugin::kInvalidConfig);
  EXPECT_EQ(code(nlohmann::json::object()), cniplugin::kInvalidConfig);
  EXPECT_EQ(code({{"subnet", "10.0.0.0/24"}, {"rangeStart", "10.0.1.5"}}), cniplugin::kInvalidConfig);
  EXPECT_EQ(code({{"subnet", "10.0.0.0/24"}, {"rangeStart", "10.0.0.9"}, {"rangeEnd", "10.0.0.5"}}),
            cniplugin::kInvalidConfig);
  EXPECT_EQ(code({{"subnet", "10.0.0.0/24"}, {"rangeEnd", "10.0.0.255"}}), cniplugin::kInvalidConfig);
  EXPECT_EQ(code({{"subnet", "10.0.0.0/31"}}), cniplugin::kInvalidConfig);
}

TEST(Config, RangesAndLegacy) {
  auto c = ParseIpamConfig(nlohmann::json::parse(R"({"name": "net", "ipam": {
      "ranges": [[{"subnet": "10.0.0.0/24"}, {"subnet": "10.0.1.0/24"}], [{"subnet": "fd00::/64"}]],
      "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "/x"}, "dns": {"nameservers": ["1.1.1.1"]}})"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->range_sets.size(), 2u);
  EXPECT_EQ(c->range_sets[0].size(), 2u);
  EXPECT_EQ(c->data_dir, "/x");
  EXPECT_EQ(c->routes.size(), 1u);
  EXPECT_EQ(c->dns["nameservers"][0], "1.1.1.1");
  auto legacy = ParseIpamConfig(nlohmann::json::parse(
      R"({"name": "net", "ipam": {"subnet": "10.0.0.0/24", "rangeStart": "10.0.0.10", "gateway": "10.0.0.254"}})"));
  ASSERT_TRUE(legacy.ok()) << legacy.status();
  EXPECT_EQ(legacy->data_dir, kDefaultDataDir);
  EXPECT_EQ(legacy->range_sets[0][0].start.ToString(), "10.0.0.10");
  EXPECT_EQ(legacy->range_sets[0][0].gateway.ToString(), "10.0.0.254");
  EXPECT_FALSE(ParseIpamConfig(nlohmann::json::parse(R"({"name": "net", "ipam": {}})")).ok());
  EXPECT_FALSE(ParseIpamConfig(nlohmann::json::parse(
      R"({"name": "net", "ipam": {"ranges": [[{"subnet": "10.0.0.0/24"}, {"subnet": "fd00::/64"}]]}})")).ok());
  EXPECT_FALSE(ParseIpamConfig(nlohmann::json::parse(
      R"({"name": "net", "ipam": {"ranges": [[{"subnet": "10.0.0.0/24"}, {"subnet": "10.0.0.0/25"}]]}})")).ok());
  EXPECT_FALSE(ParseIpamConfig(nlohmann::json::parse(
      R"({"name": "../x", "ipam": {"subnet": "10.0.0.0/24"}})")).ok());
}

std::vector<std::string> Walk(const RangeSet& set, std::optional<Ip> after) {
  std::vector<std::string> out;
  ForEachCandidate(set, after, [&](const Ip& ip) {
    out.push_back(ip.ToString());
    return false;
  });
  return out;
}

TEST(Iteration, WrapsAcrossRangesSkippingGateway) {
  RangeSet set = {*ParseRange({{"subnet", "10.0.0.0/29"}}),  // .1 gw, .2-.6
                  *ParseRange({{"subnet", "10.0.1.0/24"}, {"rangeStart", "10.0.1.10"},
                               {"rangeEnd", "10.0.1.11"}})};
  EXPECT_EQ(Walk(set, std::nullopt),
            (std::vector<std::string>{"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6",
                                      "10.0.1.10", "10.0.1.11"}));
  EXPECT_EQ(Walk(set, ParseIp("10.0.0.5")),
            (std::vector<std::string>{"10.0.0.6", "10.0.1.10", "10.0.1.11", "10.0.0.2", "10.0.0.3",
                                      "10.0.0.4", "10.0.0.5"}));
  EXPECT_EQ(Walk(set, ParseIp("10.0.1.11")),
            (std::vector<std::string>{"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6",
                                      "10.0.1.10", "10.0.1.11"}));
  EXPECT_EQ(Walk(set, ParseIp("192.168.0.1")).size(), 7u);  // not in the set: from the start
}

}  // namespace
}  // namespace berth::hostlocal
