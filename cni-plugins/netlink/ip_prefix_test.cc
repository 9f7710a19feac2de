#include "cni-plugins/netlink/ip_prefix.h"

#include <sys/socket.h>

#include "gtest/gtest.h"

namespace berth::netlink {
namespace {

TEST(IpPrefixTest, ParsesV4AndV6) {
  auto v4 = ParseIpPrefix("10.22.0.5/16");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->family, AF_INET);
  EXPECT_EQ(v4->length, 16);
  EXPECT_EQ(v4->ToString(), "10.22.0.5/16");
  EXPECT_EQ(v4->Network().ToString(), "10.22.0.0/16");
  auto v6 = ParseIpPrefix("fd00:1::5/64");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->family, AF_INET6);
  EXPECT_EQ(v6->Network().ToString(), "fd00:1::/64");
}

TEST(IpPrefixTest, RejectsBadInput) {
  EXPECT_FALSE(ParseIpPrefix("10.22.0.5").has_value());
  EXPECT_FALSE(ParseIpPrefix("10.22.0.5/33").has_value());
  EXPECT_FALSE(ParseIpPrefix("10.22.0/8").has_value());
  EXPECT_FALSE(ParseIpPrefix("x/8").has_value());
  EXPECT_FALSE(ParseIpPrefix("10.0.0.1/-1").has_value());
  EXPECT_FALSE(ParseIp("10.0.0.1/8").has_value());
  ASSERT_TRUE(ParseIp("10.0.0.1").has_value());
  EXPECT_EQ(ParseIp("10.0.0.1")->length, 32);
}

TEST(IpPrefixTest, ContainsAndNext) {
  auto net = *ParseIpPrefix("10.22.0.0/16");
  EXPECT_TRUE(net.Contains(*ParseIp("10.22.255.1")));
  EXPECT_FALSE(net.Contains(*ParseIp("10.23.0.1")));
  EXPECT_FALSE(net.Contains(*ParseIp("::1")));
  EXPECT_EQ(NextAddr(*ParseIp("10.0.0.255")).AddrString(), "10.0.1.0");
  EXPECT_EQ(NextAddr(*ParseIpPrefix("fd00::/64")).AddrString(), "fd00::1");
}

}  // namespace
}  // namespace berth::netlink
