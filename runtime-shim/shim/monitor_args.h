// What berth-shim hands to berth-shim-monitor when it execs it after setup:
// the fds it keeps (all without CLOEXEC across the exec) and the state.
//   berth-shim-monitor --bundle DIR --init-pid N --oom-kills-at-create N
//       --listen-fd N --start-fd N --sync-fd N --stdout-fd N
//       [--stderr-fd N] [--stdin-fd N] [--log-fd N] [--log PATH]
//       [--memory-cgroup DIR] [--attach-fd N] [--tty 0|1] [--stdin-once 0|1]
//       [--log-max-size BYTES] [--log-max-files N] [--shim PATH]
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime-shim/shim/small_text.h"

namespace berth::shim {

// The monitor's file name; berth-shim finds it next to its own executable.
inline constexpr char kMonitorName[] = "berth-shim-monitor";

struct MonitorArgs {
  const char* bundle = "";             // for ps and the bench; the cwd already is the bundle
  pid_t init_pid = -1;                 // the container init, waiting for `start`
  int64_t oom_kills_at_create = -1;    // memory cgroup's oom_kill count at create
  int listen_fd = -1;                  // shim.sock, listening
  int start_fd = -1;                   // write end of the init's start pipe
  int sync_fd = -1;                    // read end of the init's exec-result pipe
  int stdout_fd = -1;                  // stdout pipe read end, or the pty master (O_NONBLOCK)
  int stderr_fd = -1;                  // stderr pipe read end, O_NONBLOCK (none with a tty)
  int stdin_fd = -1;                   // stdin pipe write end, kept open (spec.stdin);
                                       // with a tty, a dup of the pty master
  int log_fd = -1;                     // the CRI log, open O_APPEND (none without log_path)
  const char* log_path = "";           // to reopen on `reopen-log`
  const char* memory_cgroup_dir = "";  // where the OOM kill count is read at exit
  int attach_fd = -1;                  // attach.sock, listening (attach_protocol.h)
  bool tty = false;                    // stdout_fd is a pty master (resize applies to it)
  bool stdin_once = false;             // an attach client's close-stdin closes stdin_fd
  int64_t log_max_size = 0;            // rotate before the log passes this (0: never)
  int log_max_files = 0;               // files kept in all, the live one included (>= 2)
  const char* shim_path = "";          // berth-shim, run as `compress-log FILE` after rotations
};

// The monitor's side: no allocation, no libc. False with `error` set on bad input.
bool ParseMonitorArgs(int argc, char** argv, MonitorArgs* args, TextSpan* error);

// berth-shim's side: argv[1..] for the monitor.
std::vector<std::string> FormatMonitorArgs(const MonitorArgs& args);

}  // namespace berth::shim
