#include "runtime-shim/cni/testing/netns_testing.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "gtest/gtest.h"

namespace berth::cni::testing {

absl::StatusOr<int> EnterPrivateNetns() {
  int original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original < 0) return ErrnoError("open /proc/thread-self/ns/net");
  if (unshare(CLONE_NEWNET) < 0) {
    int err = errno;
    close(original);
    return ErrnoError(err, "unshare(CLONE_NEWNET)");
  }
  return original;
}

absl::Status LeavePrivateNetns(int original_fd) {
  absl::Status status;
  if (setns(original_fd, CLONE_NEWNET) < 0) status = ErrnoError("setns back to the original netns");
  close(original_fd);
  return status;
}

absl::Status PinNewNetns(const std::string& path) {
  int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
  if (fd < 0) return ErrnoError(absl::StrCat("create ", path));
  close(fd);
  absl::Status status;
  std::thread worker([&] {
    if (unshare(CLONE_NEWNET) < 0) {
      status = ErrnoError("unshare(CLONE_NEWNET)");
    } else if (mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) < 0) {
      status = ErrnoError(absl::StrCat("pin ", path));
    }
  });
  worker.join();
  return status;
}

void InNetns(const std::string& netns, const std::function<void()>& fn) {
  std::thread worker([&] {
    int fd = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
      ADD_FAILURE() << "setns " << netns << ": " << strerror(errno);
      if (fd >= 0) close(fd);
      return;
    }
    close(fd);
    fn();
  });
  worker.join();
}

}  // namespace berth::cni::testing
