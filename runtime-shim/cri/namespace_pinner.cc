#include "runtime-shim/cri/namespace_pinner.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth {
namespace {

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

absl::Status BringLoopbackUp() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoError("socket for loopback");
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  absl::Status status;
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
    status = ErrnoError("get flags of lo");
  } else {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) status = ErrnoError("bring lo up");
  }
  close(fd);
  return status;
}

absl::Status BindNamespace(const std::string& type, const std::string& target) {
  int fd = open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
  if (fd < 0) return ErrnoError(absl::StrCat("create ", target));
  close(fd);
  std::string source = absl::StrCat("/proc/self/task/", syscall(SYS_gettid), "/ns/", type);
  if (mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) < 0) {
    int err = errno;
    unlink(target.c_str());
    return ErrnoError(err, absl::StrCat("bind ", source, " on ", target));
  }
  return absl::OkStatus();
}

// Runs on the dedicated thread: everything here affects only that thread's
// namespaces, never the agent's.
absl::Status PinOnThisThread(const PinRequest& request, PinnedNamespaces* pinned) {
  int flags = (request.net ? CLONE_NEWNET : 0) | (request.ipc ? CLONE_NEWIPC : 0) |
              (request.uts ? CLONE_NEWUTS : 0);
  if (flags == 0) return absl::OkStatus();
  if (unshare(flags) < 0) return ErrnoError("unshare pod namespaces");
  if (request.uts && !request.hostname.empty() &&
      sethostname(request.hostname.data(), request.hostname.size()) < 0) {
    return ErrnoError(absl::StrCat("sethostname ", request.hostname));
  }
  if (request.net) RETURN_IF_ERROR(BringLoopbackUp());
  for (const auto& [name, value] : request.sysctls) {
    // /proc/sys resolves the net and ipc entries from the opening thread.
    std::string path = absl::StrCat("/proc/sys/", absl::StrReplaceAll(name, {{".", "/"}}));
    RETURN_IF_ERROR(Annotate(WriteKnob(path, value), absl::StrCat("sysctl ", name)));
  }
  for (const char* type : {"net", "ipc", "uts"}) {
    bool wanted = (type[0] == 'n' && request.net) || (type[0] == 'i' && request.ipc) ||
                  (type[0] == 'u' && request.uts);
    if (!wanted) continue;
    std::string target = absl::StrCat(request.dir, "/", type);
    RETURN_IF_ERROR(BindNamespace(type, target));
    (*pinned)[type] = target;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PinnedNamespaces> PinNamespaces(const PinRequest& request) {
  RETURN_IF_ERROR(MkdirAll(request.dir, 0711));
  PinnedNamespaces pinned;
  absl::Status status;
  // A fresh thread: unshare() of net/ipc/uts applies to the calling thread
  // only, and the thread's namespaces go away with it unless pinned.
  std::thread worker([&] { status = PinOnThisThread(request, &pinned); });
  worker.join();
  if (!status.ok()) {
    UnpinNamespaces(request.dir).IgnoreError();
    return status;
  }
  return pinned;
}

absl::Status UnpinNamespaces(const std::string& dir) {
  for (const char* type : {"net", "ipc", "uts", "pid"}) {
    std::string path = absl::StrCat(dir, "/", type);
    if (umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
      return ErrnoError(absl::StrCat("unmount ", path));
    }
    if (unlink(path.c_str()) < 0 && errno != ENOENT) return ErrnoError(absl::StrCat("remove ", path));
  }
  if (rmdir(dir.c_str()) < 0 && errno != ENOENT) return ErrnoError(absl::StrCat("remove ", dir));
  return absl::OkStatus();
}

bool IsPinnedNamespace(const std::string& path) {
  struct statfs fs {};
  if (statfs(path.c_str(), &fs) < 0) return false;
  return static_cast<unsigned long>(fs.f_type) == NSFS_MAGIC;
}

absl::Status ValidatePodSysctl(const std::string& name, bool host_net, bool host_ipc) {
  bool ipc = absl::StartsWith(name, "kernel.shm") || absl::StartsWith(name, "kernel.msg") ||
             name == "kernel.sem" || absl::StartsWith(name, "fs.mqueue.");
  bool net = absl::StartsWith(name, "net.");
  if (!ipc && !net) {
    return absl::InvalidArgumentError(
        absl::StrCat("linux.sysctls: \"", name, "\" is not a namespaced sysctl (net.*, ipc)"));
  }
  if ((net && host_net) || (ipc && host_ipc)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "linux.sysctls: \"", name, "\" cannot be set in a pod sharing the host's namespace"));
  }
  if (name.find("..") != std::string::npos || name.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("linux.sysctls: invalid name \"", name, "\""));
  }
  return absl::OkStatus();
}

}  // namespace berth
