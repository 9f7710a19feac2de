#include "common/time.h"

#include "gtest/gtest.h"

namespace berth {
namespace {

TEST(TimeTest, FormatsRfc3339WithNanoseconds) {
  EXPECT_EQ(FormatRfc3339Nano(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(FormatRfc3339Nano(1764086400123456789), "2025-11-25T16:00:00.123456789Z");
  EXPECT_EQ(FormatRfc3339Nano(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatRfc3339Nano(-1000000000), "1969-12-31T23:59:59.000000000Z");
}

TEST(TimeTest, ClocksMoveForward) {
  int64_t a = MonotonicNanos();
  int64_t b = MonotonicNanos();
  EXPECT_LE(a, b);
  EXPECT_GT(NowUnixNanos(), 1700000000LL * 1000000000);
}

}  // namespace
}  // namespace berth
