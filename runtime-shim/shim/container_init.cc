#include "runtime-shim/shim/container_init.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "runtime-shim/shim/fd.h"
#include "runtime-shim/shim/path_lookup.h"
#include "runtime-shim/shim/process_setup.h"

namespace berth::shim {
namespace {

absl::Status SetupStdio(const InitPlan& plan) {
  if (::setsid() < 0) return ErrnoError("setsid");
  if (plan.tty && ::ioctl(plan.stdin_fd, TIOCSCTTY, 0) != 0) {
    return ErrnoError("set controlling terminal");
  }
  const int fds[3] = {plan.stdin_fd, plan.stdout_fd, plan.stderr_fd};
  for (int target = 0; target < 3; ++target) {
    if (::dup2(fds[target], target) < 0) return ErrnoError(absl::StrCat("dup2 stdio ", target));
  }
  return absl::OkStatus();
}

// "net.ipv4.ip_forward" -> /proc/sys/net/ipv4/ip_forward. Names with a '/'
// already use slashes as separators (and may hold dots, e.g. interface names).
std::string SysctlPath(const std::string& key) {
  if (key.find('/') != std::string::npos) return absl::StrCat("/proc/sys/", key);
  return absl::StrCat("/proc/sys/", absl::StrReplaceAll(key, {{".", "/"}}));
}

absl::Status SetupContainer(const InitPlan& plan, std::string* exec_path) {
  const ContainerSpec& spec = *plan.spec;
  RETURN_IF_ERROR(SetupStdio(plan));
  RETURN_IF_ERROR(JoinCgroups(spec));
  // /proc/sys reflects the namespaces of the writer: ours, not the host's.
  for (const auto& [key, value] : spec.sysctls) {
    RETURN_IF_ERROR(Annotate(WriteKnob(SysctlPath(key), value), absl::StrCat("sysctl ", key)));
  }
  RETURN_IF_ERROR(WriteKnob("/proc/self/oom_score_adj", std::to_string(spec.oom_score_adj)));
  RETURN_IF_ERROR(SetupContainerRootfs(spec, plan.rootfs));
  if (plan.new_uts_ns && !spec.hostname.empty() &&
      ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0) {
    return ErrnoError(absl::StrCat("sethostname ", spec.hostname));
  }
  const std::string cwd = spec.cwd.empty() ? "/" : spec.cwd;
  // Created as root, before the user switch, as runc does.
  RETURN_IF_ERROR(Annotate(MkdirAll(cwd), "create cwd"));
  if (spec.args.empty()) return absl::InvalidArgumentError("spec.args is empty");
  ASSIGN_OR_RETURN(*exec_path, LookupExecutable(spec.args[0], spec.env));
  RETURN_IF_ERROR(ApplyProcessSecurity(spec, plan.seccomp_profile));
  if (::chdir(cwd.c_str()) != 0) return ErrnoError(absl::StrCat("chdir ", cwd));
  return absl::OkStatus();
}

[[noreturn]] void Fail(int sync_fd, const absl::Status& status, int code) {
  std::string message = absl::StrCat(std::string(1, kSyncError), status.message());
  (void)WriteFully(sync_fd, message, "sync pipe");
  ::_exit(code);
}

}  // namespace

void RunContainerInit(const InitPlan& plan) {
  ResetSignalsForExec();
  std::string exec_path;
  absl::Status status = SetupContainer(plan, &exec_path);
  if (!status.ok()) Fail(plan.sync_fd, status, 1);
  const char ready = kSyncReady;
  if (!WriteFully(plan.sync_fd, absl::string_view(&ready, 1), "sync pipe").ok()) ::_exit(1);
  char start = 0;
  ssize_t n;
  do {
    n = ::read(plan.start_fd, &start, 1);
  } while (n < 0 && errno == EINTR);
  // EOF: the shim went away or gave up on us; never run unsupervised.
  if (n != 1 || start != kStartByte) ::_exit(1);
  ::close(plan.start_fd);
  status = ExecContainerProcess(exec_path, *plan.spec, plan.spec->args);
  Fail(plan.sync_fd, status, 127);
}

}  // namespace berth::shim
