#include "runtime-shim/streaming/exec_session.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "nlohmann/json.hpp"
#include "runtime-shim/streaming/exec_status.h"

namespace berth::streaming {
namespace {

// How long output may keep coming after the command exited (a background
// child holding the pipe) before the session ends anyway.
constexpr auto kDrainAfterExit = std::chrono::seconds(2);

struct ChildFds {
  int in = -1, out = -1, err = -1;
  ~ChildFds() {
    for (int fd : {in, out, err}) {
      if (fd >= 0) close(fd);
    }
  }
};

}  // namespace

ExecSession::ExecSession(WebSocket ws, ChannelProtocol protocol, ::runtime::v1::ExecRequest request,
                         StreamingRuntime* runtime)
    : ChannelSession(std::move(ws), protocol), request_(std::move(request)), runtime_(runtime) {}

ExecSession::ExecSession(std::unique_ptr<ChannelTransport> transport, ::runtime::v1::ExecRequest request,
                         StreamingRuntime* runtime)
    : ChannelSession(std::move(transport)), request_(std::move(request)), runtime_(runtime) {}

void ExecSession::Fail(const std::string& message) {
  BERTH_LOG(Warning) << "streaming exec failed" << Kv("container", request_.container_id())
                     << Kv("error", message);
  start_error_ = message;
  exited_ = true;
  Finish();
}

void ExecSession::Begin() {
  std::vector<std::string> cmd(request_.cmd().begin(), request_.cmd().end());
  ChildFds child;
  auto ex = executor();
  if (request_.tty()) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
      if (master >= 0) close(master);
      return Fail(absl::StrCat("allocate a pty: ", strerror(errno)));
    }
    char name[128];
    if (ptsname_r(master, name, sizeof(name)) != 0) {
      close(master);
      return Fail(absl::StrCat("ptsname: ", strerror(errno)));
    }
    int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) {
      close(master);
      return Fail(absl::StrCat("open ", name, ": ", strerror(errno)));
    }
    child.in = slave;
    child.out = dup(slave);
    child.err = dup(slave);
    pty_master_ = master;
    stdout_.fd = std::make_unique<asio::posix::stream_descriptor>(ex, master);
    stdout_.channel = kStdoutChannel;
    stdout_.forward = request_.stdout();
    stdout_.done = false;
  } else {
    int fds[2];
    if (request_.stdin()) {
      if (pipe2(fds, O_CLOEXEC) != 0) return Fail(absl::StrCat("pipe: ", strerror(errno)));
      child.in = fds[0];
      stdin_ = std::make_unique<asio::posix::stream_descriptor>(ex, fds[1]);
    }
    Output* outs[2] = {&stdout_, &stderr_};
    bool wanted[2] = {request_.stdout(), request_.stderr()};
    for (int i = 0; i < 2; ++i) {
      if (!wanted[i]) continue;
      if (pipe2(fds, O_CLOEXEC) != 0) return Fail(absl::StrCat("pipe: ", strerror(errno)));
      (i == 0 ? child.out : child.err) = fds[1];
      outs[i]->fd = std::make_unique<asio::posix::stream_descriptor>(ex, fds[0]);
      outs[i]->channel = i == 0 ? kStdoutChannel : kStderrChannel;
      outs[i]->forward = true;
      outs[i]->done = false;
    }
  }
  auto process = runtime_->StartExec(request_.container_id(), cmd, request_.tty(), child.in, child.out,
                                     child.err);
  if (!process.ok()) {
    stdout_.done = stderr_.done = true;
    return Fail(std::string(process.status().message()));
  }
  pid_ = process->pid;
  error_fd_ = process->error_fd;
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd < 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    return Fail(absl::StrCat("pidfd_open ", pid_, ": ", strerror(errno)));
  }
  pidfd_ = std::make_unique<asio::posix::stream_descriptor>(ex, pidfd);

  // An empty message on the lowest writable channel tells the client the
  // streams are ready, as the kubelet does.
  Send(request_.stdout() ? kStdoutChannel : request_.stderr() ? kStderrChannel : kErrorChannel, "");
  for (Output* out : {&stdout_, &stderr_}) {
    if (!out->done) ReadOutput(out);
  }
  WaitForExit();
}

void ExecSession::ReadOutput(Output* out) {
  auto self = std::static_pointer_cast<ExecSession>(shared_from_this());
  out->fd->async_read_some(asio::buffer(out->buffer), [self, out](boost::system::error_code ec, size_t n) {
    if (ec || n == 0) {
      // EOF, or EIO from a pty master once every slave fd is closed.
      out->done = true;
      self->MaybeFinish();
      return;
    }
    if (!out->forward || self->finished_) {
      self->ReadOutput(out);
      return;
    }
    self->Send(out->channel, absl::string_view(out->buffer.data(), n), [self, out] { self->ReadOutput(out); });
  });
}

void ExecSession::WaitForExit() {
  auto self = std::static_pointer_cast<ExecSession>(shared_from_this());
  pidfd_->async_wait(asio::posix::descriptor_base::wait_read, [self](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    self->OnExit();
  });
}

void ExecSession::OnExit() {
  int status = 0;
  pid_t got;
  do {
    got = waitpid(pid_, &status, WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got == 0) {  // woken early: wait again
    WaitForExit();
    return;
  }
  if (got == pid_) {
    exit_code_ = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  }
  pid_ = -1;
  pidfd_->close();
  // Every writer of the error pipe is gone now: read what it holds.
  if (error_fd_ >= 0) {
    fcntl(error_fd_, F_SETFL, O_NONBLOCK);
    std::string text;
    char buf[1024];
    ssize_t n;
    while ((n = read(error_fd_, buf, sizeof(buf))) > 0) text.append(buf, n);
    close(error_fd_);
    error_fd_ = -1;
    absl::string_view line = absl::StripAsciiWhitespace(text);
    if (absl::ConsumePrefix(&line, "error ")) start_error_ = std::string(line);
  }
  exited_ = true;
  if (stdin_) stdin_->close();
  drain_timer_ = std::make_unique<asio::steady_timer>(executor(), kDrainAfterExit);
  auto self = std::static_pointer_cast<ExecSession>(shared_from_this());
  drain_timer_->async_wait([self](boost::system::error_code ec) {
    if (ec) return;
    for (Output* out : {&self->stdout_, &self->stderr_}) {
      if (out->fd) out->fd->cancel();
    }
  });
  MaybeFinish();
}

void ExecSession::MaybeFinish() {
  if (finished_ || !exited_ || !stdout_.done || !stderr_.done) return;
  Finish();
}

void ExecSession::Finish() {
  if (finished_) return;
  finished_ = true;
  if (drain_timer_) drain_timer_->cancel();
  std::string status;
  if (protocol().version >= 4) {
    if (!start_error_.empty()) {
      status = InternalErrorStatusJson(start_error_);
    } else if (exit_code_ == 0) {
      status = SuccessStatusJson();
    } else {
      status = NonZeroExitStatusJson(exit_code_);
    }
  } else if (!start_error_.empty()) {
    status = start_error_;
  } else if (exit_code_ != 0) {
    status = absl::StrCat("command terminated with non-zero exit code: ", exit_code_);
  }
  if (!status.empty() || protocol().version >= 4) Send(kErrorChannel, status);
  CloseWhenSent();
  if (stdin_) stdin_->close();
}

asio::posix::stream_descriptor* ExecSession::StdinWriter() {
  if (!request_.stdin() || exited_) return nullptr;
  if (request_.tty()) return stdout_.fd && stdout_.fd->is_open() ? stdout_.fd.get() : nullptr;
  return stdin_ && stdin_->is_open() ? stdin_.get() : nullptr;
}

void ExecSession::CloseStdin() {
  if (!request_.stdin()) return;
  if (request_.tty()) {
    // A pty has no half-close: end of file is the EOF character.
    if (auto* w = StdinWriter()) {
      stdin_data_ = "\x04";
      auto self = std::static_pointer_cast<ExecSession>(shared_from_this());
      asio::async_write(*w, asio::buffer(stdin_data_), [self](boost::system::error_code, size_t) { self->ReadNext(); });
      return;
    }
  } else if (stdin_) {
    stdin_->close();
  }
  ReadNext();
}

void ExecSession::OnFrame(ChannelFrame frame) {
  if (finished_) return ReadNext();
  switch (frame.channel) {
    case kStdinChannel: {
      auto* w = StdinWriter();
      if (!w || frame.data.empty()) return ReadNext();
      stdin_data_ = std::move(frame.data);
      auto self = std::static_pointer_cast<ExecSession>(shared_from_this());
      asio::async_write(*w, asio::buffer(stdin_data_), [self](boost::system::error_code ec, size_t) {
        if (ec && self->stdin_ && !self->request_.tty()) self->stdin_->close();  // the command closed stdin
        self->ReadNext();
      });
      return;
    }
    case kResizeChannel: {
      if (request_.tty() && pty_master_ >= 0 && stdout_.fd && stdout_.fd->is_open()) {
        auto size = nlohmann::json::parse(frame.data, nullptr, /*allow_exceptions=*/false);
        if (size.is_object() && size.value("Width", -1) >= 0 && size.value("Height", -1) >= 0) {
          struct winsize ws = {};
          ws.ws_col = static_cast<unsigned short>(size.value("Width", 0));
          ws.ws_row = static_cast<unsigned short>(size.value("Height", 0));
          ioctl(pty_master_, TIOCSWINSZ, &ws);
        } else {
          BERTH_LOG(Warning) << "streaming exec: bad resize message" << Kv("data", frame.data);
        }
      }
      return ReadNext();
    }
    case kCloseChannel:
      // The transport passes close messages on only where the protocol has them.
      if (!frame.data.empty() && frame.data[0] == kStdinChannel) return CloseStdin();
      return ReadNext();
    default:
      return ReadNext();
  }
}

void ExecSession::OnClientGone() {
  if (finished_) return;
  // The client left before the command ended: end its input, hang it up.
  if (stdin_) stdin_->close();
  if (pid_ > 0) kill(pid_, SIGHUP);
}

}  // namespace berth::streaming
