#include "runtime-shim/shim/exec_command.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "runtime-shim/shim/fd.h"
#include "runtime-shim/shim/path_lookup.h"
#include "runtime-shim/shim/process_setup.h"

namespace berth::shim {
namespace {

constexpr int kErrorFd = 3;

void ReportError(const absl::Status& status) {
  std::string line = absl::StrCat("error ", status.message(), "\n");
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    if (line[i] == '\n') line[i] = ' ';
  }
  (void)WriteFully(kErrorFd, line, "error pipe");
}

struct Prepared {
  ContainerSpec spec;
  std::string seccomp_profile;
};

// Joins the container's cgroups and namespaces; the mount namespace last,
// since entering it changes what every path means.
absl::StatusOr<Prepared> EnterContainer(const ExecOptions& options) {
  Prepared p;
  const std::string& bundle = options.bundle;
  ASSIGN_OR_RETURN(std::string config, ReadFile(bundle + "/config.json"));
  ASSIGN_OR_RETURN(p.spec, ContainerSpecFromJson(config));
  if (p.spec.seccomp) {
    ASSIGN_OR_RETURN(p.seccomp_profile, ReadFile(bundle + "/seccomp.json"));
  }
  ASSIGN_OR_RETURN(std::string pid_text, ReadFile(bundle + "/init.pid"));
  int init_pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(pid_text), &init_pid) || init_pid <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(bundle, "/init.pid: bad pid \"", pid_text, "\""));
  }
  RETURN_IF_ERROR(JoinCgroups(p.spec));
  struct Ns {
    const char* name;
    int flag;
  };
  constexpr Ns kOrder[] = {{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC},
                           {"uts", CLONE_NEWUTS},       {"net", CLONE_NEWNET},
                           {"pid", CLONE_NEWPID},       {"mnt", CLONE_NEWNS}};
  // Open all first: /proc/<pid> stays reachable only until we enter the mount ns.
  UniqueFd fds[6];
  for (int i = 0; i < 6; ++i) {
    std::string path = absl::StrCat("/proc/", init_pid, "/ns/", kOrder[i].name);
    fds[i].Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fds[i].valid()) return ErrnoError(absl::StrCat("open ", path));
  }
  for (int i = 0; i < 6; ++i) {
    if (::setns(fds[i].get(), kOrder[i].flag) != 0) {
      return ErrnoError(absl::StrCat("join ", kOrder[i].name, " namespace of pid ", init_pid));
    }
  }
  return p;
}

// In the forked child (inside the container's pid namespace).
[[noreturn]] void RunChild(const ExecOptions& options, const Prepared& p) {
  ResetSignalsForExec();
  auto fail = [](const absl::Status& status) {
    ReportError(status);
    ::_exit(126);
  };
  if (options.tty) {
    // Our stdin is the pty the caller set up: make it our controlling tty.
    ::setsid();
    ::ioctl(0, TIOCSCTTY, 0);
  }
  const std::string cwd = p.spec.cwd.empty() ? "/" : p.spec.cwd;
  auto path = LookupExecutable(options.args[0], p.spec.env);
  if (!path.ok()) fail(path.status());
  if (auto s = ApplyProcessSecurity(p.spec, p.seccomp_profile); !s.ok()) fail(s);
  if (::chdir(cwd.c_str()) != 0) fail(ErrnoError(absl::StrCat("chdir ", cwd)));
  fail(ExecContainerProcess(*path, p.spec, options.args));
  ::_exit(126);
}

}  // namespace

int RunExecCommand(const ExecOptions& options) {
  ::fcntl(kErrorFd, F_SETFD, FD_CLOEXEC);
  if (options.args.empty()) {
    ReportError(absl::InvalidArgumentError("exec: no command"));
    return 126;
  }
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  UniqueFd signal_fd(::signalfd(-1, &mask, SFD_CLOEXEC));

  auto prepared = EnterContainer(options);
  if (!prepared.ok()) {
    ReportError(prepared.status());
    return 126;
  }
  pid_t child = ::fork();
  if (child < 0) {
    ReportError(ErrnoError("fork"));
    return 126;
  }
  if (child == 0) RunChild(options, *prepared);
  ::close(kErrorFd);  // the child's copy alone tells the caller about exec

  while (true) {
    struct signalfd_siginfo info;
    ssize_t n = ::read(signal_fd.get(), &info, sizeof(info));
    if (n != sizeof(info)) {
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    if (info.ssi_signo != SIGCHLD) {
      ::kill(child, static_cast<int>(info.ssi_signo));
      continue;
    }
    int status = 0;
    pid_t pid = ::waitpid(child, &status, WNOHANG);
    if (pid != child) continue;
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace berth::shim
