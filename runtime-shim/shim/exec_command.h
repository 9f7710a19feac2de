// `berth-shim exec --bundle DIR [--tty] -- ARG...`: runs a process inside a
// running container (CRI ExecSync/Exec) with the caller's stdio.
#pragma once

#include <string>
#include <vector>

namespace berth::shim {

struct ExecOptions {
  std::string bundle;
  bool tty = false;
  std::vector<std::string> args;
};

// fd 3 is the error pipe: "error <message>\n" on any failure before exec.
// Returns the process's exit code (128+signal when killed).
int RunExecCommand(const ExecOptions& options);

}  // namespace berth::shim
