#include "runtime-shim/shim/container_rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "runtime-shim/shim/fd.h"
#include "runtime-shim/shim/mount_options.h"
#include "runtime-shim/shim/root_path.h"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000  // linux/fcntl.h; glibc 2.36 lacks it
#endif

namespace berth::shim {
namespace {

absl::Status Mount(const std::string& source, const std::string& target, const char* type,
                   unsigned long flags, const std::string& data, absl::string_view what) {
  if (::mount(source.c_str(), target.c_str(), type, flags,
              data.empty() ? nullptr : data.c_str()) != 0) {
    return ErrnoError(absl::StrCat("mount ", what, " on ", target));
  }
  return absl::OkStatus();
}

absl::Status MakeTreeReadOnly(const std::string& target) {
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::mount_setattr(AT_FDCWD, target.c_str(), AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
    return ErrnoError(absl::StrCat("make ", target, " read-only recursively"));
  }
  return absl::OkStatus();
}

// Creates `path` as an empty file (parents as dirs) if it does not exist.
absl::Status EnsureFile(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) RETURN_IF_ERROR(MkdirAll(path.substr(0, slash)));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    if (errno == EISDIR) return absl::OkStatus();
    return ErrnoError(absl::StrCat("create ", path));
  }
  ::close(fd);
  return absl::OkStatus();
}

absl::Status Symlink(const std::string& target, const std::string& link) {
  if (::symlink(target.c_str(), link.c_str()) != 0 && errno != EEXIST) {
    return ErrnoError(absl::StrCat("symlink ", link, " -> ", target));
  }
  return absl::OkStatus();
}

absl::Status BindHostNode(const std::string& host, const std::string& target) {
  RETURN_IF_ERROR(EnsureFile(target));
  return Mount(host, target, nullptr, MS_BIND, "", host);
}

absl::Status MountStandard(const std::string& root, const RootfsOptions& options) {
  const unsigned long kSafe = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  struct Standard {
    const char* dest;
    const char* source;
    const char* type;
    unsigned long flags;
    const char* data;
  };
  const Standard kStandard[] = {
      {"/proc", "proc", "proc", kSafe, ""},
      {"/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
      {"/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
       "newinstance,ptmxmode=0666,mode=0620,gid=5"},
      {"/dev/shm", "shm", "tmpfs", kSafe, "mode=1777,size=65536k"},
      {"/dev/mqueue", "mqueue", "mqueue", kSafe, ""},
  };
  for (const Standard& m : kStandard) {
    ASSIGN_OR_RETURN(std::string target, ResolveInRoot(root, m.dest));
    RETURN_IF_ERROR(MkdirAll(target));
    RETURN_IF_ERROR(Mount(m.source, target, m.type, m.flags, m.data, m.type));
  }
  ASSIGN_OR_RETURN(std::string sys, ResolveInRoot(root, "/sys"));
  RETURN_IF_ERROR(MkdirAll(sys));
  if (options.new_net_ns) {
    RETURN_IF_ERROR(Mount("sysfs", sys, "sysfs", kSafe | MS_RDONLY, "", "sysfs"));
  } else {
    // A sysfs mount needs a net namespace we own; reuse the host's view, read-only.
    RETURN_IF_ERROR(Mount("/sys", sys, nullptr, MS_BIND | MS_REC, "", "/sys (rbind)"));
    RETURN_IF_ERROR(MakeTreeReadOnly(sys));
  }
  const std::string cgroup = sys + "/fs/cgroup";
  if (PathExists("/sys/fs/cgroup") && PathExists(cgroup)) {
    RETURN_IF_ERROR(
        Mount("/sys/fs/cgroup", cgroup, nullptr, MS_BIND | MS_REC, "", "/sys/fs/cgroup (rbind)"));
    RETURN_IF_ERROR(MakeTreeReadOnly(cgroup));
  }

  const std::string dev = root + "/dev";
  for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
    RETURN_IF_ERROR(BindHostNode(absl::StrCat("/dev/", node), absl::StrCat(dev, "/", node)));
  }
  RETURN_IF_ERROR(Symlink("pts/ptmx", dev + "/ptmx"));
  RETURN_IF_ERROR(Symlink("/proc/self/fd", dev + "/fd"));
  RETURN_IF_ERROR(Symlink("/proc/self/fd/0", dev + "/stdin"));
  RETURN_IF_ERROR(Symlink("/proc/self/fd/1", dev + "/stdout"));
  RETURN_IF_ERROR(Symlink("/proc/self/fd/2", dev + "/stderr"));
  RETURN_IF_ERROR(Symlink("/proc/kcore", dev + "/core"));
  return absl::OkStatus();
}

absl::Status MountSpecMount(const std::string& root, const MountSpec& m) {
  if (m.destination.empty() || m.destination[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("mount destination \"", m.destination, "\" is not absolute"));
  }
  ASSIGN_OR_RETURN(std::string target, ResolveInRoot(root, m.destination));
  MountOptions opts = ParseMountOptions(m.options, m.type);
  if (opts.bind()) {
    struct stat st;
    if (::stat(m.source.c_str(), &st) != 0) {
      return ErrnoError(absl::StrCat("stat bind source ", m.source));
    }
    if (S_ISDIR(st.st_mode)) {
      RETURN_IF_ERROR(MkdirAll(target));
    } else {
      RETURN_IF_ERROR(EnsureFile(target));
    }
    RETURN_IF_ERROR(Mount(m.source, target, nullptr, opts.flags & (MS_BIND | MS_REC), "",
                          absl::StrCat("bind ", m.source)));
    // Flags other than bind/rec apply only through a remount of the bind.
    const unsigned long rest = opts.flags & ~(MS_BIND | MS_REC);
    if (rest != 0) {
      RETURN_IF_ERROR(Mount("", target, nullptr, MS_BIND | MS_REMOUNT | rest, "",
                            absl::StrCat("remount ", m.source)));
    }
  } else {
    RETURN_IF_ERROR(MkdirAll(target));
    RETURN_IF_ERROR(Mount(m.source, target, m.type.c_str(), opts.flags, opts.data, m.type));
  }
  if (opts.propagation != 0) {
    RETURN_IF_ERROR(Mount("", target, nullptr, opts.propagation, "", "propagation"));
  }
  return absl::OkStatus();
}

absl::Status CreateDevice(const std::string& root, const DeviceSpec& d) {
  ASSIGN_OR_RETURN(std::string target, ResolveInRoot(root, d.path));
  if (!d.host_path.empty() && PathExists(d.host_path)) {
    RETURN_IF_ERROR(BindHostNode(d.host_path, target));
    return absl::OkStatus();
  }
  size_t slash = target.rfind('/');
  RETURN_IF_ERROR(MkdirAll(target.substr(0, slash)));
  const mode_t kind = d.type == 'b' ? S_IFBLK : S_IFCHR;
  ::unlink(target.c_str());
  if (::mknod(target.c_str(), kind | (d.file_mode & 07777),
              makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor))) != 0) {
    return ErrnoError(absl::StrCat("mknod ", target));
  }
  if (::chown(target.c_str(), d.uid, d.gid) != 0) return ErrnoError(absl::StrCat("chown ", target));
  return absl::OkStatus();
}

absl::Status PivotRoot(const std::string& root) {
  if (::chdir(root.c_str()) != 0) return ErrnoError(absl::StrCat("chdir ", root));
  // pivot_root(".", ".") stacks the old root on top of the new one; detach it.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) {
    return ErrnoError(absl::StrCat("pivot_root ", root));
  }
  if (::mount("", ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
    return ErrnoError("make old root rslave");
  }
  if (::umount2(".", MNT_DETACH) != 0) return ErrnoError("detach old root");
  if (::chdir("/") != 0) return ErrnoError("chdir /");
  return absl::OkStatus();
}

absl::Status MaskPath(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(absl::StrCat("stat masked path ", path));
  }
  if (S_ISDIR(st.st_mode)) {
    return Mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0", "mask tmpfs");
  }
  return Mount("/dev/null", path, nullptr, MS_BIND, "", "mask /dev/null");
}

absl::Status MakeReadOnly(const std::string& path) {
  if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(absl::StrCat("bind read-only path ", path));
  }
  return MakeTreeReadOnly(path);
}

}  // namespace

std::string OverlayMountData(const ContainerSpec& spec) {
  return absl::StrCat("lowerdir=", absl::StrJoin(spec.lower_dirs, ":"),
                      ",upperdir=", spec.upper_dir, ",workdir=", spec.work_dir);
}

absl::Status SetupContainerRootfs(const ContainerSpec& spec, const RootfsOptions& options) {
  if (spec.rootfs.empty()) return absl::InvalidArgumentError("spec.rootfs is empty");
  // Keep host mount events flowing in, never ours flowing out.
  RETURN_IF_ERROR(Mount("", "/", nullptr, MS_SLAVE | MS_REC, "", "rslave"));
  const std::string root = CleanPath(spec.rootfs);
  if (!spec.lower_dirs.empty()) {
    for (const std::string& dir : spec.lower_dirs) {
      if (!PathExists(dir)) {
        return ErrnoError(ENOENT, absl::StrCat("mount overlay on ", root, ": lower dir ", dir));
      }
    }
    RETURN_IF_ERROR(MkdirAll(root));
    RETURN_IF_ERROR(Mount("overlay", root, "overlay", 0, OverlayMountData(spec), "overlay"));
  }
  // pivot_root needs the new root to be a mount point.
  RETURN_IF_ERROR(Mount(root, root, nullptr, MS_BIND | MS_REC, "", "rootfs bind"));
  RETURN_IF_ERROR(MountStandard(root, options));
  for (const MountSpec& m : spec.mounts) RETURN_IF_ERROR(MountSpecMount(root, m));
  for (const DeviceSpec& d : spec.devices) RETURN_IF_ERROR(CreateDevice(root, d));
  RETURN_IF_ERROR(PivotRoot(root));
  for (const std::string& path : spec.masked_paths) RETURN_IF_ERROR(MaskPath(path));
  for (const std::string& path : spec.readonly_paths) RETURN_IF_ERROR(MakeReadOnly(path));
  if (spec.readonly_rootfs) {
    RETURN_IF_ERROR(Mount("", "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, "", "read-only /"));
  }
  return absl::OkStatus();
}

}  // namespace berth::shim
