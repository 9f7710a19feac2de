// The shim's control protocol: one command line per connection on
// <bundle>/shim.sock, one reply line (see README.md).
// No allocation and no libc: berth-shim-monitor links it without libc.
#pragma once

#include <string_view>

#include "runtime-shim/shim/small_text.h"

namespace berth::shim {

struct ControlCommand {
  enum class Kind { kStart, kKill, kReopenLog, kStatus, kShutdown };
  Kind kind = Kind::kStatus;
  int signal = 0;  // kKill only
};

// Parses "start", "kill <signum>", "reopen-log", "status", "shutdown"
// (a trailing "\n" or "\r\n" is ignored). On bad input returns false and
// writes what was wrong, naming the input, to `error`.
bool ParseControlCommand(std::string_view line, ControlCommand* command, TextSpan* error);

}  // namespace berth::shim
