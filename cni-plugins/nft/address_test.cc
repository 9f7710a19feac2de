#include "cni-plugins/nft/address.h"

#include "gtest/gtest.h"

namespace berth::cninft {
namespace {

TEST(ParseCidrTest, V4) {
  auto c = ParseCidr("10.22.0.5/16", "f");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->v6);
  EXPECT_EQ(c->address, "10.22.0.5");
  EXPECT_EQ(c->network, "10.22.0.0/16");
  EXPECT_EQ(c->prefix_len, 16);
  c = ParseCidr("192.168.7.130/25", "f");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->network, "192.168.7.128/25");
}

TEST(ParseCidrTest, V6AndBare) {
  auto c = ParseCidr("fd00:0:0::5/64", "f");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->v6);
  EXPECT_EQ(c->address, "fd00::5");
  EXPECT_EQ(c->network, "fd00::/64");
  c = ParseCidr("fd00::1234:5678/127", "f");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->network, "fd00::1234:5678/127");
  c = ParseCidr("10.1.2.3", "f");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->network, "10.1.2.3/32");
}

TEST(ParseCidrTest, ErrorsNameFieldAndValue) {
  for (const char* bad : {"", "10.1.2/24", "10.1.2.3/33", "fd00::/129", "10.0.0.1/x", "x/8"}) {
    auto c = ParseCidr(bad, "container_cidrs");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find("container_cidrs"), std::string::npos);
    EXPECT_NE(c.status().message().find(std::string("\"") + bad + "\""), std::string::npos)
        << c.status();
  }
}

TEST(ParseAddressTest, Families) {
  bool v6 = true;
  auto a = ParseAddress("127.0.0.1", "hostIP", &v6);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(v6);
  a = ParseAddress("0:0::1", "hostIP", &v6);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(v6);
  EXPECT_EQ(*a, "::1");
  a = ParseAddress("10.0.0.1/8", "hostIP", &v6);
  EXPECT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("hostIP"), std::string::npos);
}

}  // namespace
}  // namespace berth::cninft
