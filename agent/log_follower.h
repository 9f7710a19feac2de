// LogFollower: reads a container's CRI log file and, when following, goes on
// across the shim's rotations without losing or repeating a line. The shim
// (runtime-shim/shim/log_rotator.h) renames the live `<dir>/<n>.log` to
// `<n>.log.<YYYYMMDD-hhmmss>[.<nanos>]` (older ones later gain `.gz`) and
// starts a new live file. The follower keeps the live file open (so its tail
// is read even after the rename), watches the directory with inotify, and on
// a rename finds the file it holds among the rotated ones by inode; any file
// rotated after it (names sort in rotation order once `.gz` is ignored) is
// read whole, plain or gzip, before the new live file. If it fell so far
// behind that its file was already compressed, it reads the rotated files
// after the last one it knows and skips lines not newer than the last
// timestamp it printed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::agent {

// One line of the CRI log format: `<RFC3339Nano> <stream> <P|F> <content>`.
struct CriLogLine {
  absl::string_view timestamp;
  absl::string_view stream;
  bool partial = false;  // P: continued by the next line of the same stream
  absl::string_view content;
};

// False for a line that is not in the CRI format.
bool ParseCriLogLine(absl::string_view line, CriLogLine* out);

// The rotated files of `live_path` (`<live>.<suffix>` and `<live>.<suffix>.gz`)
// in rotation order, oldest first, as full paths.
std::vector<std::string> ListRotatedLogs(const std::string& live_path);

// Sort key of a rotated file name: the name without a `.gz` suffix.
std::string RotatedLogKey(absl::string_view path);

class LogFollower {
 public:
  // `sink` gets each CRI line of the file(s), without its '\n', in order.
  LogFollower(std::string live_path, std::function<void(absl::string_view line)> sink);
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  // Opens the live file, starts watching its directory and emits what the
  // file holds now.
  absl::Status Start();

  // Handles the directory events queued now and emits what is new; never blocks.
  absl::Status Poll();

  // Readable when the directory changed: call Poll().
  int inotify_fd() const { return inotify_fd_; }

 private:
  absl::Status OpenLive();
  void DrainCurrent();
  // Emits every line of a whole file (gzip or plain); lines with a
  // timestamp <= `after` are skipped when `after` is set.
  absl::Status EmitWholeFile(const std::string& path, const std::string& after);
  void EmitLine(absl::string_view line, const std::string& after);

  std::string live_path_;
  std::function<void(absl::string_view)> sink_;
  int inotify_fd_ = -1;
  int fd_ = -1;       // the file being read (live when opened)
  ino_t ino_ = 0;
  std::string partial_;   // bytes after the last '\n' of fd_
  std::string last_key_;  // newest rotated file already read (or there at start)
  std::string last_timestamp_;
};

}  // namespace berth::agent
