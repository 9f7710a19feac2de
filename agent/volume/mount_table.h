// What is mounted where, from /proc/self/mountinfo, and unmounting every
// mount below a directory (deepest first), for pod volume teardown.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::agent::volume {

struct MountEntry {
  std::string mount_point;  // unescaped ("\040" -> " ")
  std::string fs_type;
  std::string source;
};

// The mount table of this process, in mount order.
absl::StatusOr<std::vector<MountEntry>> ReadMountTable();

// Parses mountinfo text (for tests).
std::vector<MountEntry> ParseMountInfo(const std::string& text);

// The entry mounted last at exactly `path`, if any.
absl::StatusOr<std::optional<MountEntry>> MountAt(const std::string& path);

// Detaches every mount at or below `dir` (lazily, MNT_DETACH), deepest and
// newest first; nothing mounted there is fine.
absl::Status UnmountUnder(const std::string& dir);

}  // namespace berth::agent::volume
