// Size-based rotation of a container's CRI log, done by berth-shim-monitor as
// it writes (so a log never passes its limit): the live file `<path>` is
// renamed to `<path>.<YYYYMMDD-hhmmss>` (the kubelet's name for rotated
// files; when that name is taken, by a second rotation within the same
// second, `.<nanoseconds, 9 digits>` is added so that names still sort in
// rotation order once a `.gz` suffix is ignored), at most `max_files` files
// are kept in all (the live one included; the oldest rotated go first), and
// every rotated file but the newest is compressed to `<name>.gz` by a helper
// process (`berth-shim compress-log`), one at a time.
// No allocation and no libc: the monitor links it without libc.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime-shim/shim/small_text.h"

namespace berth::shim {

// "20060102-150405" (with_nanos: "20060102-150405.000000000") of `unix_nanos`, UTC.
void AppendRotationSuffix(int64_t unix_nanos, bool with_nanos, TextSpan* out);

class LogRotator {
 public:
  // Rotated files remembered (and so kept) at most: max_files is capped at this + 1.
  static constexpr int kMaxRotated = 64;

  // `path` (the live log) must outlive the rotator; `max_files` >= 2.
  LogRotator(const char* path, int max_files);

  // Renames the live log to its rotated name; 0 or -errno (nothing changed).
  // The caller reopens `path` afterwards.
  long RotateLive(int64_t now_unix_nanos);

  // Deletes the oldest rotated files (plain and .gz) beyond max_files - 1.
  void Prune();

  // The next rotated file to compress (the oldest uncompressed one that is not
  // the newest): true with its path in `path`, and marks it in progress.
  // False while a compression runs or when there is nothing to do.
  bool StartCompression(TextSpan* path);

  // The compression started last has ended (whatever its outcome).
  void CompressionDone();

  int rotated_count() const { return count_; }
  // The rotated file names' suffixes, oldest first (for tests).
  const char* suffix(int i) const { return entries_[i].suffix; }

 private:
  struct Entry {
    char suffix[32];
    bool compressed;
    bool compressing;
  };
  void AppendPath(const Entry& entry, bool gz, TextSpan* out) const;

  const char* path_;
  int max_rotated_;
  int count_ = 0;
  bool compressing_ = false;
  Entry entries_[kMaxRotated];
  char from_[4096 + 64];
  char to_[4096 + 64];
};

}  // namespace berth::shim
