#include "agent/log_follower.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace berth::agent {
namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

std::string BaseOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool ParseCriLogLine(absl::string_view line, CriLogLine* out) {
  size_t first = line.find(' ');
  if (first == absl::string_view::npos) return false;
  size_t second = line.find(' ', first + 1);
  if (second == absl::string_view::npos || second + 2 > line.size()) return false;
  char tag = line[second + 1];
  if ((tag != 'P' && tag != 'F') || (second + 2 < line.size() && line[second + 2] != ' ')) return false;
  out->timestamp = line.substr(0, first);
  out->stream = line.substr(first + 1, second - first - 1);
  out->partial = tag == 'P';
  out->content = second + 3 <= line.size() ? line.substr(second + 3) : absl::string_view();
  return true;
}

std::string RotatedLogKey(absl::string_view path) {
  absl::ConsumeSuffix(&path, ".gz");
  return std::string(path);
}

std::vector<std::string> ListRotatedLogs(const std::string& live_path) {
  const std::string dir = DirOf(live_path);
  const std::string prefix = BaseOf(live_path) + ".";
  std::vector<std::string> paths;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return paths;
  while (struct dirent* e = readdir(d)) {
    absl::string_view name(e->d_name);
    // <live>.<YYYYMMDD-hhmmss>...: the shim's temp files start with '.'.
    if (!absl::StartsWith(name, prefix) || name.size() <= prefix.size() ||
        !absl::ascii_isdigit(static_cast<unsigned char>(name[prefix.size()]))) {
      continue;
    }
    paths.push_back(absl::StrCat(dir, "/", name));
  }
  closedir(d);
  std::sort(paths.begin(), paths.end(),
            [](const std::string& a, const std::string& b) { return RotatedLogKey(a) < RotatedLogKey(b); });
  return paths;
}

LogFollower::LogFollower(std::string live_path, std::function<void(absl::string_view line)> sink)
    : live_path_(std::move(live_path)), sink_(std::move(sink)) {}

LogFollower::~LogFollower() {
  if (fd_ >= 0) close(fd_);
  if (inotify_fd_ >= 0) close(inotify_fd_);
}

absl::Status LogFollower::OpenLive() {
  int fd = open(live_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::OkStatus();  // between a rename and the new file
    return ErrnoError(absl::StrCat("open ", live_path_));
  }
  struct stat st = {};
  fstat(fd, &st);
  fd_ = fd;
  ino_ = st.st_ino;
  partial_.clear();
  return absl::OkStatus();
}

void LogFollower::EmitLine(absl::string_view line, const std::string& after) {
  CriLogLine parsed;
  bool ok = ParseCriLogLine(line, &parsed);
  if (ok && !after.empty() && std::string(parsed.timestamp) <= after) return;
  if (ok) last_timestamp_ = std::string(parsed.timestamp);
  sink_(line);
}

void LogFollower::DrainCurrent() {
  char buf[64 * 1024];
  while (true) {
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    partial_.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
      EmitLine(absl::string_view(partial_).substr(start, nl - start), "");
    }
    partial_.erase(0, start);
  }
}

absl::Status LogFollower::EmitWholeFile(const std::string& path, const std::string& after) {
  // gzread reads plain files as they are, so a rotated file compressed after
  // the listing is read through its .gz instead.
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr && !absl::EndsWith(path, ".gz")) f = gzopen((path + ".gz").c_str(), "rb");
  if (f == nullptr) return absl::OkStatus();  // pruned meanwhile: nothing left to read
  std::string pending;
  char buf[64 * 1024];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) {
    pending.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      EmitLine(absl::string_view(pending).substr(start, nl - start), after);
    }
    pending.erase(0, start);
  }
  gzclose(f);
  if (!pending.empty()) EmitLine(pending, after);
  return absl::OkStatus();
}

absl::Status LogFollower::Start() {
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) return ErrnoError("inotify_init1");
  const std::string dir = DirOf(live_path_);
  if (inotify_add_watch(inotify_fd_, dir.c_str(),
                        IN_CREATE | IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE) < 0) {
    return ErrnoError(absl::StrCat("watch ", dir));
  }
  RETURN_IF_ERROR(OpenLive());
  if (fd_ < 0) return absl::NotFoundError(absl::StrCat("log file ", live_path_, " does not exist"));
  // Everything rotated before the file we hold counts as read.
  for (const std::string& path : ListRotatedLogs(live_path_)) {
    struct stat st = {};
    if (stat(path.c_str(), &st) == 0 && st.st_ino == ino_) break;
    last_key_ = RotatedLogKey(path);
  }
  DrainCurrent();
  return absl::OkStatus();
}

absl::Status LogFollower::Poll() {
  char events[16 * 1024];
  while (read(inotify_fd_, events, sizeof(events)) > 0) {
  }
  if (fd_ >= 0) DrainCurrent();
  struct stat live = {};
  const bool live_exists = stat(live_path_.c_str(), &live) == 0;
  if (fd_ >= 0 && live_exists && live.st_ino == ino_) return absl::OkStatus();
  if (fd_ >= 0) {
    // The file we hold was rotated; its tail is read. Read what was rotated after it.
    if (!partial_.empty()) EmitLine(partial_, "");
    std::string after;  // set when we fell behind and must skip by timestamp
    std::string ours;
    for (const std::string& path : ListRotatedLogs(live_path_)) {
      struct stat st = {};
      if (!absl::EndsWith(path, ".gz") && stat(path.c_str(), &st) == 0 && st.st_ino == ino_) {
        ours = RotatedLogKey(path);
      }
    }
    if (!ours.empty()) {
      last_key_ = ours;
    } else {
      after = last_timestamp_;
    }
    close(fd_);
    fd_ = -1;
    for (const std::string& path : ListRotatedLogs(live_path_)) {
      std::string key = RotatedLogKey(path);
      if (key <= last_key_) continue;
      RETURN_IF_ERROR(EmitWholeFile(path, after));
      last_key_ = key;
    }
  }
  RETURN_IF_ERROR(OpenLive());
  if (fd_ < 0) return absl::OkStatus();  // its IN_CREATE brings us back
  // Files rotated between the listing above and this open come first.
  for (const std::string& path : ListRotatedLogs(live_path_)) {
    std::string key = RotatedLogKey(path);
    if (key <= last_key_) continue;
    struct stat st = {};
    if (!absl::EndsWith(path, ".gz") && stat(path.c_str(), &st) == 0 && st.st_ino == ino_) break;
    RETURN_IF_ERROR(EmitWholeFile(path, ""));
    last_key_ = key;
  }
  DrainCurrent();
  return absl::OkStatus();
}

}  // namespace berth::agent
