// Network namespaces by path (/var/run/netns/x, /proc/PID/ns/net, a bind
// mount): an owned fd, and running code inside one without moving the
// calling thread.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::netlink {

// An open network namespace (owns the fd).
class Netns {
 public:
  Netns() = default;
  explicit Netns(int fd) : fd_(fd) {}
  Netns(Netns&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Netns& operator=(Netns&& o) noexcept;
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  ~Netns();

  // Opens `path` and checks it is a network namespace: NotFound when the
  // path does not exist, InvalidArgument when it is not a netns.
  static absl::StatusOr<Netns> Open(const std::string& path);
  // The calling thread's current network namespace.
  static absl::StatusOr<Netns> Current();

  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Runs `fn` on a dedicated thread that first joins `netns` (setns), and
// returns its status; the calling thread never changes namespace.
absl::Status RunInNetns(const Netns& netns, const std::function<absl::Status()>& fn);

// Moves the calling thread into `netns`, runs `fn`, and moves it back to the
// namespace it was in (cheaper than a thread for short calls such as opening
// a socket, which stays bound to the namespace it was created in). A thread
// that cannot get back aborts the process rather than run on in the wrong
// namespace.
absl::Status WithThreadInNetns(const Netns& netns, const std::function<absl::Status()>& fn);

}  // namespace berth::netlink
