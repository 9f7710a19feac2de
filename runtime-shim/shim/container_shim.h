// The shim's setup half for one container: creates the container init, then
// execs berth-shim-monitor, which serves the control socket, writes the CRI
// log and records the exit (monitor_main.cc).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "runtime-shim/shim/fd.h"
#include "runtime-shim/spec/container_spec.h"

namespace berth::shim {

class ContainerShim {
 public:
  // Must already run with the bundle as cwd (all bundle files are relative).
  ContainerShim() = default;

  // Reads config.json, sets up stdio and clones the init, and returns once
  // the init is set up and waiting for `start` (or failed: then no process
  // is left). Writes shim.pid and init.pid, and listens on shim.sock and
  // attach.sock.
  absl::Status Create();
  pid_t init_pid() const { return init_pid_; }

  // After Create() and the "ok": execs berth-shim-monitor with the fds and
  // state. Returns only on failure, having recorded it in exit.json
  // (StartError) and killed and reaped the init.
  void HandOff(const std::string& bundle);

  // After a failure: kills and reaps the init if there is one, removes shim.sock.
  void Abort();

 private:
  absl::Status SetupStdio(UniqueFd* child_in, UniqueFd* child_out, UniqueFd* child_err);
  absl::Status OpenLog();
  absl::Status Listen();

  ContainerSpec spec_;
  pid_t init_pid_ = -1;
  int64_t oom_kills_at_create_ = -1;

  UniqueFd log_fd_;
  UniqueFd outputs_[2];    // stdout (or the pty master), stderr
  UniqueFd stdin_writer_;  // kept open so the container's stdin does not hit EOF
  UniqueFd sync_reader_;
  UniqueFd start_writer_;
  UniqueFd listener_;
  UniqueFd attach_listener_;  // attach.sock
  std::string monitor_path_;
  UniqueFd monitor_;  // O_PATH
};

// `berth-shim create`: the whole command, with fd 3 as the ready pipe.
int RunCreateCommand(const std::string& bundle);

}  // namespace berth::shim
