// How berth-cri shows things in tables: aligned columns, "2 minutes ago",
// "4.26MB", short ids, image names split into repository and tag. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace berth::cri_cli {

// Columns padded to the widest cell plus three spaces; the last column is
// not padded. Rows shorter than the header get empty cells.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Docker's wording: "Less than a second", "1 second", "5 seconds", "About a
// minute", "3 minutes", "About an hour", "5 hours", "3 days", "2 weeks",
// "4 months", "2 years".
std::string HumanDuration(absl::Duration duration);

// "N ago" for a CRI timestamp (nanoseconds since the epoch) seen at `now`.
std::string HumanAgo(int64_t unix_nanos, absl::Time now);

// Decimal units with four significant digits: "512B", "4.26MB", "1.2GB".
std::string HumanSize(uint64_t bytes);

// The first 13 characters of an id, after any "sha256:" prefix, unless
// `full`; then the id without changes.
std::string ShortId(const std::string& id, bool full = false);

// "docker.io/library/busybox:latest" -> {"docker.io/library/busybox", "latest"};
// "a/b@sha256:..." -> {"a/b", "<none>"}; no tag -> {name, "<none>"}.
std::pair<std::string, std::string> SplitRepoTag(const std::string& ref);

}  // namespace berth::cri_cli
