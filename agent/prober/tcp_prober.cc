#include "agent/prober/tcp_prober.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>

#include "absl/strings/str_cat.h"
#include "common/time.h"

namespace berth::agent::prober {
namespace {

// strerror in Go's spelling ("connection refused"), as the kubelet's events read.
std::string ErrText(int err) {
  std::string s = strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string HostPort(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
}

// Connects one address before `deadline_ns` (monotonic); "" on success, else why not.
std::string ConnectOne(const sockaddr* addr, socklen_t len, int64_t deadline_ns) {
  int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::StrCat("socket: ", ErrText(errno));
  std::string err;
  if (connect(fd, addr, len) != 0) {
    if (errno != EINPROGRESS) {
      err = absl::StrCat("connect: ", ErrText(errno));
    } else {
      for (;;) {
        int64_t left_ms = (deadline_ns - MonotonicNanos()) / 1000000;
        if (left_ms <= 0) {
          err = "i/o timeout";
          break;
        }
        pollfd p{fd, POLLOUT, 0};
        int rc = poll(&p, 1, static_cast<int>(left_ms));
        if (rc < 0 && errno == EINTR) continue;
        if (rc < 0) {
          err = absl::StrCat("poll: ", ErrText(errno));
          break;
        }
        if (rc == 0) continue;  // re-check the deadline
        int so_error = 0;
        socklen_t so_len = sizeof(so_error);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len);
        if (so_error != 0) err = absl::StrCat("connect: ", ErrText(so_error));
        break;
      }
    }
  }
  close(fd);
  return err;
}

}  // namespace

ProbeOutcome TcpProbe(const std::string& host, int port, absl::Duration timeout) {
  int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
  std::string target = HostPort(host, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) {
    return {ProbeResult::kFailure, absl::StrCat("dial tcp ", target, ": lookup ", host, ": ", gai_strerror(rc))};
  }
  std::string err = "no addresses";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    err = ConnectOne(ai->ai_addr, ai->ai_addrlen, deadline);
    if (err.empty()) break;
  }
  freeaddrinfo(res);
  if (err.empty()) return {ProbeResult::kSuccess, ""};
  return {ProbeResult::kFailure, absl::StrCat("dial tcp ", target, ": ", err)};
}

}  // namespace berth::agent::prober
