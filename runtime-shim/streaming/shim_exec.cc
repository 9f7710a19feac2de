#include "runtime-shim/streaming/shim_exec.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

extern char** environ;

namespace berth::streaming {

absl::StatusOr<ExecProcess> SpawnShimExec(const std::string& shim_path, const std::string& bundle,
                                          const std::vector<std::string>& cmd, bool tty, int stdin_fd,
                                          int stdout_fd, int stderr_fd) {
  if (cmd.empty()) return absl::InvalidArgumentError("cmd: required");
  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) < 0) return ErrnoError("pipe2 for exec errors");
  std::vector<std::string> args = {shim_path, "exec", "--bundle", bundle};
  if (tty) args.push_back("--tty");
  args.push_back("--");
  args.insert(args.end(), cmd.begin(), cmd.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const int fds[3] = {stdin_fd, stdout_fd, stderr_fd};
  for (int target = 0; target < 3; ++target) {
    if (fds[target] >= 0) {
      posix_spawn_file_actions_adddup2(&actions, fds[target], target);
    } else {
      posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0);
    }
  }
  posix_spawn_file_actions_adddup2(&actions, error_pipe[1], 3);
  // Nothing else of ours reaches the container (sockets made without CLOEXEC).
  posix_spawn_file_actions_addclosefrom_np(&actions, 4);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  int err = posix_spawn(&pid, shim_path.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  close(error_pipe[1]);
  if (err != 0) {
    close(error_pipe[0]);
    return ErrnoError(err, absl::StrCat("spawn ", shim_path, " exec"));
  }
  return ExecProcess{pid, error_pipe[0]};
}

}  // namespace berth::streaming
