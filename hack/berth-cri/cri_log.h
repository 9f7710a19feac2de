// Reading the CRI container log format, as the shim writes it:
//
//   <RFC3339Nano timestamp> <stdout|stderr> <tags> <content>\n
//
// where tags is "F" (the line is complete) or "P" (a partial chunk of a
// longer line; the next chunks of the same stream follow), possibly with more
// ':'-separated tags. Pure: bytes in, messages out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::cri_cli {

enum class LogStream { kStdout, kStderr };

struct CriLogLine {
  std::string timestamp;
  LogStream stream = LogStream::kStdout;
  bool partial = false;
  std::string content;
};

// Parses one line (without its '\n'). Errors say what is wrong with it.
absl::StatusOr<CriLogLine> ParseCriLogLine(absl::string_view line);

// One line of the container's output, P chunks joined: `text` ends with '\n'
// unless the log ended in the middle of a line.
struct LogMessage {
  std::string timestamp;  // of the message's first chunk
  LogStream stream = LogStream::kStdout;
  std::string text;
};

// Turns the bytes of a CRI log file, fed in any pieces, into messages.
// A line that is not in the CRI format is passed on as stdout text, so
// nothing in the file is lost.
class CriLogDecoder {
 public:
  // The messages completed by `bytes`. An unterminated last line is kept
  // until the rest of it arrives.
  std::vector<LogMessage> Feed(absl::string_view bytes);

  // At the end of the input: an unterminated last line and P chunks that
  // never got their F, as messages (without a final '\n').
  std::vector<LogMessage> Finish();

  // How many lines were not in the CRI format.
  int malformed_lines() const { return malformed_lines_; }

 private:
  void TakeLine(absl::string_view line, std::vector<LogMessage>* out);

  std::string pending_bytes_;
  struct Partial {
    bool active = false;
    std::string timestamp;
    std::string text;
  };
  Partial partial_[2];  // by LogStream
  int malformed_lines_ = 0;
};

// Keeps only the last `count` messages (count < 0: all).
void KeepLast(std::vector<LogMessage>* messages, int64_t count);

}  // namespace berth::cri_cli
