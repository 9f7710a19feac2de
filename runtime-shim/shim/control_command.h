// The shim's control protocol: one command line per connection on
// <bundle>/shim.sock, one reply line (see README.md).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::shim {

struct ControlCommand {
  enum class Kind { kStart, kKill, kReopenLog, kStatus, kShutdown };
  Kind kind = Kind::kStatus;
  int signal = 0;  // kKill only
};

// Parses "start", "kill <signum>", "reopen-log", "status", "shutdown"
// (a trailing "\n" or "\r\n" is ignored). Errors name the bad input.
absl::StatusOr<ControlCommand> ParseControlCommand(absl::string_view line);

}  // namespace berth::shim
