#include "agent/volume/atomic_dir_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <random>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::agent::volume {
namespace {

constexpr char kDataLink[] = "..data";
constexpr char kDataTmpLink[] = "..data_tmp";

std::string TopLevel(const std::string& path) { return path.substr(0, path.find('/')); }

absl::StatusOr<std::string> ReadLink(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
  if (n < 0) return ErrnoError(absl::StrCat("readlink ", path));
  return std::string(buf, n);
}

// Every regular file below `dir`, relative to it.
absl::Status ListFiles(const std::string& dir, const std::string& rel, std::set<std::string>* out) {
  auto names = ListDir(rel.empty() ? dir : absl::StrCat(dir, "/", rel));
  if (!names.ok()) return names.status();
  for (const auto& n : *names) {
    std::string r = rel.empty() ? n : absl::StrCat(rel, "/", n);
    struct stat st;
    if (lstat(absl::StrCat(dir, "/", r).c_str(), &st) != 0) return ErrnoError(absl::StrCat("lstat ", dir, "/", r));
    if (S_ISDIR(st.st_mode)) {
      RETURN_IF_ERROR(ListFiles(dir, r, out));
    } else {
      out->insert(r);
    }
  }
  return absl::OkStatus();
}

// True when `version_dir` holds exactly `payload`.
bool SameAsPayload(const std::string& version_dir, const Payload& payload) {
  std::set<std::string> files;
  if (!ListFiles(version_dir, "", &files).ok() || files.size() != payload.size()) return false;
  for (const auto& [path, proj] : payload) {
    std::string full = absl::StrCat(version_dir, "/", path);
    struct stat st;
    if (lstat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != proj.mode) return false;
    auto data = ReadFile(full);
    if (!data.ok() || *data != proj.data) return false;
  }
  return true;
}

std::string NewVersionName() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  strftime(buf, sizeof(buf), "..%Y_%m_%d_%H_%M_%S.", &tm);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrCat(buf, rng() % 1000000000);
}

absl::Status WriteFileExclusive(const std::string& path, const FileProjection& proj) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, proj.mode);
  if (fd < 0) return ErrnoError(absl::StrCat("create ", path));
  size_t off = 0;
  while (off < proj.data.size()) {
    ssize_t n = write(fd, proj.data.data() + off, proj.data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status st = ErrnoError(absl::StrCat("write ", path));
      close(fd);
      return st;
    }
    off += n;
  }
  if (fchmod(fd, proj.mode) != 0) {
    absl::Status st = ErrnoError(absl::StrCat("chmod ", path));
    close(fd);
    return st;
  }
  close(fd);
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePayloadPath(const std::string& path, const std::string& field) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": Invalid value: \"", path, "\": ", why));
  };
  if (path.empty()) return bad("must not be empty");
  if (path[0] == '/') return bad("must be a relative path");
  if (absl::StartsWith(path, "..")) return bad("must not start with '..'");
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part == "..") return bad("must not contain '..'");
    if (part.empty() || part == ".") return bad("must not contain empty or '.' elements");
  }
  if (path.size() > 4096) return bad("must not be longer than 4096 characters");
  return absl::OkStatus();
}

absl::StatusOr<bool> WriteAtomicDir(const std::string& dir, const Payload& payload) {
  for (const auto& [path, proj] : payload) RETURN_IF_ERROR(ValidatePayloadPath(path, "path"));
  RETURN_IF_ERROR(MkdirAll(dir, 0755));
  const std::string data_link = absl::StrCat(dir, "/", kDataLink);
  std::set<std::string> top;
  for (const auto& [path, proj] : payload) top.insert(TopLevel(path));

  std::string old_version;
  if (auto target = ReadLink(data_link); target.ok()) old_version = *target;
  bool changed = old_version.empty() || !SameAsPayload(absl::StrCat(dir, "/", old_version), payload);

  if (changed) {
    std::string version = NewVersionName();
    std::string version_dir = absl::StrCat(dir, "/", version);
    if (mkdir(version_dir.c_str(), 0755) != 0) return ErrnoError(absl::StrCat("mkdir ", version_dir));
    chmod(version_dir.c_str(), 0755);
    absl::Status st;
    for (const auto& [path, proj] : payload) {
      std::string full = absl::StrCat(version_dir, "/", path);
      size_t slash = full.rfind('/');
      st = MkdirAll(full.substr(0, slash), 0755);
      if (st.ok()) st = WriteFileExclusive(full, proj);
      if (!st.ok()) break;
    }
    const std::string tmp_link = absl::StrCat(dir, "/", kDataTmpLink);
    if (st.ok()) {
      unlink(tmp_link.c_str());
      if (symlink(version.c_str(), tmp_link.c_str()) != 0) st = ErrnoError(absl::StrCat("symlink ", tmp_link));
    }
    if (st.ok() && rename(tmp_link.c_str(), data_link.c_str()) != 0) {
      st = ErrnoError(absl::StrCat("rename ", tmp_link, " to ", data_link));
    }
    if (!st.ok()) {
      RemoveAll(version_dir).IgnoreError();
      unlink(tmp_link.c_str());
      return st;
    }
  }

  // User-visible names: a link per top-level name, stale ones removed.
  for (const auto& name : top) {
    std::string link = absl::StrCat(dir, "/", name);
    struct stat st;
    if (lstat(link.c_str(), &st) == 0) continue;
    std::string target = absl::StrCat(kDataLink, "/", name);
    if (symlink(target.c_str(), link.c_str()) != 0) return ErrnoError(absl::StrCat("symlink ", link));
  }
  auto names = ListDir(dir);
  if (!names.ok()) return names.status();
  for (const auto& name : *names) {
    if (absl::StartsWith(name, "..") || top.count(name)) continue;
    std::string link = absl::StrCat(dir, "/", name);
    auto target = ReadLink(link);
    if (target.ok() && absl::StartsWith(*target, absl::StrCat(kDataLink, "/"))) unlink(link.c_str());
  }
  if (changed && !old_version.empty()) RETURN_IF_ERROR(RemoveAll(absl::StrCat(dir, "/", old_version)));
  return changed;
}

}  // namespace berth::agent::volume
