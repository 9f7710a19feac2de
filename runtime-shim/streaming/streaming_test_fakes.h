// Test doubles for the streaming server tests: a runtime whose "running"
// container runs commands on the host (fork + exec, a pty made the
// controlling terminal) and whose "pod" sandbox is the host's loopback, an
// echo server, and a port nothing listens on.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime-shim/shim/attach_protocol.h"
#include "runtime-shim/streaming/netns_dial.h"
#include "runtime-shim/streaming/streaming_runtime.h"

namespace berth::streaming::testing_fakes {

class FakeRuntime : public StreamingRuntime {
 public:
  absl::StatusOr<ExecProcess> StartExec(const std::string& container_id, const std::vector<std::string>& cmd,
                                        bool tty, int in, int out, int err) override {
    if (container_id != "running") {
      return absl::FailedPreconditionError(absl::StrCat("container ", container_id, " is not running"));
    }
    std::vector<char*> argv;
    for (const auto& a : cmd) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    pid_t pid = fork();
    if (pid == 0) {
      setsid();
      dup2(in >= 0 ? in : null_fd, 0);
      dup2(out >= 0 ? out : null_fd, 1);
      dup2(err >= 0 ? err : null_fd, 2);
      if (tty) ioctl(0, TIOCSCTTY, 0);
      close_range(3, ~0U, 0);  // as the real shim spawn does: no inherited sockets
      sigset_t empty;
      sigemptyset(&empty);
      sigprocmask(SIG_SETMASK, &empty, nullptr);
      signal(SIGINT, SIG_DFL);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    close(null_fd);
    last_pid = pid;
    return ExecProcess{pid, -1};
  }
  // "burst": an attach socket that already holds kBurstFrames stdout frames
  // (frame i is "line <i>\n") and then ends, so the session reads several
  // frames at once and finishes with Success. Anything else is a container
  // gone since its token.
  static constexpr int kBurstFrames = 400;
  absl::StatusOr<int> ConnectAttach(const std::string& container_id) override {
    if (container_id != "burst") {
      return absl::FailedPreconditionError(absl::StrCat("container ", container_id, " is not running"));
    }
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return absl::InternalError("socketpair");
    std::string frames;
    for (int i = 0; i < kBurstFrames; ++i) {
      std::string line = absl::StrCat("line ", i, "\n");
      std::string header(shim::kAttachHeaderSize, '\0');
      shim::EncodeAttachHeader(shim::kAttachStdout, static_cast<uint32_t>(line.size()),
                               reinterpret_cast<unsigned char*>(header.data()));
      frames += header + line;
    }
    bool written = write(fds[1], frames.data(), frames.size()) == static_cast<ssize_t>(frames.size());
    close(fds[1]);
    if (!written) {
      close(fds[0]);
      return absl::InternalError("filling the burst attach socket");
    }
    return fds[0];
  }
  absl::StatusOr<int> DialPort(const std::string& sandbox_id, uint16_t port) override {
    if (sandbox_id != "pod") return absl::NotFoundError(absl::StrCat("sandbox ", sandbox_id, " not found"));
    return DialLoopbackInNetns("", port);
  }
  std::atomic<pid_t> last_pid{-1};
};

// An echo server on 127.0.0.1:<port> that serves any number of connections.
class EchoServer {
 public:
  EchoServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 16);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        std::thread([c] {
          char buf[65536];
          ssize_t n;
          while ((n = read(c, buf, sizeof(buf))) > 0) {
            if (write(c, buf, n) != n) break;
          }
          close(c);
        }).detach();
      }
    });
  }
  ~EchoServer() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int fd_;
  uint16_t port_;
  std::thread thread_;
};

// A port nothing listens on (bound, never listening).
inline uint16_t UnusedPort(int* keep_fd) {
  *keep_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(*keep_fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(*keep_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

}  // namespace berth::streaming::testing_fakes
