#include "runtime-shim/shim/cri_log_framer.h"

#include "absl/strings/str_cat.h"
#include "common/time.h"

namespace berth::shim {

void CriLogFramer::Emit(absl::string_view content, bool partial, int64_t now, std::string* out) {
  absl::StrAppend(out, FormatRfc3339Nano(now), " ", stream_, partial ? " P " : " F ", content,
                  "\n");
}

void CriLogFramer::Append(absl::string_view data, int64_t now, std::string* out) {
  while (!data.empty()) {
    size_t newline = data.find('\n');
    size_t room = max_line_ - pending_.size();
    if (newline != absl::string_view::npos && newline <= room) {
      if (pending_.empty()) {
        Emit(data.substr(0, newline), false, now, out);
      } else {
        pending_.append(data.data(), newline);
        Emit(pending_, false, now, out);
        pending_.clear();
      }
      data.remove_prefix(newline + 1);
      continue;
    }
    if (data.size() < room) {
      pending_.append(data.data(), data.size());
      return;
    }
    // The line outgrows the maximum: emit a full-size partial chunk.
    pending_.append(data.data(), room);
    data.remove_prefix(room);
    Emit(pending_, true, now, out);
    pending_.clear();
  }
}

void CriLogFramer::Flush(int64_t now, std::string* out) {
  if (pending_.empty()) return;
  Emit(pending_, false, now, out);
  pending_.clear();
}

}  // namespace berth::shim
