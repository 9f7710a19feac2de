#include "hack/berth-cri/display.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace berth::cri_cli {

std::string Table::Render() const {
  const size_t columns = rows_.front().size();
  std::vector<size_t> width(columns, 0);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < columns && c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t c = 0; c < columns; ++c) {
      const std::string cell = c < row.size() ? row[c] : "";
      line += cell;
      if (c + 1 < columns) line.append(width[c] - cell.size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string HumanDuration(absl::Duration duration) {
  const int64_t seconds = absl::ToInt64Seconds(duration);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return absl::StrCat(seconds, " seconds");
  const int64_t minutes = absl::ToInt64Minutes(duration);
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return absl::StrCat(minutes, " minutes");
  const int64_t hours = static_cast<int64_t>(std::round(absl::ToDoubleHours(duration)));
  if (hours == 1) return "About an hour";
  if (hours < 48) return absl::StrCat(hours, " hours");
  if (hours < 24 * 7 * 2) return absl::StrCat(hours / 24, " days");
  if (hours < 24 * 30 * 2) return absl::StrCat(hours / (24 * 7), " weeks");
  if (hours < 24 * 365 * 2) return absl::StrCat(hours / (24 * 30), " months");
  return absl::StrCat(hours / (24 * 365), " years");
}

std::string HumanAgo(int64_t unix_nanos, absl::Time now) {
  if (unix_nanos <= 0) return "";
  return HumanDuration(now - absl::FromUnixNanos(unix_nanos)) + " ago";
}

std::string HumanSize(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1000.0 && unit + 1 < sizeof(kUnits) / sizeof(kUnits[0])) {
    value /= 1000.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g%s", value, kUnits[unit]);
  return buf;
}

std::string ShortId(const std::string& id, bool full) {
  if (full) return id;
  std::string bare = absl::StartsWith(id, "sha256:") ? id.substr(7) : id;
  return bare.substr(0, 13);
}

std::pair<std::string, std::string> SplitRepoTag(const std::string& ref) {
  std::string name = ref;
  if (auto at = name.find('@'); at != std::string::npos) name = name.substr(0, at);
  const size_t slash = name.rfind('/');
  const size_t colon = name.rfind(':');
  // A colon before the last slash is a registry port ("host:5000/x").
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) {
    return {name, "<none>"};
  }
  return {name.substr(0, colon), name.substr(colon + 1)};
}

}  // namespace berth::cri_cli
