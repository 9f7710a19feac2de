// `berth-agent logs POD [-n NS] [-c CONTAINER] [-f] [--tail N] [-p|--previous]
//  [--timestamps] [--pod-logs-dir DIR] [--state-dir DIR]`: a container's log as `kubectl logs`
// prints it (the messages of the CRI log lines; with --timestamps each line
// starts with its RFC 3339 time). The log is found under the pod logs dir
// (`<dir>/<ns>_<pod>_<uid>/<container>/<restart>.log`, the newest pod of that
// name; the highest restart number, or the one before it with --previous).
// -f follows the file across the shim's rotations (log_follower.h) until
// the container writing it exits (container_exit_watch.h, found in
// --state-dir), then ends with 0, as `kubectl logs -f` does; it never moves
// on to a restart's new file. A log no container in the state dir writes
// (a removed container's, or another runtime's) is followed until interrupted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::agent {

struct LogsOptions {
  std::string pod;
  std::string ns = "default";
  std::string container;  // empty: the pod's only container
  bool follow = false;
  bool previous = false;
  bool timestamps = false;
  int64_t tail = -1;  // -1: all
  std::string pod_logs_dir = "/var/log/pods";
  std::string state_dir = "/var/lib/berth";  // the runtime's: where -f learns that the container exited
};

// Parses the words after `logs`; bad input names the flag and value.
absl::StatusOr<LogsOptions> ParseLogsArgs(const std::vector<std::string>& args);

// The log file to print for `options`.
absl::StatusOr<std::string> FindContainerLog(const LogsOptions& options);

// Turns CRI log lines into what `kubectl logs` prints.
class LogPrinter {
 public:
  explicit LogPrinter(bool timestamps) : timestamps_(timestamps) {}
  // Appends the printed form of one CRI line (no '\n') to `out`.
  void Append(const std::string& line, std::string* out);

 private:
  bool timestamps_;
  bool at_line_start_ = true;
};

// The index of the first of the last `n` messages (F-terminated runs of lines) in `lines`.
size_t TailStart(const std::vector<std::string>& lines, int64_t n);

// The whole command; returns the exit code.
int RunLogsCommand(const std::vector<std::string>& args);

}  // namespace berth::agent
