#include "runtime-shim/shim/oom_counter.h"

#include "gtest/gtest.h"

namespace berth::shim {
namespace {

TEST(OomCounterTest, ParsesV1AndV2) {
  EXPECT_EQ(ParseOomKillCount("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), 3);
  EXPECT_EQ(ParseOomKillCount("low 0\nhigh 0\nmax 2\noom 2\noom_kill 1\noom_group_kill 0\n"), 1);
  EXPECT_EQ(ParseOomKillCount("oom_kill_disable 0\n"), -1);
}

TEST(OomCounterTest, MissingDirIsUnknown) {
  EXPECT_EQ(ReadOomKillCount(""), -1);
  EXPECT_EQ(ReadOomKillCount("/nonexistent/berth"), -1);
}

}  // namespace
}  // namespace berth::shim
