#include "runtime-shim/shim/monitor_handoff.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace berth::shim {

std::vector<std::string> FormatMonitorArgs(const MonitorArgs& args) {
  std::vector<std::string> argv = {"--bundle", args.bundle,
                                   "--init-pid", std::to_string(args.init_pid),
                                   "--oom-kills-at-create", std::to_string(args.oom_kills_at_create)};
  auto fd = [&](const char* flag, int value) {
    if (value < 0) return;
    argv.push_back(flag);
    argv.push_back(std::to_string(value));
  };
  fd("--listen-fd", args.listen_fd);
  fd("--start-fd", args.start_fd);
  fd("--sync-fd", args.sync_fd);
  fd("--stdout-fd", args.stdout_fd);
  fd("--stderr-fd", args.stderr_fd);
  fd("--stdin-fd", args.stdin_fd);
  fd("--log-fd", args.log_fd);
  fd("--attach-fd", args.attach_fd);
  if (args.tty) fd("--tty", 1);
  if (args.stdin_once) fd("--stdin-once", 1);
  if (args.log_max_size > 0) {
    argv.push_back("--log-max-size");
    argv.push_back(std::to_string(args.log_max_size));
    fd("--log-max-files", args.log_max_files);
  }
  if (*args.shim_path != '\0') {
    argv.push_back("--shim");
    argv.push_back(args.shim_path);
  }
  if (*args.log_path != '\0') {
    argv.push_back("--log");
    argv.push_back(args.log_path);
  }
  if (*args.memory_cgroup_dir != '\0') {
    argv.push_back("--memory-cgroup");
    argv.push_back(args.memory_cgroup_dir);
  }
  return argv;
}

std::string SelfPath() {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return std::string();
  return std::string(self, static_cast<size_t>(n));
}

std::string MonitorPath() {
  std::string path = SelfPath();
  if (path.empty()) return kMonitorName;
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? kMonitorName
                                    : absl::StrCat(path.substr(0, slash + 1), kMonitorName);
}

absl::Status OpenMonitor(const std::string& monitor_path, UniqueFd* monitor) {
  monitor->Reset(::open(monitor_path.c_str(), O_PATH | O_CLOEXEC));
  if (!monitor->valid()) return ErrnoError(absl::StrCat("exec ", monitor_path));
  return absl::OkStatus();
}

absl::Status ExecMonitor(const UniqueFd& monitor, const std::string& monitor_path,
                         const MonitorArgs& args) {
  std::vector<std::string> words = FormatMonitorArgs(args);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(monitor_path.c_str()));
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  for (int fd : {args.listen_fd, args.start_fd, args.sync_fd, args.stdout_fd, args.stderr_fd,
                 args.stdin_fd, args.log_fd, args.attach_fd}) {
    if (fd >= 0 && ::fcntl(fd, F_SETFD, 0) != 0) return ErrnoError("clear FD_CLOEXEC");
  }
  ::syscall(SYS_execveat, monitor.get(), "", argv.data(), envp, AT_EMPTY_PATH);
  absl::Status status = ErrnoError(absl::StrCat("exec ", monitor_path));
  for (int fd : {args.listen_fd, args.start_fd, args.sync_fd, args.stdout_fd, args.stderr_fd,
                 args.stdin_fd, args.log_fd, args.attach_fd}) {
    if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  return status;
}

}  // namespace berth::shim
