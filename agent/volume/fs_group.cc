#include "agent/volume/fs_group.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace berth::agent::volume {
namespace {

constexpr mode_t kRwMask = 0660;
constexpr mode_t kRoMask = 0440;
constexpr mode_t kExecMask = 0110;

thread_local gid_t walk_gid;
thread_local mode_t walk_mask;
thread_local int walk_errno;
thread_local const char* walk_failed_path;

mode_t Wanted(mode_t mode, bool dir, mode_t mask) {
  mode_t m = (mode & 07777) | mask;
  if (dir) m |= S_ISGID | kExecMask;
  return m;
}

int Visit(const char* path, const struct stat* st, int type, struct FTW*) {
  if (lchown(path, static_cast<uid_t>(-1), walk_gid) != 0) {
    walk_errno = errno;
    walk_failed_path = path;
    return 1;
  }
  if (type == FTW_SL || S_ISLNK(st->st_mode)) return 0;  // links keep their mode
  bool dir = type == FTW_D || type == FTW_DP;
  mode_t want = Wanted(st->st_mode, dir, walk_mask);
  if (want != (st->st_mode & 07777) || dir) {
    if (chmod(path, want) != 0) {
      walk_errno = errno;
      walk_failed_path = path;
      return 1;
    }
  }
  return 0;
}

}  // namespace

absl::Status SetVolumeOwnership(const std::string& dir, gid_t fs_group, bool read_only,
                                const std::optional<std::string>& change_policy) {
  mode_t mask = read_only ? kRoMask : kRwMask;
  struct stat root;
  if (stat(dir.c_str(), &root) != 0) return ErrnoError(absl::StrCat("fsGroup: stat ", dir));
  if (change_policy && *change_policy == "OnRootMismatch" && root.st_gid == fs_group &&
      (root.st_mode & 07777) == Wanted(root.st_mode, S_ISDIR(root.st_mode), mask)) {
    return absl::OkStatus();
  }
  walk_gid = fs_group;
  walk_mask = mask;
  walk_errno = 0;
  walk_failed_path = nullptr;
  // FTW_PHYS: never follow symlinks; FTW_MOUNT: stay on the volume's filesystem.
  if (nftw(dir.c_str(), Visit, 32, FTW_PHYS | FTW_MOUNT) != 0) {
    if (walk_errno != 0) {
      return ErrnoError(walk_errno, absl::StrCat("fsGroup ", fs_group, ": ", walk_failed_path ? walk_failed_path : dir));
    }
    return ErrnoError(absl::StrCat("fsGroup: walk ", dir));
  }
  return absl::OkStatus();
}

}  // namespace berth::agent::volume
