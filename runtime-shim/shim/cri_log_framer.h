// CRI container log framing: turns a byte stream into lines of
//   <RFC3339Nano UTC> <stream> <F|P> <content>\n
// F ends a line (content without its '\n'); P is a chunk of a line longer than
// the maximum, continued by the next P/F line of the same stream.
// No allocation and no libc: berth-shim-monitor links it without libc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace berth::shim {

// containerd's default max_container_log_line_size.
inline constexpr size_t kMaxLogLineSize = 16 * 1024;

// "2006-01-02T15:04:05.000000000Z": always this many characters.
inline constexpr size_t kCriTimestampSize = 30;

// Writes the RFC 3339 UTC timestamp with nanoseconds of `unix_nanos` to `out`
// (kCriTimestampSize characters, no NUL).
void FormatCriTimestamp(int64_t unix_nanos, char* out);

// Receives one framed line in two pieces: `prefix` ("<time> <stream> <F|P> ")
// and `content`; the sink adds the final '\n'.
using CriLogSink = void (*)(void* context, std::string_view prefix, std::string_view content);

class CriLogFramer {
 public:
  // `stream` is "stdout" or "stderr" (must outlive the framer); `buffer`
  // holds an unfinished line, `max_line` bytes.
  CriLogFramer(const char* stream, char* buffer, size_t max_line, CriLogSink sink, void* context);

  // Emits every complete line (and every max-size chunk) in `data`; an
  // unfinished tail stays buffered.
  void Append(std::string_view data, int64_t now_unix_nanos);

  // At end of stream: the buffered tail becomes a full (F) line, as
  // containerd writes a final line that has no newline.
  void Flush(int64_t now_unix_nanos);

  size_t buffered() const { return pending_size_; }

 private:
  void Emit(std::string_view content, bool partial, int64_t now);
  void Buffer(const char* data, size_t n);

  const char* stream_;
  char* pending_;
  size_t max_line_;
  size_t pending_size_ = 0;
  CriLogSink sink_;
  void* context_;
};

}  // namespace berth::shim
