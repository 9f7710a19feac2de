#include "api/k8s/kinds/table_cells.h"

#include <gtest/gtest.h>

namespace berth::k8s::kinds {
namespace {

TEST(TableCells, HumanDurationAsKubectl) {
  EXPECT_EQ(HumanDuration(-5), "<invalid>");
  EXPECT_EQ(HumanDuration(-1), "0s");
  EXPECT_EQ(HumanDuration(45), "45s");
  EXPECT_EQ(HumanDuration(119), "119s");
  EXPECT_EQ(HumanDuration(5 * 60), "5m");
  EXPECT_EQ(HumanDuration(5 * 60 + 3), "5m3s");
  EXPECT_EQ(HumanDuration(30 * 60 + 59), "30m");
  EXPECT_EQ(HumanDuration(3 * 3600 + 10 * 60), "3h10m");
  EXPECT_EQ(HumanDuration(20 * 3600), "20h");
  EXPECT_EQ(HumanDuration(52 * 3600), "2d4h");
  EXPECT_EQ(HumanDuration(100 * 86400), "100d");
  EXPECT_EQ(HumanDuration((3 * 365 + 20) * 86400), "3y20d");
  EXPECT_EQ(HumanDuration(10LL * 365 * 86400), "10y");
}

TEST(TableCells, Rfc3339AndAge) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:01:00Z"), 60);
  EXPECT_EQ(ParseRfc3339("1970-01-01T01:00:00.123456+01:00"), 0);
  EXPECT_EQ(ParseRfc3339("yesterday"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:01:00"), std::nullopt);
  EXPECT_EQ(AgeSince("1970-01-01T00:00:00Z", 600), "10m");
  EXPECT_EQ(AgeSince(nullptr, 600), "<unknown>");
}

TEST(TableCells, SelectorsAndLookups) {
  nlohmann::json sel = {{"matchLabels", {{"app", "web"}}},
                        {"matchExpressions",
                         {{{"key", "tier"}, {"operator", "In"}, {"values", {"a", "b"}}},
                          {{"key", "x"}, {"operator", "DoesNotExist"}}}}};
  EXPECT_EQ(FormatLabelSelector(sel), "app=web,tier in (a,b),!x");
  EXPECT_EQ(FormatLabelSelector(nullptr), "<none>");
  nlohmann::json obj = {{"status", {{"replicas", 3}, {"phase", "Running"}}}};
  EXPECT_EQ(IntAt(obj, "status.replicas"), 3);
  EXPECT_EQ(StringAt(obj, "status.phase"), "Running");
  EXPECT_EQ(StringAt(obj, "status.phase.x"), "");
  EXPECT_TRUE(At(obj, "spec.replicas").is_null());
}

}  // namespace
}  // namespace berth::k8s::kinds
