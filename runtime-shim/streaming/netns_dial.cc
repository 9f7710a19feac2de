#include "runtime-shim/streaming/netns_dial.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace berth::streaming {
namespace {

// Non-blocking connect bounded by `timeout`; the socket ends up blocking.
absl::StatusOr<int> Connect(int family, uint16_t port, absl::Duration timeout) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return ErrnoError("socket");
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(*in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    in6->sin6_addr = in6addr_loopback;
    len = sizeof(*in6);
  }
  const char* where = family == AF_INET ? "127.0.0.1" : "[::1]";
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), len);
  if (rc < 0 && errno == EINPROGRESS) {
    pollfd p = {fd, POLLOUT, 0};
    int n;
    do {
      n = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
      close(fd);
      return absl::DeadlineExceededError(absl::StrCat("connect ", where, ":", port, ": timed out"));
    }
    int err = 0;
    socklen_t err_len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (err != 0) {
      close(fd);
      return ErrnoError(err, absl::StrCat("connect ", where, ":", port));
    }
  } else if (rc < 0) {
    int err = errno;
    close(fd);
    return ErrnoError(err, absl::StrCat("connect ", where, ":", port));
  }
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

absl::StatusOr<int> DialLoopback(uint16_t port, absl::Duration timeout) {
  auto v4 = Connect(AF_INET, port, timeout);
  if (v4.ok()) return v4;
  auto v6 = Connect(AF_INET6, port, timeout);
  if (v6.ok()) return v6;
  return v4.status();
}

}  // namespace

absl::StatusOr<int> DialLoopbackInNetns(const std::string& netns_path, uint16_t port,
                                        absl::Duration timeout) {
  if (port == 0) return absl::InvalidArgumentError("port: 0 is not a valid port");
  if (netns_path.empty()) return DialLoopback(port, timeout);
  int ns = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) return ErrnoError(absl::StrCat("open network namespace ", netns_path));
  absl::StatusOr<int> result = absl::InternalError("not run");
  std::thread helper([&] {
    if (setns(ns, CLONE_NEWNET) != 0) {
      result = ErrnoError(absl::StrCat("join network namespace ", netns_path));
      return;
    }
    result = DialLoopback(port, timeout);
  });
  helper.join();
  close(ns);
  return result;
}

}  // namespace berth::streaming
