// The long-running shim for one container: creates the container init,
// serves the control socket, writes the CRI log and records the exit.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "runtime-shim/shim/control_command.h"
#include "runtime-shim/shim/cri_log_framer.h"
#include "runtime-shim/shim/fd.h"
#include "runtime-shim/spec/container_spec.h"

namespace berth::shim {

class ContainerShim {
 public:
  // Must already run with the bundle as cwd (all bundle files are relative).
  ContainerShim() = default;

  // Reads config.json, sets up stdio and clones the init, and returns once
  // the init is set up and waiting for `start` (or failed: then no process
  // is left). Writes shim.pid and init.pid, and listens on shim.sock.
  absl::Status Create();
  pid_t init_pid() const { return init_pid_; }

  // The event loop; returns the shim's exit code after `shutdown`.
  int Serve();

 private:
  enum class State { kCreated, kRunning, kExited };
  struct Output {
    UniqueFd fd;
    std::unique_ptr<CriLogFramer> framer;
  };

  absl::Status SetupStdio(UniqueFd* child_in, UniqueFd* child_out, UniqueFd* child_err);
  absl::Status OpenLog();
  absl::Status Listen();
  void HandleConnection(int fd);
  std::string Execute(const ControlCommand& command);
  std::string Start();
  void ReapChildren();
  void RecordExit(int wait_status);
  void RecordStartError(const std::string& message);
  void WriteExitRecord(const ExitRecord& record);
  // Reads what `out` has now; false once it reached EOF (and was closed).
  bool PumpOutput(Output* out);
  void DrainOutputs();
  void WriteLog(const std::string& framed);

  ContainerSpec spec_;
  State state_ = State::kCreated;
  pid_t init_pid_ = -1;
  int64_t started_at_ = 0;
  int64_t oom_kills_at_create_ = -1;
  int exit_code_ = 0;
  bool shutdown_ = false;

  UniqueFd log_fd_;
  Output outputs_[2];  // stdout (or the pty master), stderr
  UniqueFd stdin_writer_;  // kept open so the container's stdin does not hit EOF
  UniqueFd sync_reader_;
  UniqueFd start_writer_;
  UniqueFd listener_;
  UniqueFd signal_fd_;
  UniqueFd epoll_fd_;
};

// `berth-shim create`: the whole command, with fd 3 as the ready pipe.
int RunCreateCommand(const std::string& bundle);

}  // namespace berth::shim
