#include "runtime-shim/shim/control_command.h"

#include <csignal>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace berth::shim {

absl::StatusOr<ControlCommand> ParseControlCommand(absl::string_view line) {
  absl::ConsumeSuffix(&line, "\n");
  absl::ConsumeSuffix(&line, "\r");
  std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (words.empty()) return absl::InvalidArgumentError("empty command");
  ControlCommand command;
  const absl::string_view verb = words[0];
  size_t want_args = 0;
  if (verb == "start") {
    command.kind = ControlCommand::Kind::kStart;
  } else if (verb == "kill") {
    command.kind = ControlCommand::Kind::kKill;
    want_args = 1;
  } else if (verb == "reopen-log") {
    command.kind = ControlCommand::Kind::kReopenLog;
  } else if (verb == "status") {
    command.kind = ControlCommand::Kind::kStatus;
  } else if (verb == "shutdown") {
    command.kind = ControlCommand::Kind::kShutdown;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown command \"", verb, "\""));
  }
  if (words.size() != want_args + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("command \"", verb, "\" takes ", want_args, " argument(s), got ",
                     words.size() - 1));
  }
  if (command.kind == ControlCommand::Kind::kKill) {
    if (!absl::SimpleAtoi(words[1], &command.signal) || command.signal <= 0 ||
        command.signal >= NSIG) {
      return absl::InvalidArgumentError(absl::StrCat("kill: bad signal \"", words[1], "\""));
    }
  }
  return command;
}

}  // namespace berth::shim
