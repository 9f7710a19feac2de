#include "hack/berth-cri/cri_log.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace berth::cri_cli {

absl::StatusOr<CriLogLine> ParseCriLogLine(absl::string_view line) {
  // Timestamp, stream and tags are the first three space-separated fields;
  // the content is the rest, spaces and all (it may be empty).
  std::vector<absl::string_view> fields = absl::StrSplit(line, absl::MaxSplits(' ', 3));
  if (fields.size() < 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("CRI log line \"", line, "\": expected <time> <stream> <tags> <content>"));
  }
  CriLogLine out;
  absl::Time time;
  std::string parse_error;
  if (!absl::ParseTime(absl::RFC3339_full, fields[0], &time, &parse_error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("CRI log line: timestamp \"", fields[0], "\" is not RFC 3339: ", parse_error));
  }
  out.timestamp = std::string(fields[0]);
  if (fields[1] == "stdout") {
    out.stream = LogStream::kStdout;
  } else if (fields[1] == "stderr") {
    out.stream = LogStream::kStderr;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("CRI log line: stream \"", fields[1], "\" is not stdout or stderr"));
  }
  bool full = false;
  for (absl::string_view tag : absl::StrSplit(fields[2], ':')) {
    if (tag == "P") out.partial = true;
    if (tag == "F") full = true;
  }
  if (out.partial == full) {
    return absl::InvalidArgumentError(
        absl::StrCat("CRI log line: tags \"", fields[2], "\" carry neither P nor F (or both)"));
  }
  if (fields.size() == 4) out.content = std::string(fields[3]);
  return out;
}

std::vector<LogMessage> CriLogDecoder::Feed(absl::string_view bytes) {
  std::vector<LogMessage> out;
  pending_bytes_.append(bytes.data(), bytes.size());
  size_t start = 0;
  for (size_t newline; (newline = pending_bytes_.find('\n', start)) != std::string::npos;
       start = newline + 1) {
    TakeLine(absl::string_view(pending_bytes_).substr(start, newline - start), &out);
  }
  pending_bytes_.erase(0, start);
  return out;
}

std::vector<LogMessage> CriLogDecoder::Finish() {
  std::vector<LogMessage> out;
  if (!pending_bytes_.empty()) {
    std::string last = std::move(pending_bytes_);
    pending_bytes_.clear();
    TakeLine(last, &out);  // an F line is complete even without its '\n'
  }
  for (int s = 0; s < 2; ++s) {
    Partial& partial = partial_[s];
    if (!partial.active) continue;
    out.push_back(LogMessage{partial.timestamp, static_cast<LogStream>(s), std::move(partial.text)});
    partial = Partial();
  }
  return out;
}

void CriLogDecoder::TakeLine(absl::string_view line, std::vector<LogMessage>* out) {
  absl::StatusOr<CriLogLine> parsed = ParseCriLogLine(line);
  if (!parsed.ok()) {
    ++malformed_lines_;
    out->push_back(LogMessage{"", LogStream::kStdout, absl::StrCat(line, "\n")});
    return;
  }
  Partial& partial = partial_[static_cast<int>(parsed->stream)];
  if (!partial.active) {
    partial.active = true;
    partial.timestamp = parsed->timestamp;
    partial.text.clear();
  }
  partial.text += parsed->content;
  if (parsed->partial) return;
  partial.text += '\n';
  out->push_back(LogMessage{partial.timestamp, parsed->stream, std::move(partial.text)});
  partial = Partial();
}

void KeepLast(std::vector<LogMessage>* messages, int64_t count) {
  if (count < 0 || static_cast<size_t>(count) >= messages->size()) return;
  messages->erase(messages->begin(), messages->end() - count);
}

}  // namespace berth::cri_cli
