// berth-shim-monitor: the container's parent after setup. berth-shim execs it
// (same pid, same children) once the init waits for `start`; from then on it
// serves shim.sock and attach.sock, frames the output into the CRI log
// (rotating it by size), reaps and writes exit.json. It links no libc on x86_64/aarch64 (monitor_runtime.cc), so the
// idle shim maps only a few pages. See README.md.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <string_view>

#include "runtime-shim/shim/attach_protocol.h"
#include "runtime-shim/shim/control_command.h"
#include "runtime-shim/shim/cri_log_framer.h"
#include "runtime-shim/shim/exit_record_json.h"
#include "runtime-shim/shim/init_sync.h"
#include "runtime-shim/shim/log_rotator.h"
#include "runtime-shim/shim/monitor_args.h"
#include "runtime-shim/shim/oom_counter.h"
#include "runtime-shim/shim/raw_syscalls.h"
#include "runtime-shim/shim/small_text.h"

namespace berth::shim {
namespace {

constexpr char kSocketName[] = "shim.sock";

// Large buffers live in .bss: pages nobody touches stay out of the RSS.
char g_read_buffer[8192];
char g_pending[2][kMaxLogLineSize];
char g_log_buffer[kMaxLogLineSize];
char g_sync_message[4096];
char g_json[6 * sizeof(g_sync_message) + 512];
char g_path[4096 + 64];
char g_compress_path[4096 + 64];

// Attach clients (attach_protocol.h): each buffers one frame of input.
constexpr int kMaxAttachClients = 8;
// Asked of the kernel per client, so that a burst of output fits while a
// client reads; a client that still cannot take a frame is dropped.
constexpr int kAttachSendBuffer = 1 << 20;
struct AttachClient {
  int fd;
  size_t in_size;  // bytes in its g_client_input row
};
// Apart from the fds, so that setting those up touches one page, not eight.
AttachClient g_clients[kMaxAttachClients];
unsigned char g_client_input[kMaxAttachClients][kAttachHeaderSize + kMaxAttachInput];

unsigned char* InputOf(const AttachClient* client) { return g_client_input[client - g_clients]; }
// stdin bytes an attach client sent that the container has not taken yet.
char g_stdin_pending[kMaxAttachInput];

void AppendErrno(long err, TextSpan* out) {
  const char* text = sys::ErrnoText(-err);
  if (text != nullptr) {
    out->Append(text);
  } else {
    out->Append("errno ").AppendInt(-err);
  }
}

// Replaces newlines so a message fits on one reply line.
void AppendOneLine(std::string_view message, TextSpan* out) {
  for (char c : message) out->Append(c == '\n' || c == '\r' ? ' ' : c);
}

// Writes `data` to `path` through a temp file and rename: 0 or -errno.
long AtomicWrite(const char* path, std::string_view data, bool durable) {
  TextSpan tmp(g_path, sizeof(g_path));
  tmp.Append(path).Append(".tmp-").AppendInt(sys::GetPid());
  const char* tmp_path = tmp.CStr();
  long fd = sys::Open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fd;
  long result = sys::WriteAll(static_cast<int>(fd), data.data(), data.size());
  if (result == 0 && durable) result = sys::Fdatasync(static_cast<int>(fd));
  sys::Close(static_cast<int>(fd));
  if (result == 0) result = sys::Rename(tmp_path, path);
  if (result != 0) sys::Unlink(tmp_path);
  return result;
}

void WriteExitJson(const ExitFields& fields) {
  TextSpan json(g_json, sizeof(g_json));
  AppendExitRecordJson(fields, &json);
  AtomicWrite("exit.json", json.view(), true);
}

class Monitor {
 public:
  explicit Monitor(const MonitorArgs& args)
      : args_(args),
        init_pid_(args.init_pid),
        log_fd_(args.log_fd),
        start_fd_(args.start_fd),
        sync_fd_(args.sync_fd),
        attach_fd_(args.attach_fd),
        stdin_fd_(args.stdin_fd),
        rotator_(args.log_path, args.log_max_files),
        framers_{CriLogFramer("stdout", g_pending[0], kMaxLogLineSize, &Monitor::Sink, this),
                 CriLogFramer("stderr", g_pending[1], kMaxLogLineSize, &Monitor::Sink, this)} {
    out_fds_[0] = args.stdout_fd;
    out_fds_[1] = args.stderr_fd;
  }

  // Sets up signals; false when it could not.
  bool Init() {
    sys::Prctl(PR_SET_CHILD_SUBREAPER, 1);
    sys::IgnoreSignal(SIGPIPE);
    const uint64_t mask = sys::SignalBit(SIGCHLD);
    if (sys::BlockSignals(mask) != 0) return false;
    signal_fd_ = static_cast<int>(sys::SignalFd(mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (signal_fd_ < 0) return false;
    // Only the fds named in MonitorArgs are open in here; make them CLOEXEC
    // again so that nothing we might start inherits them.
    for (int fd : {args_.listen_fd, start_fd_, sync_fd_, out_fds_[0], out_fds_[1], stdin_fd_,
                   log_fd_, attach_fd_}) {
      if (fd >= 0) sys::Fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    // Attach input never blocks the monitor: what the container does not
    // take waits in g_stdin_pending.
    if (stdin_fd_ >= 0) sys::Fcntl(stdin_fd_, F_SETFL, O_NONBLOCK);
    for (AttachClient& client : g_clients) client.fd = -1;
    if (log_fd_ >= 0) {
      long end = sys::SeekEnd(log_fd_);
      log_written_ = end > 0 ? end : 0;
    }
    // PR_SET_NAME keeps the process's comm "berth-shim", as before the exec.
    sys::Prctl(PR_SET_NAME, reinterpret_cast<unsigned long>("berth-shim"));
    return true;
  }

  // The event loop; returns the exit code after `shutdown`.
  int Serve() {
    constexpr int kClientSlot = 6;
    while (!shutdown_) {
      const bool stdin_blocked = stdin_pending_size_ > 0;
      struct pollfd fds[kClientSlot + kMaxAttachClients] = {
          {signal_fd_, POLLIN, 0},
          {args_.listen_fd, POLLIN, 0},
          {out_fds_[0], POLLIN, 0},
          {out_fds_[1], POLLIN, 0},
          {attach_fd_, POLLIN, 0},
          {stdin_blocked ? stdin_fd_ : -1, POLLOUT, 0}};
      for (int i = 0; i < kMaxAttachClients; ++i) {
        // While the container's stdin is full, attach input waits in the socket.
        fds[kClientSlot + i] = {g_clients[i].fd, static_cast<short>(stdin_blocked ? 0 : POLLIN), 0};
      }
      long n = sys::Poll(fds, kClientSlot + kMaxAttachClients);
      if (n == -EINTR) continue;
      if (n < 0) return 1;
      if (fds[0].revents != 0) {
        struct signalfd_siginfo info;
        while (sys::Read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
        }
        ReapChildren();
      }
      for (int i = 0; i < 2 && !shutdown_; ++i) {
        // A closed output has fd -1 in its slot: poll skips it.
        if (fds[2 + i].revents != 0 && out_fds_[i] >= 0) PumpOutput(i);
      }
      if (fds[5].revents != 0 && stdin_pending_size_ > 0) WritePendingStdin();
      for (int i = 0; i < kMaxAttachClients && !shutdown_; ++i) {
        AttachClient& client = g_clients[i];
        if (fds[kClientSlot + i].revents == 0 || client.fd != fds[kClientSlot + i].fd) continue;
        if ((fds[kClientSlot + i].revents & POLLIN) != 0) {
          ReadClient(&client);
        } else {
          DropClient(&client);  // hung up while its input had to wait
        }
      }
      if (fds[4].revents != 0 && attach_fd_ >= 0 && !shutdown_) AcceptAttach();
      if (fds[1].revents != 0 && !shutdown_) {
        long conn = sys::Accept4(args_.listen_fd, SOCK_CLOEXEC);
        if (conn >= 0) HandleConnection(static_cast<int>(conn));
      }
    }
    return 0;
  }

 private:
  enum class State { kCreated, kRunning, kExited };

  static void Sink(void* context, std::string_view prefix, std::string_view content) {
    static_cast<Monitor*>(context)->LogLine(prefix, content);
  }

  // Buffers one framed line; lines that do not fit go out directly.
  void LogLine(std::string_view prefix, std::string_view content) {
    if (log_fd_ < 0) return;
    const size_t size = prefix.size() + content.size() + 1;
    // Rotate before this line would take the file past its limit.
    const int64_t unrotated = log_written_ + static_cast<int64_t>(log_size_);
    if (args_.log_max_size > 0 && unrotated > 0 &&
        unrotated + static_cast<int64_t>(size) > args_.log_max_size) {
      FlushLog();
      Rotate();
      if (log_fd_ < 0) return;
    }
    if (log_size_ + size > sizeof(g_log_buffer)) FlushLog();
    if (size > sizeof(g_log_buffer)) {
      struct iovec iov[3] = {{const_cast<char*>(prefix.data()), prefix.size()},
                             {const_cast<char*>(content.data()), content.size()},
                             {const_cast<char*>("\n"), 1}};
      // One writev of an O_APPEND file: the line stays whole. A failed log
      // write (disk full) must not take the container down.
      sys::Retry([&] { return sys::Writev(log_fd_, iov, 3); });
      log_written_ += static_cast<int64_t>(size);
      return;
    }
    TextSpan out(g_log_buffer + log_size_, sizeof(g_log_buffer) - log_size_);
    out.Append(prefix).Append(content).Append('\n');
    log_size_ += out.size();
  }

  void FlushLog() {
    if (log_size_ > 0 && log_fd_ >= 0) sys::WriteAll(log_fd_, g_log_buffer, log_size_);
    log_written_ += static_cast<int64_t>(log_size_);
    log_size_ = 0;
  }

  // The live log is full: rename it, start a new one, drop the oldest
  // rotated files, compress the older ones (log_rotator.h).
  void Rotate() {
    if (rotator_.RotateLive(sys::RealtimeNanos()) != 0) {
      // Cannot rename (the directory went away?): keep appending rather than lose output.
      log_written_ = 0;
      return;
    }
    // Prune before the new live file exists: never more than max_files files.
    rotator_.Prune();
    Text<512> error;
    OpenLog(&error);
    StartCompression();
  }

  // Runs `berth-shim compress-log FILE` for the next rotated file, one at a time.
  void StartCompression() {
    if (*args_.shim_path == '\0' || compress_pid_ > 0) return;
    TextSpan path(g_compress_path, sizeof(g_compress_path));
    if (!rotator_.StartCompression(&path)) return;
    char* argv[] = {const_cast<char*>(args_.shim_path), const_cast<char*>("compress-log"),
                    const_cast<char*>(path.CStr()), nullptr};
    char* envp[] = {nullptr};
    long pid = sys::Fork();
    if (pid == 0) {
      sys::Execve(args_.shim_path, argv, envp);
      sys::Exit(127);
    }
    if (pid < 0) {
      rotator_.CompressionDone();  // left uncompressed; the next rotation tries the next one
      return;
    }
    compress_pid_ = static_cast<pid_t>(pid);
  }

  // Sends one read of output to every attach client. A client that cannot
  // take the whole frame now is dropped: the log and the container never wait.
  void Broadcast(int stream, const char* data, size_t n) {
    unsigned char header[kAttachHeaderSize];
    EncodeAttachHeader(stream == 0 ? kAttachStdout : kAttachStderr, static_cast<uint32_t>(n), header);
    for (AttachClient& client : g_clients) {
      if (client.fd < 0) continue;
      struct iovec iov[2] = {{header, sizeof(header)}, {const_cast<char*>(data), n}};
      struct msghdr msg = {};
      msg.msg_iov = iov;
      msg.msg_iovlen = 2;
      long sent = sys::Retry([&] { return sys::SendMsg(client.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL); });
      if (sent != static_cast<long>(sizeof(header) + n)) DropClient(&client);
    }
  }

  void AcceptAttach() {
    long fd = sys::Accept4(attach_fd_, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    for (AttachClient& client : g_clients) {
      if (client.fd >= 0) continue;
      int size = kAttachSendBuffer;
      // Past net.core.wmem_max where we may (root), else up to it.
      if (sys::SetSockOpt(static_cast<int>(fd), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0) {
        sys::SetSockOpt(static_cast<int>(fd), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
      }
      client.fd = static_cast<int>(fd);
      client.in_size = 0;
      return;
    }
    sys::Close(static_cast<int>(fd));  // all slots taken
  }

  void DropClient(AttachClient* client) {
    if (client->fd >= 0) sys::Close(client->fd);
    client->fd = -1;
    client->in_size = 0;
  }

  // The container has exited: attach clients get EOF, new ones are refused.
  void CloseAttach() {
    for (AttachClient& client : g_clients) DropClient(&client);
    if (attach_fd_ >= 0) {
      sys::Close(attach_fd_);
      attach_fd_ = -1;
      sys::Unlink(kAttachSocketName);
    }
  }

  void ReadClient(AttachClient* client) {
    constexpr size_t kCapacity = sizeof(g_client_input[0]);
    while (client->fd >= 0 && stdin_pending_size_ == 0 && client->in_size < kCapacity) {
      long n = sys::Recv(client->fd, InputOf(client) + client->in_size, kCapacity - client->in_size);
      if (n == -EINTR) continue;
      if (n == -EAGAIN) return;
      if (n <= 0) {
        DropClient(client);  // detached: the container goes on
        return;
      }
      client->in_size += static_cast<size_t>(n);
      ProcessClientInput(client);
    }
  }

  // Acts on the complete frames a client has sent, until stdin is full.
  void ProcessClientInput(AttachClient* client) {
    unsigned char* input = InputOf(client);
    size_t offset = 0;
    while (client->fd >= 0 && stdin_pending_size_ == 0 && client->in_size - offset >= kAttachHeaderSize) {
      const unsigned char* frame = input + offset;
      const uint32_t length = DecodeAttachLength(frame);
      if (length > kMaxAttachInput) {
        DropClient(client);  // not speaking the protocol
        return;
      }
      if (client->in_size - offset < kAttachHeaderSize + length) break;
      HandleClientFrame(frame[0], frame + kAttachHeaderSize, length);
      offset += kAttachHeaderSize + length;
    }
    if (client->fd < 0 || offset == 0) return;
    for (size_t i = offset; i < client->in_size; ++i) input[i - offset] = input[i];
    client->in_size -= offset;
  }

  void HandleClientFrame(uint8_t kind, const unsigned char* data, uint32_t length) {
    switch (kind) {
      case kAttachStdin:
        if (stdin_fd_ >= 0 && length > 0) WriteStdin(reinterpret_cast<const char*>(data), length);
        return;
      case kAttachCloseStdin:
        // stdinOnce: the first attach client to close stdin closes the container's.
        if (!args_.stdin_once || stdin_fd_ < 0) return;
        close_stdin_ = true;
        if (stdin_pending_size_ == 0) CloseStdin();
        return;
      case kAttachResize:
        if (args_.tty && length == 4 && out_fds_[0] >= 0) {
          struct winsize size = {};
          size.ws_col = static_cast<unsigned short>((data[0] << 8) | data[1]);
          size.ws_row = static_cast<unsigned short>((data[2] << 8) | data[3]);
          sys::Ioctl(out_fds_[0], TIOCSWINSZ, &size);
        }
        return;
      default:
        return;
    }
  }

  void WriteStdin(const char* data, size_t n) {
    long written = sys::Retry([&] { return sys::Write(stdin_fd_, data, n); });
    if (written == -EAGAIN) written = 0;
    if (written < 0) return;  // the container closed its stdin: nobody reads it
    for (size_t i = static_cast<size_t>(written); i < n; ++i) {
      g_stdin_pending[stdin_pending_size_++] = data[i];
    }
  }

  void WritePendingStdin() {
    long written = sys::Retry([&] { return sys::Write(stdin_fd_, g_stdin_pending, stdin_pending_size_); });
    if (written == -EAGAIN) return;
    if (written < 0) written = static_cast<long>(stdin_pending_size_);  // closed: drop it
    for (size_t i = static_cast<size_t>(written); i < stdin_pending_size_; ++i) {
      g_stdin_pending[i - static_cast<size_t>(written)] = g_stdin_pending[i];
    }
    stdin_pending_size_ -= static_cast<size_t>(written);
    if (stdin_pending_size_ > 0) return;
    if (close_stdin_) CloseStdin();
    // Input that waited behind the full stdin.
    for (AttachClient& client : g_clients) {
      if (client.fd >= 0) ProcessClientInput(&client);
    }
  }

  void CloseStdin() {
    if (stdin_fd_ < 0) return;
    // A pty has no half-close: its end of file is the EOF character.
    if (args_.tty) sys::Write(stdin_fd_, "\x04", 1);
    sys::Close(stdin_fd_);
    stdin_fd_ = -1;
  }

  // Reads what output `i` has now; false once it reached EOF (and was closed).
  bool PumpOutput(int i) {
    while (true) {
      long n = sys::Read(out_fds_[i], g_read_buffer, sizeof(g_read_buffer));
      if (n > 0) {
        framers_[i].Append(std::string_view(g_read_buffer, static_cast<size_t>(n)),
                           sys::RealtimeNanos());
        Broadcast(i, g_read_buffer, static_cast<size_t>(n));
        continue;
      }
      if (n == -EINTR) continue;
      if (n == -EAGAIN) {
        FlushLog();
        return true;
      }
      // EOF, or EIO from a pty master once the last slave closed.
      framers_[i].Flush(sys::RealtimeNanos());
      FlushLog();
      sys::Close(out_fds_[i]);
      out_fds_[i] = -1;
      return false;
    }
  }

  void DrainOutputs() {
    for (int i = 0; i < 2; ++i) {
      if (out_fds_[i] < 0 || !PumpOutput(i)) continue;
      // Writers that outlive the init (a shared pid namespace) keep the pipe
      // open: log what is there and flush the tail, but do not wait for them.
      framers_[i].Flush(sys::RealtimeNanos());
      FlushLog();
    }
  }

  void WriteExitRecord(const ExitFields& fields) {
    CloseAttach();
    WriteExitJson(fields);
    state_ = State::kExited;
    exit_code_ = fields.exit_code;
  }

  void RecordExit(int wait_status) {
    DrainOutputs();
    ExitFields fields;
    if (WIFSIGNALED(wait_status)) {
      fields.signal = WTERMSIG(wait_status);
      fields.exit_code = 128 + fields.signal;
    } else {
      fields.exit_code = WEXITSTATUS(wait_status);
    }
    int64_t oom_kills = ReadOomKillCount(args_.memory_cgroup_dir);
    fields.oom_killed = oom_kills > 0 && oom_kills > args_.oom_kills_at_create;
    fields.reason = fields.oom_killed        ? "OOMKilled"
                    : fields.exit_code == 0 ? "Completed"
                                            : "Error";
    fields.started_at = started_at_;
    fields.finished_at = sys::RealtimeNanos();
    WriteExitRecord(fields);
  }

  void RecordStartError(std::string_view message) {
    DrainOutputs();
    ExitFields fields;
    fields.exit_code = 128;
    fields.reason = "StartError";
    fields.message = message;
    fields.finished_at = sys::RealtimeNanos();
    WriteExitRecord(fields);
  }

  void ReapChildren() {
    while (true) {
      int status = 0;
      long pid = sys::Wait4(-1, &status, WNOHANG);
      if (pid <= 0) return;
      if (pid == init_pid_ && state_ != State::kExited) RecordExit(status);
      if (pid == compress_pid_) {
        compress_pid_ = -1;
        rotator_.CompressionDone();
        StartCompression();
      }
    }
  }

  // Blocks until the init is reaped: true with its wait status.
  bool WaitInit(int* status) {
    return sys::Retry([&] { return sys::Wait4(init_pid_, status, 0); }) == init_pid_;
  }

  void Start(TextSpan* reply) {
    if (state_ != State::kCreated) {
      reply->Append(state_ == State::kRunning ? "error container is already running"
                                              : "error container has exited");
      return;
    }
    const char start = kStartByte;
    long written = sys::Retry([&] { return sys::Write(start_fd_, &start, 1); });
    if (written != 1) {
      reply->Append("error start pipe: ");
      AppendErrno(written, reply);
      return;
    }
    sys::Close(start_fd_);
    start_fd_ = -1;
    // The init closes the CLOEXEC sync pipe by exec'ing, or writes E<message>.
    size_t size = 0;
    long n = 0;
    while (size < sizeof(g_sync_message)) {
      n = sys::Retry([&] {
        return sys::Read(sync_fd_, g_sync_message + size, sizeof(g_sync_message) - size);
      });
      if (n <= 0) break;
      size += static_cast<size_t>(n);
    }
    sys::Close(sync_fd_);
    sync_fd_ = -1;
    std::string_view message(g_sync_message, size);
    if (n >= 0 && message.empty()) {
      started_at_ = sys::RealtimeNanos();
      Text<24> started;
      started.AppendInt(started_at_);
      AtomicWrite("started", started.view(), false);
      state_ = State::kRunning;
      reply->Append("ok");
      return;
    }
    Text<128> read_error;
    if (n < 0) {
      read_error.Append("sync pipe: ");
      AppendErrno(n, &read_error);
      message = read_error.view();
    } else if (message[0] == kSyncError) {
      message.remove_prefix(1);
    }
    int status = 0;
    // Reaped here, so the SIGCHLD path will not record it again.
    if (WaitInit(&status)) RecordStartError(message);
    reply->Append("error ");
    AppendOneLine(message, reply);
  }

  // Reopens the log (after rotation): 0 or -errno, with what failed in `error`.
  long OpenLog(TextSpan* error) {
    if (log_fd_ >= 0) sys::Close(log_fd_);
    log_fd_ = -1;
    std::string_view path(args_.log_path);
    if (path.empty()) return 0;
    // Create the parent directories, as at create.
    TextSpan dir(g_path, sizeof(g_path));
    for (size_t i = 1; i < path.size(); ++i) {
      if (path[i] != '/') continue;
      dir.Clear();
      dir.Append(std::string_view(path.data(), i));
      long made = sys::Mkdir(dir.CStr(), 0755);
      if (made != 0 && made != -EEXIST) {
        error->Append("mkdir ").Append(dir.view()).Append(": ");
        AppendErrno(made, error);
        return made;
      }
    }
    long fd = sys::Open(args_.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
      error->Append("open log ").Append(path).Append(": ");
      AppendErrno(fd, error);
      return fd;
    }
    log_fd_ = static_cast<int>(fd);
    long end = sys::SeekEnd(log_fd_);
    log_written_ = end > 0 ? end : 0;
    return 0;
  }

  void Execute(const ControlCommand& command, TextSpan* reply) {
    switch (command.kind) {
      case ControlCommand::Kind::kStart:
        Start(reply);
        return;
      case ControlCommand::Kind::kKill:
        // After the exit the pid may belong to someone else: never signal it.
        if (state_ != State::kExited) {
          long killed = sys::Kill(init_pid_, command.signal);
          if (killed != 0) {
            reply->Append("error kill ").AppendInt(init_pid_).Append(": ");
            AppendErrno(killed, reply);
            return;
          }
        }
        reply->Append("ok");
        return;
      case ControlCommand::Kind::kReopenLog: {
        Text<512> error;
        if (OpenLog(&error) != 0) {
          reply->Append("error ");
          AppendOneLine(error.view(), reply);
          return;
        }
        reply->Append("ok");
        return;
      }
      case ControlCommand::Kind::kStatus:
        switch (state_) {
          case State::kCreated:
            reply->Append("created ").AppendInt(init_pid_);
            return;
          case State::kRunning:
            reply->Append("running ").AppendInt(init_pid_);
            return;
          case State::kExited:
            reply->Append("exited ").AppendInt(exit_code_);
            return;
        }
        return;
      case ControlCommand::Kind::kShutdown:
        if (state_ != State::kExited) {
          sys::Kill(init_pid_, SIGKILL);
          int status = 0;
          if (WaitInit(&status)) RecordExit(status);
        }
        CloseAttach();
        sys::Unlink(kSocketName);
        shutdown_ = true;
        reply->Append("ok");
        return;
    }
  }

  void HandleConnection(int fd) {
    // A client that connects and says nothing must not stall the shim for long.
    struct timeval tv = {2, 0};
    sys::SetSockOpt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sys::SetSockOpt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char line[1024 + 256];
    size_t size = 0;
    size_t newline = std::string_view::npos;
    while (newline == std::string_view::npos && size < 1024) {
      long n = sys::Recv(fd, line + size, 256);
      if (n == -EINTR) continue;
      if (n <= 0) break;
      size += static_cast<size_t>(n);
      newline = std::string_view(line, size).find('\n');
    }
    Text<4096 + 64> reply;
    if (newline == std::string_view::npos) {
      reply.Append("error incomplete command line");
    } else {
      ControlCommand command;
      Text<256> error;
      if (ParseControlCommand(std::string_view(line, newline), &command, &error)) {
        Execute(command, &reply);
      } else {
        reply.Append("error ");
        AppendOneLine(error.view(), &reply);
      }
    }
    reply.Append('\n');
    sys::Send(fd, reply.view().data(), reply.size(), MSG_NOSIGNAL);
    sys::Close(fd);
  }

  const MonitorArgs& args_;
  State state_ = State::kCreated;
  pid_t init_pid_;
  int64_t started_at_ = 0;
  int exit_code_ = 0;
  bool shutdown_ = false;
  int log_fd_;
  int start_fd_;
  int sync_fd_;
  int signal_fd_ = -1;
  int attach_fd_;
  int stdin_fd_;                   // pipe write end, or a dup of the pty master
  size_t stdin_pending_size_ = 0;  // bytes waiting in g_stdin_pending
  bool close_stdin_ = false;       // once stdin_pending is written
  int out_fds_[2];
  LogRotator rotator_;
  pid_t compress_pid_ = -1;
  int64_t log_written_ = 0;  // size of the live log file
  CriLogFramer framers_[2];
  size_t log_size_ = 0;
};

// The monitor cannot serve (a bad handoff): stop the init and record why, as
// a failed start, where the runtime looks next.
int Fail(const MonitorArgs& args, std::string_view what) {
  if (args.init_pid > 0) {
    sys::Kill(args.init_pid, SIGKILL);
    int status;
    sys::Retry([&] { return sys::Wait4(args.init_pid, &status, 0); });
  }
  sys::Unlink(kSocketName);
  sys::Unlink(kAttachSocketName);
  Text<600> message;
  message.Append("berth-shim-monitor: ");
  AppendOneLine(what, &message);
  ExitFields fields;
  fields.exit_code = 128;
  fields.reason = "StartError";
  fields.message = message.view();
  fields.finished_at = sys::RealtimeNanos();
  WriteExitJson(fields);
  return 2;
}

}  // namespace

int MonitorMain(int argc, char** argv) {
  MonitorArgs args;
  Text<512> error;
  if (!ParseMonitorArgs(argc, argv, &args, &error)) return Fail(args, error.view());
  Monitor monitor(args);
  if (!monitor.Init()) return Fail(args, "signalfd failed");
  return monitor.Serve();
}

}  // namespace berth::shim
