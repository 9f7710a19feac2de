#include "agent/log_follower.h"

#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/fs.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

// A synthetic shim: appends numbered CRI lines to the live file and rotates
// it the way the shim does (rename to <live>.<suffix>, new live file).
class FakeShim {
 public:
  explicit FakeShim(std::string live) : live_(std::move(live)) {}
  void Write(int count) {
    std::string data;
    for (int i = 0; i < count; ++i, ++next_) {
      // Whole batches share one timestamp, as one read of the shim does.
      absl::StrAppend(&data, absl::StrFormat("2026-12-07T16:30:%02d.%09dZ stdout F line %d\n", second_, batch_, next_));
    }
    ++batch_;
    FILE* f = fopen(live_.c_str(), "a");
    fwrite(data.data(), 1, data.size(), f);
    fclose(f);
  }
  // Rotates; `compress` gzips the rotated file (as the shim does to older ones).
  std::string Rotate(bool compress = false) {
    std::string rotated = absl::StrFormat("%s.20261207-1630%02d", live_, second_++);
    EXPECT_EQ(rename(live_.c_str(), rotated.c_str()), 0);
    FILE* f = fopen(live_.c_str(), "a");
    fclose(f);
    if (compress) Gzip(rotated);
    return rotated;
  }
  static void Gzip(const std::string& path) {
    std::string content = *ReadFile(path);
    gzFile gz = gzopen((path + ".gz").c_str(), "wb");
    gzwrite(gz, content.data(), static_cast<unsigned>(content.size()));
    gzclose(gz);
    unlink(path.c_str());
  }
  int written() const { return next_; }

 private:
  std::string live_;
  int next_ = 0;
  int second_ = 10;
  int batch_ = 0;
};

class LogFollowerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-follow-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    live_ = dir_ + "/0.log";
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).ok()); }

  // Every line seen must be the next number: none lost, none repeated.
  void ExpectAllOnce(int count) {
    ASSERT_EQ(static_cast<int>(seen_.size()), count);
    for (int i = 0; i < count; ++i) {
      EXPECT_TRUE(absl::EndsWith(seen_[i], absl::StrCat(" F line ", i))) << i << ": " << seen_[i];
    }
  }
  std::unique_ptr<LogFollower> Follower() {
    return std::make_unique<LogFollower>(live_, [this](absl::string_view line) { seen_.emplace_back(line); });
  }

  std::string dir_, live_;
  std::vector<std::string> seen_;
};

TEST(CriLogLineTest, Parses) {
  CriLogLine line;
  ASSERT_TRUE(ParseCriLogLine("2026-12-07T16:30:05.000000001Z stderr P part", &line));
  EXPECT_EQ(line.timestamp, "2026-12-07T16:30:05.000000001Z");
  EXPECT_EQ(line.stream, "stderr");
  EXPECT_TRUE(line.partial);
  EXPECT_EQ(line.content, "part");
  ASSERT_TRUE(ParseCriLogLine("2026-12-07T16:30:05.000000001Z stdout F", &line));
  EXPECT_EQ(line.content, "");
  EXPECT_FALSE(ParseCriLogLine("hello world", &line));
  EXPECT_FALSE(ParseCriLogLine("t stdout X y", &line));
}

TEST_F(LogFollowerTest, ListsRotatedInRotationOrderIgnoringGzAndTemp) {
  for (const char* name : {"0.log", "0.log.20261207-163010.gz", "0.log.20261207-163010.000000005",
                           "0.log.20261207-163011", ".0.log.20261207-163011.gz.tmp", "1.log"}) {
    ASSERT_TRUE(AtomicWriteFile(dir_ + "/" + name, "x").ok());
  }
  EXPECT_EQ(ListRotatedLogs(live_), (std::vector<std::string>{live_ + ".20261207-163010.gz",
                                                              live_ + ".20261207-163010.000000005",
                                                              live_ + ".20261207-163011"}));
}

TEST_F(LogFollowerTest, StartsWithTheLiveFileOnly) {
  FakeShim shim(live_);
  shim.Write(3);
  shim.Rotate();
  shim.Write(2);
  auto follower = Follower();
  ASSERT_TRUE(follower->Start().ok());
  ASSERT_EQ(seen_.size(), 2u);
  EXPECT_TRUE(absl::EndsWith(seen_[0], "line 3"));
}

TEST_F(LogFollowerTest, FollowsAcrossRotationsExactlyOnce) {
  FakeShim shim(live_);
  shim.Write(5);
  auto follower = Follower();
  ASSERT_TRUE(follower->Start().ok());
  // One rotation at a time, a poll after each step.
  shim.Write(5);
  ASSERT_TRUE(follower->Poll().ok());
  shim.Write(5);
  shim.Rotate();
  ASSERT_TRUE(follower->Poll().ok());
  shim.Write(5);
  ASSERT_TRUE(follower->Poll().ok());
  // Several rotations between two polls; the one in the middle already gzipped.
  shim.Write(5);
  shim.Rotate();
  shim.Write(5);
  shim.Rotate(/*compress=*/true);
  shim.Write(5);
  shim.Rotate();
  shim.Write(5);
  ASSERT_TRUE(follower->Poll().ok());
  ASSERT_TRUE(follower->Poll().ok());  // nothing new: nothing repeated
  ExpectAllOnce(shim.written());
}

TEST_F(LogFollowerTest, FallsBackToTimestampsWhenItsFileWasCompressed) {
  FakeShim shim(live_);
  shim.Write(4);
  auto follower = Follower();
  ASSERT_TRUE(follower->Start().ok());
  shim.Write(4);
  shim.Rotate();
  shim.Write(4);
  // Ours is compressed by now (two rotations behind).
  shim.Rotate();
  FakeShim::Gzip(ListRotatedLogs(live_)[0]);
  shim.Write(4);
  ASSERT_TRUE(follower->Poll().ok());
  ExpectAllOnce(shim.written());
}

TEST_F(LogFollowerTest, WaitsForTheNewLiveFile) {
  FakeShim shim(live_);
  shim.Write(2);
  auto follower = Follower();
  ASSERT_TRUE(follower->Start().ok());
  shim.Write(2);
  ASSERT_EQ(rename(live_.c_str(), (live_ + ".20261207-163010").c_str()), 0);
  ASSERT_TRUE(follower->Poll().ok());  // renamed, no new file yet
  EXPECT_EQ(seen_.size(), 4u);
  shim.Write(3);  // creates the new live file
  ASSERT_TRUE(follower->Poll().ok());
  ExpectAllOnce(7);
}

TEST_F(LogFollowerTest, MissingLogIsNotFound) {
  auto follower = Follower();
  absl::Status status = follower->Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find(live_), std::string::npos);
}

}  // namespace
}  // namespace berth::agent
