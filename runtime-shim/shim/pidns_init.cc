#include "runtime-shim/shim/pidns_init.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/fs.h"

namespace berth::shim {
namespace {

void NoOp(int) {}

[[noreturn]] void Reap() {
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    for (int fd = 0; fd < 3; ++fd) ::dup2(null_fd, fd);
    ::close(null_fd);
  }
  // pid 1 of a namespace gets only the signals it has handlers for.
  struct sigaction sa = {};
  sa.sa_handler = NoOp;
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT}) {
    ::sigaction(sig, &sa, nullptr);
    sigaddset(&mask, sig);
  }
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  while (true) {
    int sig = 0;
    if (::sigwait(&mask, &sig) != 0) continue;
    if (sig == SIGTERM || sig == SIGINT) ::_exit(0);
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
}

}  // namespace

int RunPidNamespaceInit(const std::string& pidfile) {
  ::setsid();
  if (::unshare(CLONE_NEWPID) != 0) {
    std::fprintf(stderr, "unshare pid namespace: %s\n", std::strerror(errno));
    return 1;
  }
  pid_t child = ::fork();
  if (child < 0) {
    std::fprintf(stderr, "fork pid namespace init: %s\n", std::strerror(errno));
    return 1;
  }
  if (child == 0) Reap();
  if (auto status = AtomicWriteFile(pidfile, std::to_string(child), 0644, false); !status.ok()) {
    std::fprintf(stderr, "%s\n", std::string(status.message()).c_str());
    ::kill(child, SIGKILL);
    return 1;
  }
  return 0;
}

}  // namespace berth::shim
