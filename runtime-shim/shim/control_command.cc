#include "runtime-shim/shim/control_command.h"

#include <signal.h>

namespace berth::shim {
namespace {

// Splits off the next space-separated word; empty when none is left.
std::string_view NextWord(std::string_view* rest) {
  while (!rest->empty() && rest->front() == ' ') rest->remove_prefix(1);
  size_t end = 0;
  while (end < rest->size() && (*rest)[end] != ' ') ++end;
  std::string_view word(rest->data(), end);
  rest->remove_prefix(end);
  return word;
}

bool ParseSignal(std::string_view word, int* signal) {
  if (word.empty() || word.size() > 3) return false;
  int value = 0;
  for (char c : word) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value <= 0 || value >= NSIG) return false;
  *signal = value;
  return true;
}

}  // namespace

bool ParseControlCommand(std::string_view line, ControlCommand* command, TextSpan* error) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string_view rest = line;
  const std::string_view verb = NextWord(&rest);
  if (verb.empty()) {
    error->Append("empty command");
    return false;
  }
  *command = ControlCommand();
  size_t want_args = 0;
  if (verb == "start") {
    command->kind = ControlCommand::Kind::kStart;
  } else if (verb == "kill") {
    command->kind = ControlCommand::Kind::kKill;
    want_args = 1;
  } else if (verb == "reopen-log") {
    command->kind = ControlCommand::Kind::kReopenLog;
  } else if (verb == "status") {
    command->kind = ControlCommand::Kind::kStatus;
  } else if (verb == "shutdown") {
    command->kind = ControlCommand::Kind::kShutdown;
  } else {
    error->Append("unknown command \"").Append(verb).Append("\"");
    return false;
  }
  std::string_view args[2];
  size_t got = 0;
  for (std::string_view word = NextWord(&rest); !word.empty(); word = NextWord(&rest)) {
    if (got < 2) args[got] = word;
    ++got;
  }
  if (got != want_args) {
    error->Append("command \"").Append(verb).Append("\" takes ");
    error->AppendInt(static_cast<int64_t>(want_args)).Append(" argument(s), got ");
    error->AppendInt(static_cast<int64_t>(got));
    return false;
  }
  if (command->kind == ControlCommand::Kind::kKill && !ParseSignal(args[0], &command->signal)) {
    error->Append("kill: bad signal \"").Append(args[0]).Append("\"");
    return false;
  }
  return true;
}

}  // namespace berth::shim
