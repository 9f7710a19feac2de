#include "agent/volume/host_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::agent::volume {
namespace {

bool KnownType(const std::string& t) {
  return t.empty() || t == "DirectoryOrCreate" || t == "Directory" || t == "FileOrCreate" || t == "File" ||
         t == "Socket" || t == "CharDevice" || t == "BlockDevice";
}

absl::Status TypeError(const std::string& path, const char* what) {
  return absl::FailedPreconditionError(absl::StrCat("hostPath type check failed: ", path, " is not ", what));
}

absl::Status Check(const std::string& path, mode_t want, const char* what) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return TypeError(path, what);
    return ErrnoError(absl::StrCat("hostPath type check: stat ", path));
  }
  if ((st.st_mode & S_IFMT) != want) return TypeError(path, what);
  return absl::OkStatus();
}

absl::Status MakeFile(const std::string& path) {
  int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return absl::OkStatus();
    return ErrnoError(absl::StrCat("hostPath: create file ", path));
  }
  fchmod(fd, 0644);
  close(fd);
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateHostPath(const k8s::HostPathVolumeSource& source, const std::string& field) {
  if (source.path.empty() || source.path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".path: Invalid value: \"", source.path, "\": must be an absolute path"));
  }
  std::string type = source.type.value_or("");
  if (!KnownType(type)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".type: Unsupported value: \"", type,
                                                   "\": supported values: \"\", \"BlockDevice\", \"CharDevice\", "
                                                   "\"Directory\", \"DirectoryOrCreate\", \"File\", "
                                                   "\"FileOrCreate\", \"Socket\""));
  }
  return absl::OkStatus();
}

absl::Status SetUpHostPath(const k8s::HostPathVolumeSource& source) {
  RETURN_IF_ERROR(ValidateHostPath(source, "hostPath"));
  const std::string& path = source.path;
  std::string type = source.type.value_or("");
  if (type.empty()) return absl::OkStatus();
  if (type == "DirectoryOrCreate") {
    if (!PathExists(path)) {
      RETURN_IF_ERROR(MkdirAll(path, 0755));
      chmod(path.c_str(), 0755);
      return absl::OkStatus();
    }
    return Check(path, S_IFDIR, "a directory");
  }
  if (type == "Directory") return Check(path, S_IFDIR, "a directory");
  if (type == "FileOrCreate") {
    if (!PathExists(path)) return MakeFile(path);
    return Check(path, S_IFREG, "a file");
  }
  if (type == "File") return Check(path, S_IFREG, "a file");
  if (type == "Socket") return Check(path, S_IFSOCK, "a socket file");
  if (type == "CharDevice") return Check(path, S_IFCHR, "a character device");
  return Check(path, S_IFBLK, "a block device");
}

}  // namespace berth::agent::volume
