#include "runtime-shim/shim/container_shim.h"

#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
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
#include "runtime-shim/shim/container_init.h"
#include "runtime-shim/shim/namespace_plan.h"
#include "runtime-shim/shim/oom_counter.h"

namespace berth::shim {
namespace {

constexpr char kSocketName[] = "shim.sock";
constexpr int kReadyFd = 3;

// epoll tags: which fd an event is for.
enum Tag : uint64_t { kTagSignal = 1, kTagListener = 2, kTagStdout = 3, kTagStderr = 4 };

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

void ContainerShim::WriteLog(const std::string& framed) {
  // A log write failure (disk full) must not take the container down.
  if (log_fd_.valid() && !framed.empty()) (void)WriteFully(log_fd_.get(), framed, "log");
}

absl::Status ContainerShim::SetupStdio(UniqueFd* child_in, UniqueFd* child_out,
                                       UniqueFd* child_err) {
  if (spec_.tty) {
    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) return ErrnoError("open /dev/ptmx");
    outputs_[0].fd.Reset(master);
    if (::grantpt(master) != 0 || ::unlockpt(master) != 0) return ErrnoError("unlock pty");
    char name[64];
    if (::ptsname_r(master, name, sizeof(name)) != 0) return ErrnoError("ptsname");
    int slave = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) return ErrnoError(absl::StrCat("open pty ", name));
    child_in->Reset(slave);
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
  RETURN_IF_ERROR(MakePipe(&outputs_[0].fd, child_out));
  RETURN_IF_ERROR(MakePipe(&outputs_[1].fd, child_err));
  RETURN_IF_ERROR(SetNonBlocking(outputs_[0].fd.get()));
  RETURN_IF_ERROR(SetNonBlocking(outputs_[1].fd.get()));
  return absl::OkStatus();
}

absl::Status ContainerShim::Listen() {
  ::unlink(kSocketName);
  listener_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener_.valid()) return ErrnoError("control socket");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, kSocketName, sizeof(kSocketName));
  // Relative to the bundle (our cwd): bundle paths may exceed sun_path.
  if (::bind(listener_.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    return ErrnoError("bind shim.sock");
  }
  if (::listen(listener_.get(), 16) != 0) return ErrnoError("listen shim.sock");
  return absl::OkStatus();
}

absl::Status ContainerShim::Create() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return ErrnoError("set child subreaper");
  RETURN_IF_ERROR(AtomicWriteFile("shim.pid", std::to_string(::getpid()), 0644, false));
  ASSIGN_OR_RETURN(std::string config, ReadFile("config.json"));
  ASSIGN_OR_RETURN(spec_, ContainerSpecFromJson(config));
  config = std::string();
  InitPlan plan;
  if (spec_.seccomp) {
    ASSIGN_OR_RETURN(plan.seccomp_profile, ReadFile("seccomp.json"));
  }
  RETURN_IF_ERROR(OpenLog());
  outputs_[0].framer = std::make_unique<CriLogFramer>("stdout");
  outputs_[1].framer = std::make_unique<CriLogFramer>("stderr");
  oom_kills_at_create_ = ReadOomKillCount(spec_.memory_cgroup_dir);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  if (::sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return ErrnoError("block SIGCHLD");
  signal_fd_.Reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd_.valid()) return ErrnoError("signalfd");
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

  epoll_fd_.Reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd_.valid()) return ErrnoError("epoll_create1");
  auto add = [&](int fd, uint64_t tag) -> absl::Status {
    struct epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return ErrnoError("epoll_ctl");
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(add(signal_fd_.get(), kTagSignal));
  RETURN_IF_ERROR(add(listener_.get(), kTagListener));
  RETURN_IF_ERROR(add(outputs_[0].fd.get(), kTagStdout));
  if (outputs_[1].fd.valid()) RETURN_IF_ERROR(add(outputs_[1].fd.get(), kTagStderr));
  // Give back what parsing and setup allocated: the idle shim should stay small.
  ::malloc_trim(0);
  return absl::OkStatus();
}

bool ContainerShim::PumpOutput(Output* out) {
  if (!out->fd.valid()) return false;
  char buf[8192];
  std::string framed;
  while (true) {
    ssize_t n = ::read(out->fd.get(), buf, sizeof(buf));
    if (n > 0) {
      out->framer->Append(absl::string_view(buf, static_cast<size_t>(n)), NowUnixNanos(), &framed);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      WriteLog(framed);
      return true;
    }
    // EOF, or EIO from a pty master once the last slave closed.
    out->framer->Flush(NowUnixNanos(), &framed);
    WriteLog(framed);
    out->fd.Reset();
    return false;
  }
}

void ContainerShim::DrainOutputs() {
  for (Output& out : outputs_) {
    if (!PumpOutput(&out)) continue;
    // Writers that outlive the init (a shared pid namespace) keep the pipe
    // open: log what is there and flush the tail, but do not wait for them.
    std::string framed;
    out.framer->Flush(NowUnixNanos(), &framed);
    WriteLog(framed);
  }
}

void ContainerShim::WriteExitRecord(const ExitRecord& record) {
  (void)AtomicWriteFile("exit.json", ExitRecordToJson(record));
  state_ = State::kExited;
  exit_code_ = record.exit_code;
}

void ContainerShim::RecordExit(int wait_status) {
  DrainOutputs();
  ExitRecord record;
  if (WIFSIGNALED(wait_status)) {
    record.signal = WTERMSIG(wait_status);
    record.exit_code = 128 + record.signal;
  } else {
    record.exit_code = WEXITSTATUS(wait_status);
  }
  int64_t oom_kills = ReadOomKillCount(spec_.memory_cgroup_dir);
  record.oom_killed = oom_kills > 0 && oom_kills > oom_kills_at_create_;
  record.reason = record.oom_killed ? "OOMKilled" : record.exit_code == 0 ? "Completed" : "Error";
  record.started_at = started_at_;
  record.finished_at = NowUnixNanos();
  WriteExitRecord(record);
}

void ContainerShim::RecordStartError(const std::string& message) {
  DrainOutputs();
  ExitRecord record;
  record.exit_code = 128;
  record.reason = "StartError";
  record.message = message;
  record.finished_at = NowUnixNanos();
  WriteExitRecord(record);
}

void ContainerShim::ReapChildren() {
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (pid == init_pid_ && state_ != State::kExited) RecordExit(status);
  }
}

std::string ContainerShim::Start() {
  if (state_ != State::kCreated) {
    return state_ == State::kRunning ? "error container is already running"
                                     : "error container has exited";
  }
  const char start = kStartByte;
  if (auto s = WriteFully(start_writer_.get(), absl::string_view(&start, 1), "start pipe");
      !s.ok()) {
    return absl::StrCat("error ", OneLine(s.message()));
  }
  start_writer_.Reset();
  std::string message;
  absl::Status read = ReadToEof(sync_reader_.get(), &message, 4096, "sync pipe");
  sync_reader_.Reset();
  if (read.ok() && message.empty()) {
    started_at_ = NowUnixNanos();
    (void)AtomicWriteFile("started", std::to_string(started_at_), 0644, false);
    state_ = State::kRunning;
    return "ok";
  }
  if (!message.empty() && message[0] == kSyncError) message.erase(0, 1);
  if (!read.ok()) message = std::string(read.message());
  int status = 0;
  if (::waitpid(init_pid_, &status, 0) == init_pid_) {
    // Reaped here, so the SIGCHLD path will not record it again.
    RecordStartError(message);
  }
  return absl::StrCat("error ", OneLine(message));
}

std::string ContainerShim::Execute(const ControlCommand& command) {
  switch (command.kind) {
    case ControlCommand::Kind::kStart:
      return Start();
    case ControlCommand::Kind::kKill:
      // After the exit the pid may belong to someone else: never signal it.
      if (state_ != State::kExited && ::kill(init_pid_, command.signal) != 0) {
        return absl::StrCat("error kill ", init_pid_, ": ", std::strerror(errno));
      }
      return "ok";
    case ControlCommand::Kind::kReopenLog:
      log_fd_.Reset();
      if (auto s = OpenLog(); !s.ok()) return absl::StrCat("error ", OneLine(s.message()));
      return "ok";
    case ControlCommand::Kind::kStatus:
      switch (state_) {
        case State::kCreated:
          return absl::StrCat("created ", init_pid_);
        case State::kRunning:
          return absl::StrCat("running ", init_pid_);
        case State::kExited:
          return absl::StrCat("exited ", exit_code_);
      }
      return "error unknown state";
    case ControlCommand::Kind::kShutdown:
      if (state_ != State::kExited) {
        ::kill(init_pid_, SIGKILL);
        int status = 0;
        if (::waitpid(init_pid_, &status, 0) == init_pid_) RecordExit(status);
      }
      ::unlink(kSocketName);
      shutdown_ = true;
      return "ok";
  }
  return "error unknown command";
}

void ContainerShim::HandleConnection(int fd) {
  UniqueFd conn(fd);
  // A client that connects and says nothing must not stall the shim for long.
  struct timeval tv = {2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::string line;
  char buf[256];
  while (line.find('\n') == std::string::npos && line.size() < 1024) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  std::string reply;
  if (line.find('\n') == std::string::npos) {
    reply = "error incomplete command line";
  } else {
    line.resize(line.find('\n'));
    auto command = ParseControlCommand(line);
    reply = command.ok() ? Execute(*command)
                         : absl::StrCat("error ", OneLine(command.status().message()));
  }
  reply += '\n';
  (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
}

int ContainerShim::Serve() {
  while (!shutdown_) {
    struct epoll_event events[8];
    int n = ::epoll_wait(epoll_fd_.get(), events, 8, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    for (int i = 0; i < n && !shutdown_; ++i) {
      switch (events[i].data.u64) {
        case kTagSignal: {
          struct signalfd_siginfo info;
          while (::read(signal_fd_.get(), &info, sizeof(info)) == sizeof(info)) {
          }
          ReapChildren();
          break;
        }
        case kTagListener: {
          int conn = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
          if (conn >= 0) HandleConnection(conn);
          break;
        }
        case kTagStdout:
        case kTagStderr: {
          Output& out = outputs_[events[i].data.u64 == kTagStdout ? 0 : 1];
          // Closing the fd removes it from the epoll set.
          PumpOutput(&out);
          break;
        }
      }
    }
  }
  return 0;
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
    report(absl::StrCat("error ", OneLine(status.message())));
    return 1;
  }
  report(absl::StrCat("ok ", shim.init_pid()));
  return shim.Serve();
}

}  // namespace berth::shim
