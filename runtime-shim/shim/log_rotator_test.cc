#include "runtime-shim/shim/log_rotator.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/fs.h"
#include "gtest/gtest.h"

namespace berth::shim {
namespace {

// 2026-12-07T16:30:05.000000123Z
constexpr int64_t kNow = int64_t{1796661005} * 1000000000 + 123;

class LogRotatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-rotate-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    log_ = dir_ + "/0.log";
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }

  void WriteLive(const std::string& text) { ASSERT_TRUE(AtomicWriteFile(log_, text).ok()); }

  std::vector<std::string> Files() {
    std::vector<std::string> names;
    DIR* d = opendir(dir_.c_str());
    while (struct dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string dir_, log_;
};

TEST_F(LogRotatorTest, SuffixIsTheKubeletsTimestamp) {
  Text<64> plain, precise;
  AppendRotationSuffix(kNow, false, &plain);
  AppendRotationSuffix(kNow, true, &precise);
  EXPECT_EQ(plain.view(), "20261207-163005");
  EXPECT_EQ(precise.view(), "20261207-163005.000000123");
}

TEST_F(LogRotatorTest, RotatesWithKubeletNamesAndNanosOnCollision) {
  LogRotator rotator(log_.c_str(), 5);
  WriteLive("first\n");
  ASSERT_EQ(rotator.RotateLive(kNow), 0);
  WriteLive("second\n");
  ASSERT_EQ(rotator.RotateLive(kNow + 1000), 0);  // same second: the name is taken
  EXPECT_EQ(Files(), (std::vector<std::string>{"0.log.20261207-163005", "0.log.20261207-163005.000001123"}));
  EXPECT_EQ(*ReadFile(log_ + ".20261207-163005"), "first\n");
  EXPECT_EQ(rotator.rotated_count(), 2);
  EXPECT_STREQ(rotator.suffix(1), "20261207-163005.000001123");
}

TEST_F(LogRotatorTest, NamesKeepSortingAfterThePlainNameWasPruned) {
  LogRotator rotator(log_.c_str(), 2);  // one rotated file kept
  for (int i = 0; i < 3; ++i) {
    WriteLive("x\n");
    ASSERT_EQ(rotator.RotateLive(kNow + i * 1000), 0);
    rotator.Prune();
  }
  // The plain "…163005" was pruned after the first rotation, yet the later
  // ones keep their nanoseconds: each sorts after the one before.
  EXPECT_EQ(Files(), (std::vector<std::string>{"0.log.20261207-163005.000002123"}));
}

TEST_F(LogRotatorTest, CompressedNameCountsAsTaken) {
  LogRotator rotator(log_.c_str(), 5);
  WriteLive("old\n");
  ASSERT_TRUE(AtomicWriteFile(log_ + ".20261207-163005.gz", "x").ok());
  ASSERT_EQ(rotator.RotateLive(kNow), 0);
  EXPECT_EQ(Files(), (std::vector<std::string>{"0.log.20261207-163005.000000123", "0.log.20261207-163005.gz"}));
}

TEST_F(LogRotatorTest, MissingLiveFileIsAnErrorAndChangesNothing) {
  LogRotator rotator(log_.c_str(), 5);
  EXPECT_EQ(rotator.RotateLive(kNow), -ENOENT);
  EXPECT_EQ(rotator.rotated_count(), 0);
}

TEST_F(LogRotatorTest, PruneKeepsMaxFilesInAllAndCompressesAllButTheNewest) {
  LogRotator rotator(log_.c_str(), 3);
  for (int i = 0; i < 4; ++i) {
    WriteLive("line\n");
    ASSERT_EQ(rotator.RotateLive(kNow + int64_t{i} * 1000000000), 0);
    // Pretend an older one was compressed already.
    if (i == 0) {
      ASSERT_TRUE(AtomicWriteFile(log_ + ".20261207-163005.gz", "gz").ok());
    }
    rotator.Prune();
  }
  WriteLive("live\n");
  // Live + 2 rotated; the first two (and the .gz of the first) are gone.
  EXPECT_EQ(Files(), (std::vector<std::string>{"0.log", "0.log.20261207-163007", "0.log.20261207-163008"}));

  Text<4200> path;
  ASSERT_TRUE(rotator.StartCompression(&path));
  EXPECT_EQ(path.view(), log_ + ".20261207-163007");
  Text<4200> again;
  EXPECT_FALSE(rotator.StartCompression(&again));  // one at a time
  rotator.CompressionDone();
  EXPECT_FALSE(rotator.StartCompression(&again));  // the newest rotated stays plain
  WriteLive("more\n");
  ASSERT_EQ(rotator.RotateLive(kNow + int64_t{9} * 1000000000), 0);
  rotator.Prune();
  ASSERT_TRUE(rotator.StartCompression(&again));
  EXPECT_EQ(again.view(), log_ + ".20261207-163008");
}

}  // namespace
}  // namespace berth::shim
