#include "runtime-shim/shim/cri_log_framer.h"

#include "gtest/gtest.h"

namespace berth::shim {
namespace {

// 2021-01-01T00:00:00.000000001Z
constexpr int64_t kNow = 1609459200000000001;
constexpr char kStamp[] = "2021-01-01T00:00:00.000000001Z";

std::string Line(const std::string& stream, const std::string& tag, const std::string& content) {
  return std::string(kStamp) + " " + stream + " " + tag + " " + content + "\n";
}

TEST(CriLogFramerTest, FullLinesDropTheirNewline) {
  CriLogFramer framer("stdout");
  std::string out;
  framer.Append("hello\nworld\n", kNow, &out);
  EXPECT_EQ(out, Line("stdout", "F", "hello") + Line("stdout", "F", "world"));
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(CriLogFramerTest, LineSplitAcrossReadsIsJoined) {
  CriLogFramer framer("stderr");
  std::string out;
  framer.Append("hel", kNow, &out);
  EXPECT_EQ(out, "");
  framer.Append("lo\nnext", kNow, &out);
  EXPECT_EQ(out, Line("stderr", "F", "hello"));
  EXPECT_EQ(framer.buffered(), 4u);
}

TEST(CriLogFramerTest, EmptyLineIsAFullEmptyEntry) {
  CriLogFramer framer("stdout");
  std::string out;
  framer.Append("\n", kNow, &out);
  EXPECT_EQ(out, Line("stdout", "F", ""));
}

TEST(CriLogFramerTest, LongLineBecomesPartialChunksThenFull) {
  CriLogFramer framer("stdout", 4);
  std::string out;
  framer.Append("abcdefghij\n", kNow, &out);
  EXPECT_EQ(out, Line("stdout", "P", "abcd") + Line("stdout", "P", "efgh") +
                     Line("stdout", "F", "ij"));
}

TEST(CriLogFramerTest, LineOfExactlyMaxIsFull) {
  CriLogFramer framer("stdout", 4);
  std::string out;
  framer.Append("abcd\n", kNow, &out);
  EXPECT_EQ(out, Line("stdout", "F", "abcd"));
}

TEST(CriLogFramerTest, PendingPlusNewDataRespectsMax) {
  CriLogFramer framer("stdout", 4);
  std::string out;
  framer.Append("ab", kNow, &out);
  framer.Append("cdef\n", kNow, &out);
  EXPECT_EQ(out, Line("stdout", "P", "abcd") + Line("stdout", "F", "ef"));
}

TEST(CriLogFramerTest, FlushWritesUnterminatedTailAsFull) {
  CriLogFramer framer("stdout");
  std::string out;
  framer.Append("no newline", kNow, &out);
  framer.Flush(kNow, &out);
  EXPECT_EQ(out, Line("stdout", "F", "no newline"));
  framer.Flush(kNow, &out);  // nothing left: no empty entry
  EXPECT_EQ(out, Line("stdout", "F", "no newline"));
}

TEST(CriLogFramerTest, DefaultMaxIs16KiB) {
  CriLogFramer framer("stdout");
  std::string out;
  framer.Append(std::string(kMaxLogLineSize + 1, 'x') + "\n", kNow, &out);
  EXPECT_EQ(out, Line("stdout", "P", std::string(kMaxLogLineSize, 'x')) +
                     Line("stdout", "F", "x"));
}

}  // namespace
}  // namespace berth::shim
