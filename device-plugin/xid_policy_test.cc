#include "device-plugin/xid_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "device-plugin/health_files.h"

namespace berth::gpu {
namespace {

using ::testing::HasSubstr;

TEST(XidPolicy, DefaultIsAllButApplicationErrors) {
  XidPolicy p = XidPolicy::Default();
  for (int app : {13, 31, 43, 45, 68, 109}) EXPECT_FALSE(p.IsCritical(app)) << app;
  for (int critical : {48, 62, 63, 64, 74, 79, 92, 94, 95, 119}) EXPECT_TRUE(p.IsCritical(critical)) << critical;
  EXPECT_EQ(p.Describe(), "all except 13,31,43,45,68,109");
}

TEST(XidPolicy, ExplicitListAndNone) {
  auto p = XidPolicy::Parse("48, 79", "");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->IsCritical(79));
  EXPECT_TRUE(p->IsCritical(48));
  EXPECT_FALSE(p->IsCritical(94));
  auto none = XidPolicy::Parse("none", "");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->IsCritical(79));
  auto ignore_more = XidPolicy::Parse("all", "13,79");
  ASSERT_TRUE(ignore_more.ok());
  EXPECT_FALSE(ignore_more->IsCritical(79));
  EXPECT_TRUE(ignore_more->IsCritical(31));
}

TEST(XidPolicy, BadListsNameTheFlagAndValue) {
  auto bad = XidPolicy::Parse("48,x9", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("--critical-xids"));
  EXPECT_THAT(bad.status().message(), HasSubstr("\"x9\""));
  auto bad_ignored = XidPolicy::Parse("all", "13,-4");
  ASSERT_FALSE(bad_ignored.ok());
  EXPECT_THAT(bad_ignored.status().message(), HasSubstr("--ignored-xids"));
  EXPECT_FALSE(XidPolicy::Parse(",", "").ok());
}

TEST(HealthFile, VerdictsFollowThePolicy) {
  XidPolicy p = XidPolicy::Default();
  EXPECT_TRUE(ParseHealthFile("Healthy\n", p).healthy);
  EXPECT_FALSE(ParseHealthFile("", p).healthy);
  EXPECT_FALSE(ParseHealthFile("unhealthy: fan", p).healthy);
  HealthVerdict xid79 = ParseHealthFile("xid 79\n", p);
  EXPECT_FALSE(xid79.healthy);
  EXPECT_THAT(xid79.reason, HasSubstr("Xid 79"));
  EXPECT_TRUE(ParseHealthFile("xid 13", p).healthy);
}

}  // namespace
}  // namespace berth::gpu
