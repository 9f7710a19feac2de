// Writes a set of files into a volume directory so that a reader sees all
// old or all new files, with the kubelet's AtomicWriter layout:
//
//   <dir>/..2024_05_01_10_00_00.123456789/   the files of one version
//   <dir>/..data -> ..2024_05_01_10_00_00.123456789
//   <dir>/<name> -> ..data/<name>            one per top-level name
//
// A new version is written beside the old one, `..data` is swapped by
// renaming a symlink over it, stale user-visible links are removed, then the
// old version. An unchanged payload writes nothing.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::agent::volume {

struct FileProjection {
  std::string data;
  mode_t mode = 0644;
  bool operator==(const FileProjection&) const = default;
};

// Relative path ("labels", "sub/dir/file") -> content and mode.
using Payload = std::map<std::string, FileProjection>;

// A payload path must be relative, non-empty, without ".." elements and not
// start with "..". The error names `field` and the path.
absl::Status ValidatePayloadPath(const std::string& path, const std::string& field);

// Writes `payload` into `dir` (created when missing). Returns whether
// anything changed.
absl::StatusOr<bool> WriteAtomicDir(const std::string& dir, const Payload& payload);

}  // namespace berth::agent::volume
