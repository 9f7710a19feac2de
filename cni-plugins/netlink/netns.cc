#include "cni-plugins/netlink/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/logging.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

namespace berth::netlink {

Netns& Netns::operator=(Netns&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Netns::~Netns() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<Netns> Netns::Open(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(absl::StrCat("open netns ", path));
  Netns out(fd);
  struct statfs fs = {};
  if (fstatfs(fd, &fs) < 0) return ErrnoError(absl::StrCat("statfs netns ", path));
  // A pinned namespace is an nsfs inode; /proc/PID/ns/net reads as proc.
  if (fs.f_type != static_cast<decltype(fs.f_type)>(NSFS_MAGIC) &&
      fs.f_type != static_cast<decltype(fs.f_type)>(PROC_SUPER_MAGIC)) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a network namespace"));
  }
  return out;
}

absl::StatusOr<Netns> Netns::Current() { return Open("/proc/thread-self/ns/net"); }

absl::Status RunInNetns(const Netns& netns, const std::function<absl::Status()>& fn) {
  absl::Status status;
  std::thread worker([&] {
    if (setns(netns.fd(), CLONE_NEWNET) < 0) {
      status = ErrnoError("setns into the network namespace");
      return;
    }
    status = fn();
  });
  worker.join();
  return status;
}

absl::Status WithThreadInNetns(const Netns& netns, const std::function<absl::Status()>& fn) {
  auto original = Netns::Current();
  if (!original.ok()) return original.status();
  if (setns(netns.fd(), CLONE_NEWNET) < 0) return ErrnoError("setns into the network namespace");
  absl::Status status = fn();
  if (setns(original->fd(), CLONE_NEWNET) < 0) {
    BERTH_LOG(Error) << "cannot return to the original network namespace: " << strerror(errno);
    std::abort();
  }
  return status;
}

}  // namespace berth::netlink
