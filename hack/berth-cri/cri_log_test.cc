#include "hack/berth-cri/cri_log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::cri_cli {
namespace {

using ::testing::HasSubstr;

constexpr char kTs[] = "2024-05-01T10:20:30.123456789Z";

std::string Line(const std::string& stream, const std::string& tag, const std::string& content) {
  return std::string(kTs) + " " + stream + " " + tag + " " + content + "\n";
}

TEST(CriLogTest, ParsesAFullLine) {
  auto line = ParseCriLogLine("2024-05-01T10:20:30.123456789Z stdout F hello  world ");
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->timestamp, "2024-05-01T10:20:30.123456789Z");
  EXPECT_EQ(line->stream, LogStream::kStdout);
  EXPECT_FALSE(line->partial);
  EXPECT_EQ(line->content, "hello  world ");
}

TEST(CriLogTest, ParsesPartialStderrAndEmptyContent) {
  auto line = ParseCriLogLine("2024-05-01T10:20:30+02:00 stderr P chunk");
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->stream, LogStream::kStderr);
  EXPECT_TRUE(line->partial);
  auto empty = ParseCriLogLine("2024-05-01T10:20:30Z stdout F ");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->content, "");
  auto bare = ParseCriLogLine("2024-05-01T10:20:30Z stdout F");
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(bare->content, "");
  auto tags = ParseCriLogLine("2024-05-01T10:20:30Z stdout P:x chunk");
  ASSERT_TRUE(tags.ok()) << tags.status();
  EXPECT_TRUE(tags->partial);
}

TEST(CriLogTest, RejectsMalformedLines) {
  EXPECT_THAT(std::string(ParseCriLogLine("hello").status().message()), HasSubstr("expected"));
  EXPECT_THAT(std::string(ParseCriLogLine("yesterday stdout F x").status().message()),
              HasSubstr("yesterday"));
  EXPECT_THAT(std::string(ParseCriLogLine("2024-05-01T10:20:30Z stdin F x").status().message()),
              HasSubstr("stdin"));
  EXPECT_THAT(std::string(ParseCriLogLine("2024-05-01T10:20:30Z stdout Q x").status().message()),
              HasSubstr("\"Q\""));
}

TEST(CriLogTest, JoinsPartialChunksPerStream) {
  CriLogDecoder decoder;
  auto messages = decoder.Feed(Line("stdout", "P", "hel") + Line("stderr", "F", "oops") +
                               Line("stdout", "P", "lo ") + Line("stdout", "F", "world"));
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].stream, LogStream::kStderr);
  EXPECT_EQ(messages[0].text, "oops\n");
  EXPECT_EQ(messages[1].stream, LogStream::kStdout);
  EXPECT_EQ(messages[1].text, "hello world\n");
  EXPECT_EQ(messages[1].timestamp, kTs);
  EXPECT_TRUE(decoder.Finish().empty());
}

TEST(CriLogTest, KeepsAnUnterminatedLineUntilItsRestArrives) {
  CriLogDecoder decoder;
  const std::string line = Line("stdout", "F", "split across reads");
  EXPECT_TRUE(decoder.Feed(line.substr(0, 20)).empty());
  auto messages = decoder.Feed(line.substr(20));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].text, "split across reads\n");
}

TEST(CriLogTest, FinishFlushesWhatIsPending) {
  CriLogDecoder decoder;
  EXPECT_TRUE(decoder.Feed(Line("stdout", "P", "never finished")).empty());
  std::string tail = Line("stderr", "F", "no newline");
  tail.pop_back();
  EXPECT_TRUE(decoder.Feed(tail).empty());
  auto messages = decoder.Finish();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].stream, LogStream::kStderr);
  EXPECT_EQ(messages[0].text, "no newline\n");
  EXPECT_EQ(messages[1].text, "never finished");
}

TEST(CriLogTest, PassesMalformedLinesThrough) {
  CriLogDecoder decoder;
  auto messages = decoder.Feed("not a cri line\n" + Line("stdout", "F", "ok"));
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].text, "not a cri line\n");
  EXPECT_EQ(messages[1].text, "ok\n");
  EXPECT_EQ(decoder.malformed_lines(), 1);
}

TEST(CriLogTest, KeepLastTrimsTheFront) {
  std::vector<LogMessage> messages(5);
  for (int i = 0; i < 5; ++i) messages[i].text = std::to_string(i);
  KeepLast(&messages, 2);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].text, "3");
  KeepLast(&messages, -1);
  EXPECT_EQ(messages.size(), 2u);
  KeepLast(&messages, 0);
  EXPECT_TRUE(messages.empty());
}

}  // namespace
}  // namespace berth::cri_cli
