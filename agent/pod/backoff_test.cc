#include "agent/pod/backoff.h"

#include "gtest/gtest.h"

namespace berth::agent {
namespace {

TEST(BackoffTest, DoublesToTheCapAndResetsAfterLongRun) {
  Backoff b(absl::Seconds(10), absl::Minutes(5));
  absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_FALSE(b.IsInBackOffSince("c", t0, t0)) << "first failure restarts at once";
  EXPECT_EQ(b.Next("c", t0, t0), absl::Seconds(10));
  absl::Time t1 = t0 + absl::Seconds(1);  // failed again one second later
  EXPECT_TRUE(b.IsInBackOffSince("c", t1, t1 + absl::Seconds(9)));
  EXPECT_FALSE(b.IsInBackOffSince("c", t1, t1 + absl::Seconds(10)));
  absl::Duration want[] = {absl::Seconds(20), absl::Seconds(40), absl::Seconds(80), absl::Seconds(160),
                           absl::Seconds(300), absl::Seconds(300)};
  absl::Time now = t1 + absl::Seconds(10);
  for (absl::Duration d : want) {
    EXPECT_EQ(b.Next("c", now, now), d);
    now += d;
  }
  // Ran for more than 10 minutes since the last restart: starts over.
  absl::Time late = now + absl::Minutes(11);
  EXPECT_FALSE(b.IsInBackOffSince("c", late, late));
  EXPECT_EQ(b.Next("c", late, late), absl::Seconds(10));
}

TEST(BackoffTest, KeysAreIndependentAndGcForgets) {
  Backoff b(absl::Seconds(1), absl::Seconds(4));
  absl::Time t = absl::FromUnixSeconds(50);
  b.Next("a", t, t);
  b.Next("a", t, t);
  EXPECT_EQ(b.Get("a"), absl::Seconds(2));
  EXPECT_EQ(b.Get("b"), absl::ZeroDuration());
  b.GC(t + absl::Seconds(9));
  EXPECT_EQ(b.Get("a"), absl::ZeroDuration());
}

}  // namespace
}  // namespace berth::agent
