#include "runtime-shim/shim/log_rotator.h"

#include "runtime-shim/shim/cri_log_framer.h"
#include "runtime-shim/shim/raw_syscalls.h"

namespace berth::shim {

void AppendRotationSuffix(int64_t unix_nanos, bool with_nanos, TextSpan* out) {
  // "2006-01-02T15:04:05.123456789Z" -> "20060102-150405[.123456789]"
  char t[kCriTimestampSize];
  FormatCriTimestamp(unix_nanos, t);
  out->Append(std::string_view(t, 4)).Append(std::string_view(t + 5, 2));
  out->Append(std::string_view(t + 8, 2)).Append('-');
  out->Append(std::string_view(t + 11, 2)).Append(std::string_view(t + 14, 2));
  out->Append(std::string_view(t + 17, 2));
  if (with_nanos) out->Append(std::string_view(t + 19, 10));
}

namespace {

// a > b, comparing bytes (b is NUL-terminated).
bool After(std::string_view a, const char* b) {
  size_t i = 0;
  for (; i < a.size() && b[i] != '\0'; ++i) {
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) > static_cast<unsigned char>(b[i]);
  }
  return i < a.size() && b[i] == '\0';
}

}  // namespace

LogRotator::LogRotator(const char* path, int max_files)
    : path_(path), max_rotated_(max_files - 1 < kMaxRotated ? max_files - 1 : kMaxRotated) {
  if (max_rotated_ < 1) max_rotated_ = 1;
}

void LogRotator::AppendPath(const Entry& entry, bool gz, TextSpan* out) const {
  out->Append(path_).Append('.').Append(entry.suffix);
  if (gz) out->Append(".gz");
}

long LogRotator::RotateLive(int64_t now) {
  if (count_ == kMaxRotated) {
    // Only when max_files was capped: forget (delete) the oldest first.
    int keep = max_rotated_;
    max_rotated_ = kMaxRotated - 1;
    Prune();
    max_rotated_ = keep;
  }
  Entry entry = {};
  long result = -EEXIST;
  for (int attempt = 0; attempt < 100 && result == -EEXIST; ++attempt) {
    // The kubelet's name first; when taken, the same instant with its
    // nanoseconds (then one more nanosecond per try).
    TextSpan suffix(entry.suffix, sizeof(entry.suffix));
    AppendRotationSuffix(now + (attempt > 0 ? attempt - 1 : 0), attempt > 0, &suffix);
    suffix.CStr();
    // Names must sort after the newest rotated one: after pruning, the
    // plain name of this second may be free again but would sort first.
    if (count_ > 0 && !After(suffix.view(), entries_[count_ - 1].suffix)) continue;
    // A name is taken when the plain or the compressed file exists.
    TextSpan gz(to_, sizeof(to_));
    AppendPath(entry, true, &gz);
    if (sys::Exists(gz.CStr()) == 0) continue;
    TextSpan to(to_, sizeof(to_));
    AppendPath(entry, false, &to);
    result = sys::RenameNoReplace(path_, to.CStr());
  }
  if (result != 0) return result;
  entries_[count_++] = entry;
  return 0;
}

void LogRotator::Prune() {
  int excess = count_ - max_rotated_;
  if (excess <= 0) return;
  for (int i = 0; i < excess; ++i) {
    for (bool gz : {false, true}) {
      TextSpan p(from_, sizeof(from_));
      AppendPath(entries_[i], gz, &p);
      sys::Unlink(p.CStr());
    }
    // A helper compressing it finds its source gone and removes what it
    // wrote; it still counts as running until CompressionDone().
  }
  for (int i = excess; i < count_; ++i) entries_[i - excess] = entries_[i];
  count_ -= excess;
}

bool LogRotator::StartCompression(TextSpan* path) {
  if (compressing_) return false;
  for (int i = 0; i + 1 < count_; ++i) {
    if (entries_[i].compressed) continue;
    entries_[i].compressing = true;
    compressing_ = true;
    AppendPath(entries_[i], false, path);
    return true;
  }
  return false;
}

void LogRotator::CompressionDone() {
  for (int i = 0; i < count_; ++i) {
    if (!entries_[i].compressing) continue;
    entries_[i].compressing = false;
    entries_[i].compressed = true;
  }
  compressing_ = false;
}

}  // namespace berth::shim
