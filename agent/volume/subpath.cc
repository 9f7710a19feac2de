#include "agent/volume/subpath.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/volume/mount_table.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::agent::volume {
namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) close(fd_);
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) == nullptr) return ErrnoError(absl::StrCat("resolve ", path));
  return std::string(buf);
}

bool Within(const std::string& path, const std::string& base) {
  return path == base || absl::StartsWith(path, base == "/" ? base : base + "/");
}

std::vector<std::string> Components(const std::string& rel) {
  std::vector<std::string> out;
  for (absl::string_view p : absl::StrSplit(rel, '/', absl::SkipEmpty())) {
    if (p != ".") out.emplace_back(p);
  }
  return out;
}

absl::Status NotWithin(const std::string& sub_path, const std::string& volume) {
  return absl::InvalidArgumentError(
      absl::StrCat("subpath \"", sub_path, "\" not within volume path \"", volume, "\""));
}

// Makes the missing part of `sub_path` under `volume_real` as directories with
// `mode`, never following a link out of the volume.
absl::Status SafeMakeDirs(const std::string& volume_real, const std::string& sub_path, mode_t mode) {
  std::string cur = volume_real;
  std::vector<std::string> parts = Components(sub_path);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string next = absl::StrCat(cur, "/", parts[i]);
    auto resolved = RealPath(next);
    if (resolved.ok()) {
      if (!Within(*resolved, volume_real)) return NotWithin(sub_path, volume_real);
      cur = *resolved;
      continue;
    }
    if (!absl::IsNotFound(resolved.status())) return resolved.status();
    struct stat lst;
    if (lstat(next.c_str(), &lst) == 0) return NotWithin(sub_path, volume_real);  // a dangling link
    Fd dir(open(cur.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (dir.get() < 0) return ErrnoError(absl::StrCat("open ", cur));
    for (size_t j = i; j < parts.size(); ++j) {
      if (mkdirat(dir.get(), parts[j].c_str(), mode) != 0 && errno != EEXIST) {
        return ErrnoError(absl::StrCat("mkdir subpath ", cur, "/", parts[j]));
      }
      Fd child(openat(dir.get(), parts[j].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (child.get() < 0) return ErrnoError(absl::StrCat("open subpath ", cur, "/", parts[j]));
      fchmod(child.get(), mode);  // mkdirat is subject to the umask
      dir = std::move(child);
      cur = absl::StrCat(cur, "/", parts[j]);
    }
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateSubPath(const std::string& sub_path, const std::string& field) {
  if (!sub_path.empty() && sub_path[0] == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": Invalid value: \"", sub_path, "\": must be a relative path"));
  }
  for (absl::string_view p : absl::StrSplit(sub_path, '/')) {
    if (p == "..") {
      return absl::InvalidArgumentError(absl::StrCat(field, ": Invalid value: \"", sub_path, "\": must not contain '..'"));
    }
  }
  return absl::OkStatus();
}

std::string ExpandSubPathExpr(const std::string& expr, const std::map<std::string, std::string>& env) {
  std::string out;
  for (size_t i = 0; i < expr.size(); ++i) {
    if (expr[i] != '$' || i + 1 >= expr.size()) {
      out.push_back(expr[i]);
      continue;
    }
    if (expr[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (expr[i + 1] == '(') {
      size_t close = expr.find(')', i + 2);
      if (close != std::string::npos) {
        std::string name = expr.substr(i + 2, close - i - 2);
        auto it = env.find(name);
        out += it != env.end() ? it->second : expr.substr(i, close - i + 1);
        i = close;
        continue;
      }
    }
    out.push_back('$');
  }
  return out;
}

absl::StatusOr<std::string> PrepareSubPath(const std::string& volume_path, const std::string& sub_path,
                                           const std::string& bind_target) {
  RETURN_IF_ERROR(ValidateSubPath(sub_path, "subPath"));
  ASSIGN_OR_RETURN(std::string volume_real, RealPath(volume_path));
  struct stat vst;
  if (stat(volume_real.c_str(), &vst) != 0) return ErrnoError(absl::StrCat("stat ", volume_real));
  std::string full = absl::StrCat(volume_real, "/", sub_path);
  auto resolved = RealPath(full);
  if (!resolved.ok()) {
    if (!absl::IsNotFound(resolved.status())) return resolved.status();
    RETURN_IF_ERROR(SafeMakeDirs(volume_real, sub_path, vst.st_mode & 07777));
    resolved = RealPath(full);
    if (!resolved.ok()) return resolved.status();
  }
  if (!Within(*resolved, volume_real)) return NotWithin(sub_path, volume_real);

  // Open what was resolved, one component at a time, refusing links: a link
  // swapped in since the resolution above is caught here.
  Fd fd(open(volume_real.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError(absl::StrCat("open ", volume_real));
  std::string rel = resolved->substr(volume_real.size());
  for (const auto& part : Components(rel)) {
    Fd next(openat(fd.get(), part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) return ErrnoError(absl::StrCat("open subpath component ", part, " of ", *resolved));
    struct stat st;
    if (fstat(next.get(), &st) != 0) return ErrnoError(absl::StrCat("stat ", *resolved));
    if (S_ISLNK(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat("subpath \"", sub_path, "\" changed while it was resolved"));
    }
    fd = std::move(next);
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoError(absl::StrCat("stat ", *resolved));

  auto mounted = MountAt(bind_target);
  if (!mounted.ok()) return mounted.status();
  if (mounted->has_value()) {
    // Set up before (the pod worker retried): keep it when it shows the same
    // file, else replace it.
    struct stat cur;
    if (stat(bind_target.c_str(), &cur) == 0 && cur.st_dev == st.st_dev && cur.st_ino == st.st_ino) return bind_target;
    if (umount2(bind_target.c_str(), MNT_DETACH) != 0) return ErrnoError(absl::StrCat("unmount stale ", bind_target));
  }
  struct stat existing;
  if (lstat(bind_target.c_str(), &existing) == 0 && S_ISDIR(existing.st_mode) != S_ISDIR(st.st_mode)) {
    RETURN_IF_ERROR(RemoveAll(bind_target));  // was a file, now a dir, or the reverse
  }

  size_t slash = bind_target.rfind('/');
  RETURN_IF_ERROR(MkdirAll(bind_target.substr(0, slash), 0750));
  if (S_ISDIR(st.st_mode)) {
    if (mkdir(bind_target.c_str(), 0750) != 0 && errno != EEXIST) return ErrnoError(absl::StrCat("mkdir ", bind_target));
  } else {
    int f = open(bind_target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (f < 0) return ErrnoError(absl::StrCat("create ", bind_target));
    close(f);
  }
  std::string source = absl::StrCat("/proc/self/fd/", fd.get());
  if (mount(source.c_str(), bind_target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return ErrnoError(absl::StrCat("bind mount subpath ", *resolved, " on ", bind_target));
  }
  return bind_target;
}

}  // namespace berth::agent::volume
