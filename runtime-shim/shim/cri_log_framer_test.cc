#include "runtime-shim/shim/cri_log_framer.h"

#include <string>

#include "common/time.h"
#include "gtest/gtest.h"

namespace berth::shim {
namespace {

// 2021-01-01T00:00:00.000000001Z
constexpr int64_t kNow = 1609459200000000001;
constexpr char kStamp[] = "2021-01-01T00:00:00.000000001Z";

std::string Line(const std::string& stream, const std::string& tag, const std::string& content) {
  return std::string(kStamp) + " " + stream + " " + tag + " " + content + "\n";
}

// A framer that appends what it emits to `out`.
class Framer {
 public:
  explicit Framer(const char* stream, size_t max_line = kMaxLogLineSize)
      : buffer_(max_line, '\0'), framer_(stream, buffer_.data(), max_line, &Framer::Sink, this) {}
  void Append(std::string_view data, int64_t now, std::string* out) {
    out_ = out;
    framer_.Append(data, now);
  }
  void Flush(int64_t now, std::string* out) {
    out_ = out;
    framer_.Flush(now);
  }
  size_t buffered() const { return framer_.buffered(); }

 private:
  static void Sink(void* context, std::string_view prefix, std::string_view content) {
    std::string* out = static_cast<Framer*>(context)->out_;
    out->append(prefix);
    out->append(content);
    out->push_back('\n');
  }
  std::string buffer_;
  CriLogFramer framer_;
  std::string* out_ = nullptr;
};

TEST(CriTimestampTest, MatchesRfc3339Nano) {
  for (int64_t nanos : {int64_t{0}, kNow, int64_t{951782400123456789} /* 2000-02-29 */,
                        int64_t{4107542399999999999} /* 2100-02-28T23:59:59 */,
                        int64_t{1709251199000000000}, int64_t{9223372036854775807}}) {
    char out[kCriTimestampSize];
    FormatCriTimestamp(nanos, out);
    EXPECT_EQ(std::string(out, kCriTimestampSize), FormatRfc3339Nano(nanos)) << nanos;
  }
}

TEST(CriTimestampTest, BeforeTheEpoch) {
  char out[kCriTimestampSize];
  FormatCriTimestamp(-1, out);
  EXPECT_EQ(std::string(out, kCriTimestampSize), "1969-12-31T23:59:59.999999999Z");
  FormatCriTimestamp(-86400000000001, out);
  EXPECT_EQ(std::string(out, kCriTimestampSize), "1969-12-30T23:59:59.999999999Z");
}

TEST(CriLogFramerTest, FullLinesDropTheirNewline) {
  Framer framer("stdout");
  std::string out;
  framer.Append("hello\nworld\n", kNow, &out);
  EXPECT_EQ(out, Line("stdout", "F", "hello") + Line("stdout", "F", "world"));
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(CriLogFramerTest, LineSplitAcrossReadsIsJoined) {
  Framer framer("stderr");
  std::string out;
  framer.Append("hel", kNow, &out);
  EXPECT_EQ(out, "");
  framer.Append("lo\nnext", kNow, &out);
  EXPECT_EQ(out, Line("stderr", "F", "hello"));
  EXPECT_EQ(framer.buffered(), 4u);
}

TEST(CriLogFramerTest, EmptyLineIsAFullEmptyEntry) {
  Framer framer("stdout");
  std::string out;
  framer.Append("\n", kNow, &out);
  EXPECT_EQ(out, Line("stdout", "F", ""));
}

TEST(CriLogFramerTest, LongLineBecomesPartialChunksThenFull) {
  Framer framer("stdout", 4);
  std::string out;
  framer.Append("abcdefghij\n", kNow, &out);
  EXPECT_EQ(out, Line("stdout", "P", "abcd") + Line("stdout", "P", "efgh") +
                     Line("stdout", "F", "ij"));
}

TEST(CriLogFramerTest, LineOfExactlyMaxIsFull) {
  Framer framer("stdout", 4);
  std::string out;
  framer.Append("abcd\n", kNow, &out);
  EXPECT_EQ(out, Line("stdout", "F", "abcd"));
}

TEST(CriLogFramerTest, PendingPlusNewDataRespectsMax) {
  Framer framer("stdout", 4);
  std::string out;
  framer.Append("ab", kNow, &out);
  framer.Append("cdef\n", kNow, &out);
  EXPECT_EQ(out, Line("stdout", "P", "abcd") + Line("stdout", "F", "ef"));
}

TEST(CriLogFramerTest, FlushWritesUnterminatedTailAsFull) {
  Framer framer("stdout");
  std::string out;
  framer.Append("no newline", kNow, &out);
  framer.Flush(kNow, &out);
  EXPECT_EQ(out, Line("stdout", "F", "no newline"));
  framer.Flush(kNow, &out);  // nothing left: no empty entry
  EXPECT_EQ(out, Line("stdout", "F", "no newline"));
}

TEST(CriLogFramerTest, DefaultMaxIs16KiB) {
  Framer framer("stdout");
  std::string out;
  framer.Append(std::string(kMaxLogLineSize + 1, 'x') + "\n", kNow, &out);
  EXPECT_EQ(out, Line("stdout", "P", std::string(kMaxLogLineSize, 'x')) +
                     Line("stdout", "F", "x"));
}

}  // namespace
}  // namespace berth::shim
