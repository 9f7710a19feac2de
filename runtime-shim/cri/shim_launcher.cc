#include "runtime-shim/cri/shim_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/time.h"

extern char** environ;

namespace berth {
namespace {

struct Pipe {
  int r = -1, w = -1;
  ~Pipe() {
    if (r >= 0) close(r);
    if (w >= 0) close(w);
  }
  absl::Status Open() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return ErrnoError("pipe2");
    r = fds[0];
    w = fds[1];
    return absl::OkStatus();
  }
  void CloseWrite() {
    if (w >= 0) close(w);
    w = -1;
  }
};

std::vector<char*> Argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

absl::StatusOr<pid_t> Spawn(std::vector<std::string> args, posix_spawn_file_actions_t* actions,
                            bool own_process_group) {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (own_process_group) flags |= POSIX_SPAWN_SETPGROUP;
  posix_spawnattr_setflags(&attr, flags);
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  auto argv = Argv(args);
  pid_t pid = 0;
  int err = posix_spawn(&pid, args[0].c_str(), actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (err != 0) return ErrnoError(err, absl::StrCat("spawn ", args[0]));
  return pid;
}

// Reads `fd` to EOF (or, with `stop_at_newline`, to the first line) or until
// the deadline (monotonic nanos; 0: none).
absl::Status ReadAll(int fd, std::string* out, int64_t deadline, bool stop_at_newline = false) {
  char buf[4096];
  for (;;) {
    int wait_ms = -1;
    if (deadline) {
      int64_t left = deadline - MonotonicNanos();
      if (left <= 0) return absl::DeadlineExceededError("timed out");
      wait_ms = static_cast<int>(left / 1000000) + 1;
    }
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) continue;
    ssize_t got = read(fd, buf, sizeof(buf));
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) return absl::OkStatus();
    out->append(buf, got);
    if (stop_at_newline && out->find('\n') != std::string::npos) return absl::OkStatus();
  }
}

}  // namespace

absl::StatusOr<int> LaunchShimCreate(const std::string& shim_path, const std::string& bundle,
                                     absl::Duration timeout) {
  Pipe ready;
  if (auto s = ready.Open(); !s.ok()) return s;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, ready.w, 3);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  auto pid = Spawn({shim_path, "create", "--bundle", bundle}, &actions, false);
  posix_spawn_file_actions_destroy(&actions);
  if (!pid.ok()) return pid.status();
  ready.CloseWrite();
  std::string line;
  absl::Status read =
      ReadAll(ready.r, &line, MonotonicNanos() + absl::ToInt64Nanoseconds(timeout), /*stop_at_newline=*/true);
  // The first shim process exits as soon as it has forked the real one.
  int wstatus = 0;
  while (waitpid(*pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!read.ok()) return absl::DeadlineExceededError(absl::StrCat("berth-shim create ", bundle, ": no ready line in time"));
  absl::string_view view = absl::StripAsciiWhitespace(line);
  if (absl::ConsumePrefix(&view, "ok ")) {
    int init_pid = 0;
    if (absl::SimpleAtoi(view, &init_pid) && init_pid > 0) return init_pid;
  }
  if (absl::ConsumePrefix(&view, "error ")) return absl::FailedPreconditionError(std::string(view));
  return absl::InternalError(absl::StrCat("berth-shim create ", bundle, ": unexpected answer \"",
                                          line, "\" (exit status ", wstatus, ")"));
}

absl::Status RunShimToCompletion(const std::string& shim_path, const std::vector<std::string>& args) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> argv = {shim_path};
  argv.insert(argv.end(), args.begin(), args.end());
  auto pid = Spawn(argv, &actions, false);
  posix_spawn_file_actions_destroy(&actions);
  if (!pid.ok()) return pid.status();
  int wstatus = 0;
  while (waitpid(*pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return absl::InternalError(absl::StrCat("berth-shim ", args.empty() ? "" : args[0],
                                            " failed (wait status ", wstatus, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ExecResult> RunShimExec(const std::string& shim_path, const std::string& bundle,
                                       const std::vector<std::string>& cmd, absl::Duration timeout) {
  Pipe out, err, status;
  for (Pipe* p : {&out, &err, &status}) {
    if (auto s = p->Open(); !s.ok()) return s;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.w, 1);
  posix_spawn_file_actions_adddup2(&actions, err.w, 2);
  posix_spawn_file_actions_adddup2(&actions, status.w, 3);
  std::vector<std::string> args = {shim_path, "exec", "--bundle", bundle, "--"};
  args.insert(args.end(), cmd.begin(), cmd.end());
  auto pid = Spawn(args, &actions, true);
  posix_spawn_file_actions_destroy(&actions);
  if (!pid.ok()) return pid.status();
  out.CloseWrite();
  err.CloseWrite();
  status.CloseWrite();

  ExecResult result;
  int64_t deadline = timeout > absl::ZeroDuration()
                         ? MonotonicNanos() + absl::ToInt64Nanoseconds(timeout)
                         : 0;
  // Read both streams together so neither pipe fills and blocks the process.
  struct pollfd fds[2] = {{out.r, POLLIN, 0}, {err.r, POLLIN, 0}};
  int open_streams = 2;
  char buf[8192];
  while (open_streams > 0) {
    int wait_ms = -1;
    if (deadline) {
      int64_t left = deadline - MonotonicNanos();
      if (left <= 0) {
        result.timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(left / 1000000) + 1;
    }
    int n = poll(fds, 2, wait_ms);
    if (n < 0 && errno != EINTR) return ErrnoError("poll exec output");
    for (int i = 0; i < 2 && n > 0; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(fds[i].fd, buf, sizeof(buf));
      if (got > 0) {
        (i == 0 ? result.stdout_data : result.stderr_data).append(buf, got);
      } else if (got == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_streams;
      }
    }
  }
  if (result.timed_out) kill(-*pid, SIGKILL);
  int wstatus = 0;
  while (waitpid(*pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  std::string error_line;
  ReadAll(status.r, &error_line, 0).IgnoreError();
  absl::string_view view = absl::StripAsciiWhitespace(error_line);
  if (absl::ConsumePrefix(&view, "error ")) {
    return absl::FailedPreconditionError(absl::StrCat("exec ", cmd.empty() ? "" : cmd[0], ": ", view));
  }
  if (result.timed_out) {
    result.exit_code = -1;
  } else if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.exit_code = 128 + WTERMSIG(wstatus);
  }
  return result;
}

}  // namespace berth
