#include "runtime-shim/image/layer_unpacker.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "runtime-shim/image/digest.h"

namespace berth::image {
namespace {

constexpr absl::string_view kWhiteoutPrefix = ".wh.";
constexpr absl::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr absl::string_view kOpaqueWhiteout = ".wh..wh..opq";

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

// Feeds the tar reader from the decompressing reader, hashing what passes.
struct DecompressedStream {
  archive* decompressor = nullptr;
  Sha256 hasher;
  std::vector<char> buffer = std::vector<char>(128 * 1024);
};

la_ssize_t ReadDecompressed(archive* tar, void* client, const void** out) {
  auto* stream = static_cast<DecompressedStream*>(client);
  la_ssize_t n = archive_read_data(stream->decompressor, stream->buffer.data(), stream->buffer.size());
  if (n < 0) {
    archive_set_error(tar, EIO, "%s", archive_error_string(stream->decompressor));
    return -1;
  }
  stream->hasher.Update(stream->buffer.data(), static_cast<size_t>(n));
  *out = stream->buffer.data();
  return n;
}

// The entry's path split into components, with "." dropped and ".." applied
// lexically; InvalidArgument when absolute or when ".." climbs above the root.
absl::StatusOr<std::vector<std::string>> SplitEntryPath(absl::string_view path,
                                                        absl::string_view what) {
  if (absl::StartsWith(path, "/")) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' is absolute"));
  }
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' escapes the layer root"));
      }
      parts.pop_back();
      continue;
    }
    parts.emplace_back(part);
  }
  return parts;
}

class Unpacker {
 public:
  Unpacker(std::string dest, int root_fd) : dest_(std::move(dest)), root_fd_(root_fd) {}

  absl::Status Entry(archive* tar, archive_entry* entry);
  absl::Status FinishDirTimes();

 private:
  // Opens the directory holding `parts` (all but the last), refusing symlinks
  // on the way; creates missing directories when `create`.
  absl::StatusOr<UniqueFd> OpenParent(const std::vector<std::string>& parts, bool create,
                                      absl::string_view entry_path);
  absl::Status RemoveExisting(int parent, const std::string& name, const std::string& rel,
                              bool keep_dir);
  absl::Status WriteRegular(archive* tar, archive_entry* entry, int parent, const std::string& name,
                            const std::string& rel);
  absl::Status ApplyXattrsByPath(archive_entry* entry, int parent, const std::string& name,
                                 const std::string& rel);
  absl::Status ApplyXattrsFd(archive_entry* entry, int fd, const std::string& rel);

  std::string dest_;
  int root_fd_;
  std::map<std::vector<std::string>, std::pair<timespec, timespec>> dir_times_;
};

absl::StatusOr<UniqueFd> Unpacker::OpenParent(const std::vector<std::string>& parts, bool create,
                                              absl::string_view entry_path) {
  UniqueFd dir(::fcntl(root_fd_, F_DUPFD_CLOEXEC, 0));
  if (dir.get() < 0) return ErrnoError("dup layer root fd");
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string& part = parts[i];
    int fd = ::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoError(absl::StrCat("entry '", entry_path, "': mkdir ", part));
      }
      fd = ::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      int err = errno;
      struct stat st;
      if (::fstatat(dir.get(), part.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "entry '", entry_path, "': path component '", part, "' is a symlink; refusing to follow it"));
      }
      if (err == ENOTDIR) {
        return absl::InvalidArgumentError(
            absl::StrCat("entry '", entry_path, "': path component '", part, "' is not a directory"));
      }
      return ErrnoError(err, absl::StrCat("entry '", entry_path, "': open ", part));
    }
    dir = UniqueFd(fd);
  }
  return dir;
}

absl::Status Unpacker::RemoveExisting(int parent, const std::string& name, const std::string& rel,
                                      bool keep_dir) {
  struct stat st;
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(absl::StrCat("stat ", rel));
  }
  if (S_ISDIR(st.st_mode)) {
    if (keep_dir) return absl::OkStatus();
    // The parents were opened without following links, so this path stays inside dest.
    return RemoveAll(absl::StrCat(dest_, "/", rel));
  }
  if (::unlinkat(parent, name.c_str(), 0) != 0) return ErrnoError(absl::StrCat("unlink ", rel));
  return absl::OkStatus();
}

absl::Status Unpacker::ApplyXattrsFd(archive_entry* entry, int fd, const std::string& rel) {
  archive_entry_xattr_reset(entry);
  const char* name;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
    if (::fsetxattr(fd, name, value, size, 0) != 0) {
      if (errno == ENOTSUP) {
        BERTH_LOG(Warning) << "xattr not supported, skipped" << Kv("path", rel) << Kv("xattr", name);
        continue;
      }
      return ErrnoError(absl::StrCat("set xattr ", name, " on ", rel));
    }
  }
  return absl::OkStatus();
}

absl::Status Unpacker::ApplyXattrsByPath(archive_entry* entry, int parent, const std::string& name,
                                         const std::string& rel) {
  if (archive_entry_xattr_count(entry) == 0) return absl::OkStatus();
  // lsetxattr through the pinned parent: the last component is not followed.
  std::string path = absl::StrCat("/proc/self/fd/", parent, "/", name);
  archive_entry_xattr_reset(entry);
  const char* xname;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(entry, &xname, &value, &size) == ARCHIVE_OK) {
    if (::lsetxattr(path.c_str(), xname, value, size, 0) != 0) {
      if (errno == ENOTSUP || errno == EPERM) {
        BERTH_LOG(Warning) << "xattr not settable, skipped" << Kv("path", rel) << Kv("xattr", xname);
        continue;
      }
      return ErrnoError(absl::StrCat("set xattr ", xname, " on ", rel));
    }
  }
  return absl::OkStatus();
}

absl::Status Unpacker::WriteRegular(archive* tar, archive_entry* entry, int parent,
                                    const std::string& name, const std::string& rel) {
  UniqueFd fd(::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return ErrnoError(absl::StrCat("create ", rel));
  const void* block;
  size_t size;
  la_int64_t offset;
  while (true) {
    int r = archive_read_data_block(tar, &block, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return absl::DataLossError(absl::StrCat("read data of ", rel, ": ", archive_error_string(tar)));
    }
    const char* data = static_cast<const char*>(block);
    while (size > 0) {
      ssize_t n = ::pwrite(fd.get(), data, size, offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError(absl::StrCat("write ", rel));
      }
      data += n;
      size -= static_cast<size_t>(n);
      offset += n;
    }
  }
  // Sparse files may end in a hole.
  if (::ftruncate(fd.get(), archive_entry_size(entry)) != 0) return ErrnoError(absl::StrCat("truncate ", rel));
  if (::fchown(fd.get(), archive_entry_uid(entry), archive_entry_gid(entry)) != 0) {
    return ErrnoError(absl::StrCat("chown ", rel));
  }
  // After chown, which clears setuid bits.
  if (::fchmod(fd.get(), archive_entry_mode(entry) & 07777) != 0) return ErrnoError(absl::StrCat("chmod ", rel));
  RETURN_IF_ERROR(ApplyXattrsFd(entry, fd.get(), rel));
  timespec times[2] = {{archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)},
                       {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)}};
  if (::futimens(fd.get(), times) != 0) return ErrnoError(absl::StrCat("set times on ", rel));
  return absl::OkStatus();
}

absl::Status Unpacker::Entry(archive* tar, archive_entry* entry) {
  const char* raw_path = archive_entry_pathname(entry);
  if (raw_path == nullptr) return absl::InvalidArgumentError("entry without a path");
  std::string entry_path = raw_path;
  ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitEntryPath(entry_path, "entry"));
  mode_t type = archive_entry_filetype(entry);
  const char* hardlink = archive_entry_hardlink(entry);
  timespec mtime{archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)};

  if (parts.empty()) {
    // The layer root itself ("./"): only its metadata matters.
    if (type == AE_IFDIR) {
      if (::fchown(root_fd_, archive_entry_uid(entry), archive_entry_gid(entry)) != 0 ||
          ::fchmod(root_fd_, archive_entry_mode(entry) & 07777) != 0) {
        return ErrnoError(absl::StrCat("set owner and mode of ", dest_));
      }
      dir_times_[parts] = {mtime, mtime};
    }
    return absl::OkStatus();
  }

  ASSIGN_OR_RETURN(UniqueFd parent, OpenParent(parts, /*create=*/true, entry_path));
  const std::string& name = parts.back();
  std::string rel = absl::StrJoin(parts, "/");

  if (absl::StartsWith(name, kWhiteoutPrefix)) {
    if (name == kOpaqueWhiteout) {
      if (::fsetxattr(parent.get(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
        return ErrnoError(absl::StrCat("entry '", entry_path, "': set trusted.overlay.opaque"));
      }
      return absl::OkStatus();
    }
    if (absl::StartsWith(name, kWhiteoutMetaPrefix)) return absl::OkStatus();  // AUFS bookkeeping
    std::string hidden = name.substr(kWhiteoutPrefix.size());
    if (hidden.empty() || hidden == "." || hidden == "..") {
      return absl::InvalidArgumentError(absl::StrCat("entry '", entry_path, "': bad whiteout name"));
    }
    std::vector<std::string> hidden_parts(parts.begin(), parts.end() - 1);
    hidden_parts.push_back(hidden);
    std::string hidden_rel = absl::StrJoin(hidden_parts, "/");
    RETURN_IF_ERROR(RemoveExisting(parent.get(), hidden, hidden_rel, /*keep_dir=*/false));
    if (::mknodat(parent.get(), hidden.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
      return ErrnoError(absl::StrCat("entry '", entry_path, "': create whiteout ", hidden_rel));
    }
    if (::fchownat(parent.get(), hidden.c_str(), archive_entry_uid(entry), archive_entry_gid(entry),
                   AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoError(absl::StrCat("chown whiteout ", hidden_rel));
    }
    return absl::OkStatus();
  }

  if (hardlink != nullptr) {
    ASSIGN_OR_RETURN(std::vector<std::string> target_parts,
                     SplitEntryPath(hardlink, absl::StrCat("entry '", entry_path, "': hard link target")));
    if (target_parts.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("entry '", entry_path, "': hard link to the layer root"));
    }
    ASSIGN_OR_RETURN(UniqueFd target_parent, OpenParent(target_parts, /*create=*/false, entry_path));
    if (target_parts == parts) return absl::OkStatus();
    RETURN_IF_ERROR(RemoveExisting(parent.get(), name, rel, /*keep_dir=*/false));
    if (::linkat(target_parent.get(), target_parts.back().c_str(), parent.get(), name.c_str(), 0) != 0) {
      return ErrnoError(absl::StrCat("entry '", entry_path, "': link to ", hardlink));
    }
    return absl::OkStatus();
  }

  RETURN_IF_ERROR(RemoveExisting(parent.get(), name, rel, /*keep_dir=*/type == AE_IFDIR));
  uid_t uid = archive_entry_uid(entry);
  gid_t gid = archive_entry_gid(entry);
  mode_t perm = archive_entry_mode(entry) & 07777;
  switch (type) {
    case AE_IFREG:
      return WriteRegular(tar, entry, parent.get(), name, rel);
    case AE_IFDIR: {
      if (::mkdirat(parent.get(), name.c_str(), 0700) != 0 && errno != EEXIST) {
        return ErrnoError(absl::StrCat("mkdir ", rel));
      }
      UniqueFd dir(::openat(parent.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (dir.get() < 0) return ErrnoError(absl::StrCat("open ", rel));
      if (::fchown(dir.get(), uid, gid) != 0) return ErrnoError(absl::StrCat("chown ", rel));
      if (::fchmod(dir.get(), perm) != 0) return ErrnoError(absl::StrCat("chmod ", rel));
      RETURN_IF_ERROR(ApplyXattrsFd(entry, dir.get(), rel));
      // Applied at the end: creating children changes a directory's mtime.
      dir_times_[parts] = {mtime, mtime};
      return absl::OkStatus();
    }
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(entry);
      if (target == nullptr) return absl::InvalidArgumentError(absl::StrCat("entry '", entry_path, "': symlink without target"));
      if (::symlinkat(target, parent.get(), name.c_str()) != 0) return ErrnoError(absl::StrCat("symlink ", rel));
      break;
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
      dev_t dev = type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry));
      // A device node in an image would hand its containers a host device
      // behind the runtime's back: containers get devices from the runtime
      // (CRI devices, privileged). Only the 0:0 character device, overlay's
      // whiteout, may come in a layer.
      if (type != AE_IFIFO && (type == AE_IFBLK || dev != makedev(0, 0))) {
        return absl::InvalidArgumentError(absl::StrCat(
            "entry '", entry_path, "': a ", type == AE_IFBLK ? "block" : "character", " device node (",
            archive_entry_rdevmajor(entry), ":", archive_entry_rdevminor(entry),
            ") in an image layer is refused; containers get devices from the runtime"));
      }
      if (::mknodat(parent.get(), name.c_str(), type | perm, dev) != 0) return ErrnoError(absl::StrCat("mknod ", rel));
      break;
    }
    default:
      BERTH_LOG(Warning) << "layer entry of unsupported type skipped" << Kv("entry", entry_path);
      return absl::OkStatus();
  }
  // Symlinks and special files.
  if (::fchownat(parent.get(), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError(absl::StrCat("chown ", rel));
  }
  if (type != AE_IFLNK && ::fchmodat(parent.get(), name.c_str(), perm, 0) != 0) {
    return ErrnoError(absl::StrCat("chmod ", rel));
  }
  RETURN_IF_ERROR(ApplyXattrsByPath(entry, parent.get(), name, rel));
  timespec times[2] = {mtime, mtime};
  if (::utimensat(parent.get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError(absl::StrCat("set times on ", rel));
  }
  return absl::OkStatus();
}

absl::Status Unpacker::FinishDirTimes() {
  for (auto& [parts, times] : dir_times_) {
    timespec ts[2] = {times.first, times.second};
    if (parts.empty()) {
      if (::futimens(root_fd_, ts) != 0) return ErrnoError(absl::StrCat("set times on ", dest_));
      continue;
    }
    ASSIGN_OR_RETURN(UniqueFd parent, OpenParent(parts, /*create=*/false, absl::StrJoin(parts, "/")));
    if (::utimensat(parent.get(), parts.back().c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoError(absl::StrCat("set times on ", absl::StrJoin(parts, "/")));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Unpack(const std::string& blob_path, const std::string& dest) {
  RETURN_IF_ERROR(MkdirAll(dest, 0755));
  UniqueFd root(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (root.get() < 0) return ErrnoError(absl::StrCat("open ", dest));

  ArchivePtr decompressor(archive_read_new());
  archive_read_support_filter_all(decompressor.get());
  archive_read_support_format_raw(decompressor.get());
  if (archive_read_open_filename(decompressor.get(), blob_path.c_str(), 128 * 1024) != ARCHIVE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("open layer ", blob_path, ": ", archive_error_string(decompressor.get())));
  }
  archive_entry* raw_entry;
  if (archive_read_next_header(decompressor.get(), &raw_entry) != ARCHIVE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("read layer ", blob_path, ": ", archive_error_string(decompressor.get())));
  }

  DecompressedStream stream;
  stream.decompressor = decompressor.get();
  ArchivePtr tar(archive_read_new());
  archive_read_support_format_tar(tar.get());
  if (archive_read_open(tar.get(), &stream, nullptr, ReadDecompressed, nullptr) != ARCHIVE_OK) {
    return absl::InvalidArgumentError(absl::StrCat("layer ", blob_path, ": ", archive_error_string(tar.get())));
  }
  Unpacker unpacker(dest, root.get());
  while (true) {
    archive_entry* entry;
    int r = archive_read_next_header(tar.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return absl::InvalidArgumentError(
          absl::StrCat("layer ", blob_path, ": not a valid tar: ", archive_error_string(tar.get())));
    }
    RETURN_IF_ERROR(Annotate(unpacker.Entry(tar.get(), entry), absl::StrCat("layer ", blob_path)));
  }
  RETURN_IF_ERROR(unpacker.FinishDirTimes());
  // The diff id covers the whole stream, padding after the end marker included.
  char drain[64 * 1024];
  while (true) {
    la_ssize_t n = archive_read_data(decompressor.get(), drain, sizeof(drain));
    if (n < 0) {
      return absl::DataLossError(
          absl::StrCat("layer ", blob_path, ": ", archive_error_string(decompressor.get())));
    }
    if (n == 0) break;
    stream.hasher.Update(drain, static_cast<size_t>(n));
  }
  return stream.hasher.Finish();
}

}  // namespace

absl::StatusOr<std::string> UnpackLayer(const std::string& blob_path, const std::string& dest) {
  absl::StatusOr<std::string> diff_id = Unpack(blob_path, dest);
  if (!diff_id.ok()) {
    absl::Status removed = RemoveAll(dest);
    if (!removed.ok()) {
      BERTH_LOG(Error) << "remove half-unpacked layer: " << removed.message();
    }
  }
  return diff_id;
}

}  // namespace berth::image
