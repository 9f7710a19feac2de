#include "runtime-shim/shim/container_shim.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "common/time.h"
#include "runtime-shim/shim/attach_protocol.h"
#include "runtime-shim/shim/container_init.h"
#include "runtime-shim/shim/monitor_handoff.h"
#include "runtime-shim/shim/namespace_plan.h"
#include "runtime-shim/shim/oom_counter.h"

namespace berth::shim {
namespace {

constexpr char kSocketName[] = "shim.sock";
constexpr int kReadyFd = 3;

absl::Status SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoError("set O_NONBLOCK");
  }
  return absl::OkStatus();
}

std::string OneLine(absl::string_view message) {
  std::string line(message);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

}  // namespace

absl::Status ContainerShim::OpenLog() {
  if (spec_.log_path.empty()) return absl::OkStatus();
  size_t slash = spec_.log_path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    RETURN_IF_ERROR(MkdirAll(spec_.log_path.substr(0, slash)));
  }
  int fd = ::open(spec_.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoError(absl::StrCat("open log ", spec_.log_path));
  log_fd_.Reset(fd);
  return absl::OkStatus();
}

absl::Status ContainerShim::SetupStdio(UniqueFd* child_in, UniqueFd* child_out,
                                       UniqueFd* child_err) {
  if (spec_.tty) {
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return ErrnoError("open /dev/ptmx");
    outputs_[0].Reset(master);
    if (::grantpt(master) != 0 || ::unlockpt(master) != 0) return ErrnoError("unlock pty");
    char name[64];
    if (::ptsname_r(master, name, sizeof(name)) != 0) return ErrnoError("ptsname");
    int slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) return ErrnoError(absl::StrCat("open pty ", name));
    child_in->Reset(slave);
    if (spec_.stdin) {
      // Attach input goes to the master; the monitor may close this copy (stdinOnce).
      stdin_writer_.Reset(::fcntl(master, F_DUPFD_CLOEXEC, 0));
      if (!stdin_writer_.valid()) return ErrnoError("dup pty master");
    }
    child_out->Reset(::dup(slave));
    child_err->Reset(::dup(slave));
    if (!child_out->valid() || !child_err->valid()) return ErrnoError("dup pty");
    RETURN_IF_ERROR(SetNonBlocking(master));
    return absl::OkStatus();
  }
  if (spec_.stdin) {
    RETURN_IF_ERROR(MakePipe(child_in, &stdin_writer_));
  } else {
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) return ErrnoError("open /dev/null");
    child_in->Reset(null_fd);
  }
  RETURN_IF_ERROR(MakePipe(&outputs_[0], child_out));
  RETURN_IF_ERROR(MakePipe(&outputs_[1], child_err));
  RETURN_IF_ERROR(SetNonBlocking(outputs_[0].get()));
  RETURN_IF_ERROR(SetNonBlocking(outputs_[1].get()));
  return absl::OkStatus();
}

namespace {

// Listens on `name` in the bundle (our cwd: bundle paths may exceed sun_path).
absl::Status ListenInBundle(const char* name, UniqueFd* listener) {
  ::unlink(name);
  listener->Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener->valid()) return ErrnoError(absl::StrCat("socket for ", name));
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, name, std::strlen(name) + 1);
  if (::bind(listener->get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoError(absl::StrCat("bind ", name));
  }
  if (::listen(listener->get(), 16) != 0) return ErrnoError(absl::StrCat("listen ", name));
  return absl::OkStatus();
}

}  // namespace

absl::Status ContainerShim::Listen() {
  RETURN_IF_ERROR(ListenInBundle(kSocketName, &listener_));
  return ListenInBundle(kAttachSocketName, &attach_listener_);
}

absl::Status ContainerShim::Create() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return ErrnoError("set child subreaper");
  RETURN_IF_ERROR(AtomicWriteFile("shim.pid", std::to_string(::getpid()), 0644, false));
  monitor_path_ = MonitorPath();
  RETURN_IF_ERROR(OpenMonitor(monitor_path_, &monitor_));
  ASSIGN_OR_RETURN(std::string config, ReadFile("config.json"));
  ASSIGN_OR_RETURN(spec_, ContainerSpecFromJson(config));
  config = std::string();
  InitPlan plan;
  if (spec_.seccomp) {
    ASSIGN_OR_RETURN(plan.seccomp_profile, ReadFile("seccomp.json"));
  }
  RETURN_IF_ERROR(OpenLog());
  oom_kills_at_create_ = ReadOomKillCount(spec_.memory_cgroup_dir);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return ErrnoError("block SIGCHLD");
  ::signal(SIGPIPE, SIG_IGN);

  UniqueFd child_in, child_out, child_err, sync_writer, start_reader;
  RETURN_IF_ERROR(SetupStdio(&child_in, &child_out, &child_err));
  RETURN_IF_ERROR(MakePipe(&sync_reader_, &sync_writer));
  RETURN_IF_ERROR(MakePipe(&start_reader, &start_writer_));
  ASSIGN_OR_RETURN(NamespacePlan ns, EnterNamespaces(spec_));

  plan.spec = &spec_;
  plan.rootfs.new_net_ns = ns.new_net;
  plan.new_uts_ns = ns.new_uts;
  plan.tty = spec_.tty;
  plan.stdin_fd = child_in.get();
  plan.stdout_fd = child_out.get();
  plan.stderr_fd = child_err.get();
  plan.sync_fd = sync_writer.get();
  plan.start_fd = start_reader.get();

  // A raw clone: fork semantics (copied stack) with the new namespaces.
  long pid = ::syscall(SYS_clone, static_cast<unsigned long>(ns.clone_flags) | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) return ErrnoError("clone container init");
  if (pid == 0) {
    start_writer_.Reset();  // else our own copy would keep the start pipe from EOF
    RunContainerInit(plan);
  }
  init_pid_ = static_cast<pid_t>(pid);
  child_in.Reset();
  child_out.Reset();
  child_err.Reset();
  sync_writer.Reset();
  start_reader.Reset();

  char tag = 0;
  ssize_t n;
  do {
    n = ::read(sync_reader_.get(), &tag, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1 || tag != kSyncReady) {
    std::string message;
    (void)ReadToEof(sync_reader_.get(), &message, 4096, "sync pipe");
    int status = 0;
    ::waitpid(init_pid_, &status, 0);
    init_pid_ = -1;
    if (n == 1 && tag == kSyncError) return absl::InternalError(message);
    return absl::InternalError(
        absl::StrCat("container init exited during setup (wait status ", status, ")"));
  }
  RETURN_IF_ERROR(AtomicWriteFile("init.pid", std::to_string(init_pid_), 0644, false));
  RETURN_IF_ERROR(Listen());

  return absl::OkStatus();
}

void ContainerShim::Abort() {
  if (listener_.valid()) {
    ::unlink(kSocketName);
    listener_.Reset();
  }
  if (attach_listener_.valid()) {
    ::unlink(kAttachSocketName);
    attach_listener_.Reset();
  }
  if (init_pid_ <= 0) return;
  ::kill(init_pid_, SIGKILL);
  int status = 0;
  while (::waitpid(init_pid_, &status, 0) < 0 && errno == EINTR) {
  }
  init_pid_ = -1;
}

void ContainerShim::HandOff(const std::string& bundle) {
  MonitorArgs args;
  args.bundle = bundle.c_str();
  args.init_pid = init_pid_;
  args.oom_kills_at_create = oom_kills_at_create_;
  args.listen_fd = listener_.get();
  args.start_fd = start_writer_.get();
  args.sync_fd = sync_reader_.get();
  args.stdout_fd = outputs_[0].get();
  args.stderr_fd = outputs_[1].get();
  args.stdin_fd = stdin_writer_.get();
  args.log_fd = log_fd_.get();
  args.log_path = spec_.log_path.c_str();
  args.memory_cgroup_dir = spec_.memory_cgroup_dir.c_str();
  args.attach_fd = attach_listener_.get();
  args.tty = spec_.tty;
  args.stdin_once = spec_.stdin_once;
  if (spec_.log_max_size > 0 && spec_.log_max_files >= 2) {
    args.log_max_size = spec_.log_max_size;
    args.log_max_files = spec_.log_max_files;
  }
  // This binary compresses rotated logs for the monitor (`compress-log`).
  const std::string shim_path = SelfPath();
  args.shim_path = shim_path.c_str();
  absl::Status status = ExecMonitor(monitor_, monitor_path_, args);
  // The runtime already has "ok": record the failure where it looks next.
  Abort();
  ExitRecord record;
  record.exit_code = 128;
  record.reason = "StartError";
  record.message = std::string(status.message());
  record.finished_at = NowUnixNanos();
  (void)AtomicWriteFile("exit.json", ExitRecordToJson(record));
}

int RunCreateCommand(const std::string& bundle) {
  if (::fcntl(kReadyFd, F_SETFD, FD_CLOEXEC) != 0) return 2;  // no ready pipe to report on
  auto report = [](const std::string& line) {
    (void)WriteFully(kReadyFd, absl::StrCat(line, "\n"), "ready pipe");
    ::close(kReadyFd);
  };
  pid_t pid = ::fork();
  if (pid < 0) {
    report(absl::StrCat("error fork: ", std::strerror(errno)));
    return 1;
  }
  if (pid > 0) ::_exit(0);  // the runtime reaps this one; the shim gets reparented
  ::setsid();
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    ::close(null_fd);
  }
  if (::chdir(bundle.c_str()) != 0) {
    report(absl::StrCat("error chdir ", bundle, ": ", std::strerror(errno)));
    return 1;
  }
  ContainerShim shim;
  if (absl::Status status = shim.Create(); !status.ok()) {
    shim.Abort();
    report(absl::StrCat("error ", OneLine(status.message())));
    return 1;
  }
  report(absl::StrCat("ok ", shim.init_pid()));
  shim.HandOff(bundle);  // returns only on failure
  return 1;
}

}  // namespace berth::shim
