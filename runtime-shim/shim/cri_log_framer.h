// CRI container log framing: turns a byte stream into lines of
//   <RFC3339Nano UTC> <stream> <F|P> <content>\n
// F ends a line (content without its '\n'); P is a chunk of a line longer than
// the maximum, continued by the next P/F line of the same stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace berth::shim {

// containerd's default max_container_log_line_size.
inline constexpr size_t kMaxLogLineSize = 16 * 1024;

class CriLogFramer {
 public:
  // `stream` is "stdout" or "stderr".
  explicit CriLogFramer(std::string stream, size_t max_line = kMaxLogLineSize)
      : stream_(std::move(stream)), max_line_(max_line) {}

  // Appends framed lines for every complete line (and every max-size chunk)
  // in `data` to `out`; an unfinished tail stays buffered.
  void Append(absl::string_view data, int64_t now_unix_nanos, std::string* out);

  // At end of stream: the buffered tail becomes a full (F) line, as
  // containerd writes a final line that has no newline.
  void Flush(int64_t now_unix_nanos, std::string* out);

  size_t buffered() const { return pending_.size(); }

 private:
  void Emit(absl::string_view content, bool partial, int64_t now, std::string* out);

  std::string stream_;
  size_t max_line_;
  std::string pending_;
};

}  // namespace berth::shim
