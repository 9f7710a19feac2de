#include "agent/metrics/registry.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent::metrics {
namespace {

TEST(FormatValueTest, WritesWhatTheGoClientWrites) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(1), "1");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(0.005), "0.005");
  EXPECT_EQ(FormatValue(0.0001), "0.0001");
  EXPECT_EQ(FormatValue(0.00001), "1e-05");
  EXPECT_EQ(FormatValue(2.5), "2.5");
  EXPECT_EQ(FormatValue(100000), "100000");
  EXPECT_EQ(FormatValue(1000000), "1e+06");
  EXPECT_EQ(FormatValue(1234567), "1.234567e+06");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatValue(0.0 / 0.0), "NaN");
}

TEST(EscapeTest, LabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(EscapeHelp("say \"x\" \\ y\nz"), "say \"x\" \\\\ y\\nz");
}

TEST(RegistryTest, CountersAndGaugesInTheTextFormat) {
  Registry r;
  auto& ops = r.AddCounter("test_operations_total", "Operations by type.", {"operation_type"});
  ops.WithLabels({"start"}).Inc();
  ops.WithLabels({"start"}).Inc(2);
  ops.WithLabels({"create"}).Inc();
  r.AddGauge("test_running", "Running things.").Get().Set(7);
  auto& weird = r.AddGauge("test_weird", "Help with a \\ and\na newline.", {"path", "q"});
  weird.WithLabels({"C:\\dir", "say \"hi\"\n"}).Set(0.5);
  EXPECT_EQ(r.Render(),
            "# HELP test_operations_total Operations by type.\n"
            "# TYPE test_operations_total counter\n"
            "test_operations_total{operation_type=\"create\"} 1\n"
            "test_operations_total{operation_type=\"start\"} 3\n"
            "# HELP test_running Running things.\n"
            "# TYPE test_running gauge\n"
            "test_running 7\n"
            "# HELP test_weird Help with a \\\\ and\\na newline.\n"
            "# TYPE test_weird gauge\n"
            "test_weird{path=\"C:\\\\dir\",q=\"say \\\"hi\\\"\\n\"} 0.5\n");
}

TEST(RegistryTest, HistogramBucketsAreCumulativeAndInclusive) {
  Registry r;
  auto& h = r.AddHistogram("test_duration_seconds", "Durations.", {"op"}, {0.25, 1, 5});
  auto& child = h.WithLabels({"sync"});
  child.Observe(0.125);
  child.Observe(0.25);  // le is inclusive: the 0.25 bucket
  child.Observe(0.75);
  child.Observe(30);   // only +Inf
  EXPECT_EQ(r.Render(),
            "# HELP test_duration_seconds Durations.\n"
            "# TYPE test_duration_seconds histogram\n"
            "test_duration_seconds_bucket{op=\"sync\",le=\"0.25\"} 2\n"
            "test_duration_seconds_bucket{op=\"sync\",le=\"1\"} 3\n"
            "test_duration_seconds_bucket{op=\"sync\",le=\"5\"} 3\n"
            "test_duration_seconds_bucket{op=\"sync\",le=\"+Inf\"} 4\n"
            "test_duration_seconds_sum{op=\"sync\"} 31.125\n"
            "test_duration_seconds_count{op=\"sync\"} 4\n");
}

TEST(RegistryTest, UnlabelledHistogramAndBucketHelpers) {
  Registry r;
  r.AddHistogram("h", "H.", {}, ExponentialBuckets(1, 2, 3)).Get().Observe(1.5);
  EXPECT_EQ(r.Render(),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"4\"} 1\n"
            "h_bucket{le=\"+Inf\"} 1\nh_sum 1.5\nh_count 1\n");
  EXPECT_EQ(DefaultBuckets().size(), 11u);
  EXPECT_EQ(DefaultBuckets().back(), 10);
}

TEST(RegistryTest, FamilyWithoutChildrenShowsOnlyItsHeader) {
  Registry r;
  r.AddCounter("c_total", "C.", {"x"});
  EXPECT_EQ(r.Render(), "# HELP c_total C.\n# TYPE c_total counter\n");
}

TEST(RegistryTest, CollectorsRunBeforeEachRender) {
  Registry r;
  auto& g = r.AddGauge("g", "G.").Get();
  int calls = 0;
  r.AddCollector([&] { g.Set(++calls); });
  EXPECT_THAT(r.Render(), ::testing::HasSubstr("\ng 1\n"));
  EXPECT_THAT(r.Render(), ::testing::HasSubstr("\ng 2\n"));
}

TEST(RegistryTest, ConcurrentUpdatesAreAllCounted) {
  Registry r;
  auto& c = r.AddCounter("c_total", "C.", {"k"});
  auto& h = r.AddHistogram("h", "H.", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.WithLabels({"a"}).Inc();
        h.Get().Observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.WithLabels({"a"}).Value(), 40000);
  EXPECT_EQ(h.Get().Count(), 40000u);
  EXPECT_EQ(h.Get().Sum(), 20000);
}

TEST(RegistryTest, AddingANameTwiceReturnsTheSameFamily) {
  Registry r;
  auto& a = r.AddCounter("x_total", "X.");
  auto& b = r.AddCounter("x_total", "X.");
  EXPECT_EQ(&a, &b);
}

}  // namespace
}  // namespace berth::agent::metrics
