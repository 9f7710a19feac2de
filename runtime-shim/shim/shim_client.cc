#include "runtime-shim/shim/shim_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/time.h"

namespace berth {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits until `fd` is ready for `events` or the deadline passes.
absl::Status WaitFor(int fd, short events, int64_t deadline, const std::string& what) {
  while (true) {
    int64_t left_ms = (deadline - MonotonicNanos()) / 1000000;
    if (left_ms <= 0) return absl::DeadlineExceededError(absl::StrCat(what, ": timed out"));
    struct pollfd p = {fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left_ms));
    if (n > 0) return absl::OkStatus();
    if (n < 0 && errno != EINTR) return ErrnoError(what);
  }
}

}  // namespace

absl::StatusOr<std::string> ShimCommand(const std::string& bundle, const std::string& line,
                                        absl::Duration timeout) {
  const int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
  const std::string what = absl::StrCat("shim command \"", line, "\" to ", bundle);
  Fd dir(::open(bundle.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return ErrnoError(absl::StrCat(what, ": open bundle"));
  Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (sock.get() < 0) return ErrnoError(absl::StrCat(what, ": socket"));
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::string path = absl::StrCat("/proc/self/fd/", dir.get(), "/shim.sock");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) {
      return ErrnoError(absl::StrCat(what, ": connect"));
    }
    if (auto s = WaitFor(sock.get(), POLLOUT, deadline, what); !s.ok()) return s;
  }
  std::string request = absl::StrCat(line, "\n");
  absl::string_view rest = request;
  while (!rest.empty()) {
    ssize_t n = ::send(sock.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) return ErrnoError(absl::StrCat(what, ": send"));
      if (auto s = WaitFor(sock.get(), POLLOUT, deadline, what); !s.ok()) return s;
      continue;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  std::string reply;
  char buf[512];
  while (reply.find('\n') == std::string::npos) {
    if (auto s = WaitFor(sock.get(), POLLIN, deadline, what); !s.ok()) return s;
    ssize_t n = ::recv(sock.get(), buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return ErrnoError(absl::StrCat(what, ": recv"));
    }
    if (n == 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  size_t newline = reply.find('\n');
  if (newline == std::string::npos) {
    return absl::UnavailableError(absl::StrCat(what, ": connection closed without a reply"));
  }
  reply.resize(newline);
  return reply;
}

absl::StatusOr<int> ConnectAttachSocket(const std::string& bundle) {
  Fd dir(::open(bundle.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return ErrnoError(absl::StrCat("attach to ", bundle, ": open bundle"));
  int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return ErrnoError(absl::StrCat("attach to ", bundle, ": socket"));
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::string path = absl::StrCat("/proc/self/fd/", dir.get(), "/attach.sock");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(sock, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    ::close(sock);
    if (err == ENOENT || err == ECONNREFUSED) {
      return absl::FailedPreconditionError(
          absl::StrCat("attach to ", bundle, ": the container is not running (no attach socket)"));
    }
    errno = err;
    return ErrnoError(absl::StrCat("attach to ", bundle, ": connect"));
  }
  return sock;
}

}  // namespace berth
