#include "hack/berth-cri/display.h"

#include "gtest/gtest.h"

namespace berth::cri_cli {
namespace {

TEST(DisplayTest, TableAlignsColumnsAndTrimsTheLast) {
  Table table({"ID", "NAME", "STATE"});
  table.AddRow({"abc", "x", "Ready"});
  table.AddRow({"a", "longer-name"});
  EXPECT_EQ(table.Render(),
            "ID    NAME          STATE\n"
            "abc   x             Ready\n"
            "a     longer-name\n");
}

TEST(DisplayTest, HumanDuration) {
  EXPECT_EQ(HumanDuration(absl::Milliseconds(300)), "Less than a second");
  EXPECT_EQ(HumanDuration(absl::Seconds(1)), "1 second");
  EXPECT_EQ(HumanDuration(absl::Seconds(42)), "42 seconds");
  EXPECT_EQ(HumanDuration(absl::Seconds(90)), "About a minute");
  EXPECT_EQ(HumanDuration(absl::Minutes(17)), "17 minutes");
  EXPECT_EQ(HumanDuration(absl::Minutes(65)), "About an hour");
  EXPECT_EQ(HumanDuration(absl::Hours(5)), "5 hours");
  EXPECT_EQ(HumanDuration(absl::Hours(24 * 3)), "3 days");
  EXPECT_EQ(HumanDuration(absl::Hours(24 * 21)), "3 weeks");
  EXPECT_EQ(HumanDuration(absl::Hours(24 * 120)), "4 months");
  EXPECT_EQ(HumanDuration(absl::Hours(24 * 365 * 3)), "3 years");
}

TEST(DisplayTest, HumanAgo) {
  const absl::Time now = absl::FromUnixSeconds(1000);
  EXPECT_EQ(HumanAgo(absl::ToUnixNanos(now - absl::Seconds(5)), now), "5 seconds ago");
  EXPECT_EQ(HumanAgo(0, now), "");
}

TEST(DisplayTest, HumanSize) {
  EXPECT_EQ(HumanSize(0), "0B");
  EXPECT_EQ(HumanSize(512), "512B");
  EXPECT_EQ(HumanSize(4260000), "4.26MB");
  EXPECT_EQ(HumanSize(1234567890), "1.235GB");
}

TEST(DisplayTest, ShortId) {
  EXPECT_EQ(ShortId("sha256:0123456789abcdef0123"), "0123456789abc");
  EXPECT_EQ(ShortId("0123456789abcdef"), "0123456789abc");
  EXPECT_EQ(ShortId("abc"), "abc");
  EXPECT_EQ(ShortId("sha256:0123456789abcdef", true), "sha256:0123456789abcdef");
}

TEST(DisplayTest, SplitRepoTag) {
  EXPECT_EQ(SplitRepoTag("docker.io/library/busybox:latest"),
            std::make_pair(std::string("docker.io/library/busybox"), std::string("latest")));
  EXPECT_EQ(SplitRepoTag("localhost:5000/x"),
            std::make_pair(std::string("localhost:5000/x"), std::string("<none>")));
  EXPECT_EQ(SplitRepoTag("localhost:5000/x:1.0"),
            std::make_pair(std::string("localhost:5000/x"), std::string("1.0")));
  EXPECT_EQ(SplitRepoTag("a/b@sha256:abc"), std::make_pair(std::string("a/b"), std::string("<none>")));
}

}  // namespace
}  // namespace berth::cri_cli
