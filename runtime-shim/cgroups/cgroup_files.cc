#include "runtime-shim/cgroups/cgroup_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <ctime>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "common/time.h"

namespace berth {

namespace {

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// The names of the child cgroups (subdirectories) of `dir`.
absl::StatusOr<std::vector<std::string>> ChildCgroups(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoError(absl::StrCat("opendir ", dir));
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(d)) {
    if (entry->d_type != DT_DIR) continue;
    absl::string_view n = entry->d_name;
    if (n == "." || n == "..") continue;
    names.emplace_back(n);
  }
  ::closedir(d);
  return names;
}

void SleepMicros(long us) {
  timespec ts{us / 1000000, (us % 1000000) * 1000};
  ::nanosleep(&ts, nullptr);
}

}  // namespace

absl::StatusOr<std::string> NormalizeCgroupName(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("cgroup name: empty");
  for (absl::string_view part : absl::StrSplit(name, '/', absl::SkipEmpty())) {
    if (part == "..") {
      return absl::InvalidArgumentError(absl::StrCat("cgroup name '", name, "': has '..'"));
    }
  }
  std::string clean = CleanPath(absl::StrCat("/", name));
  if (clean == "/") {
    return absl::InvalidArgumentError(absl::StrCat("cgroup name '", name, "': is the root"));
  }
  return clean;
}

absl::StatusOr<uint64_t> ReadCgroupUint(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  absl::string_view value = absl::StripAsciiWhitespace(text);
  if (value == "max") return std::numeric_limits<uint64_t>::max();
  uint64_t out = 0;
  if (!absl::SimpleAtoi(value, &out)) {
    return absl::InternalError(absl::StrCat(path, ": not a number: '", value, "'"));
  }
  return out;
}

std::map<std::string, uint64_t> ParseFlatKeyed(absl::string_view text) {
  std::map<std::string, uint64_t> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, ' ');
    uint64_t value = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(kv.second), &value)) {
      out[std::string(kv.first)] = value;
    }
  }
  return out;
}

absl::StatusOr<std::vector<pid_t>> ReadCgroupProcs(const std::string& dir, bool recursive) {
  std::vector<pid_t> pids;
  ASSIGN_OR_RETURN(std::string text, ReadFile(absl::StrCat(dir, "/cgroup.procs")));
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    pid_t pid = 0;
    if (absl::SimpleAtoi(line, &pid)) pids.push_back(pid);
  }
  if (!recursive) return pids;
  ASSIGN_OR_RETURN(std::vector<std::string> children, ChildCgroups(dir));
  for (const std::string& child : children) {
    ASSIGN_OR_RETURN(std::vector<pid_t> more, ReadCgroupProcs(absl::StrCat(dir, "/", child), true));
    pids.insert(pids.end(), more.begin(), more.end());
  }
  return pids;
}

absl::Status RemoveCgroupTree(const std::string& dir) {
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
  // EBUSY (cgroupfs) or ENOTEMPTY: children first, then again.
  if (errno != EBUSY && errno != ENOTEMPTY) return ErrnoError(absl::StrCat("rmdir ", dir));
  absl::StatusOr<std::vector<std::string>> children = ChildCgroups(dir);
  if (!children.ok()) {
    if (absl::IsNotFound(children.status())) return absl::OkStatus();
    return children.status();
  }
  for (const std::string& child : *children) {
    RETURN_IF_ERROR(RemoveCgroupTree(absl::StrCat(dir, "/", child)));
  }
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
  return ErrnoError(absl::StrCat("rmdir ", dir));
}

absl::Status RemoveCgroupTreeSoon(const std::string& dir, int budget_ms) {
  int64_t deadline = MonotonicNanos() + int64_t{budget_ms} * 1000000;
  long backoff_us = 100;
  while (true) {
    absl::Status status = RemoveCgroupTree(dir);
    if (status.ok() || MonotonicNanos() >= deadline) return status;
    SleepMicros(backoff_us);
    backoff_us = std::min(backoff_us * 2, 10000L);
  }
}

absl::Status KillAndWait(const std::vector<pid_t>& pids, int timeout_ms,
                         const std::function<void()>& after_signal) {
  std::vector<pollfd> fds;
  for (pid_t pid : pids) {
    int fd = PidfdOpen(pid);
    if (fd < 0) continue;  // already gone
    if (PidfdSendSignal(fd, SIGKILL) != 0 && errno != ESRCH) {
      int err = errno;
      ::close(fd);
      for (pollfd& p : fds) ::close(p.fd);
      return ErrnoError(err, absl::StrCat("kill ", pid));
    }
    fds.push_back({fd, POLLIN, 0});
  }
  if (after_signal) after_signal();
  int64_t deadline = MonotonicNanos() + int64_t{timeout_ms} * 1000000;
  absl::Status status;
  size_t live = fds.size();
  while (live > 0) {
    int64_t left_ms = (deadline - MonotonicNanos()) / 1000000;
    if (left_ms <= 0) {
      status = absl::DeadlineExceededError(
          absl::StrCat(live, " processes still running ", timeout_ms, "ms after SIGKILL"));
      break;
    }
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(left_ms));
    if (n < 0 && errno != EINTR) {
      status = ErrnoError("poll pidfds");
      break;
    }
    for (pollfd& p : fds) {
      if (p.fd >= 0 && p.revents != 0) {
        ::close(p.fd);
        p.fd = -1;  // poll ignores negative fds
        --live;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  return status;
}

absl::Status WaitUnpopulated(const std::string& dir, int timeout_ms) {
  std::string path = absl::StrCat(dir, "/cgroup.events");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoError(absl::StrCat("open ", path));
  }
  int64_t deadline = MonotonicNanos() + int64_t{timeout_ms} * 1000000;
  absl::Status status;
  while (true) {
    char buf[256];
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    if (n < 0) {
      status = ErrnoError(absl::StrCat("read ", path));
      break;
    }
    auto events = ParseFlatKeyed(absl::string_view(buf, static_cast<size_t>(n)));
    if (events["populated"] == 0) break;
    int64_t left_ms = (deadline - MonotonicNanos()) / 1000000;
    if (left_ms <= 0) {
      status = absl::DeadlineExceededError(absl::StrCat(dir, ": still populated after ", timeout_ms, "ms"));
      break;
    }
    // kernfs signals a change of cgroup.events with POLLPRI.
    pollfd p{fd, POLLPRI, 0};
    if (::poll(&p, 1, static_cast<int>(left_ms)) < 0 && errno != EINTR) {
      status = ErrnoError(absl::StrCat("poll ", path));
      break;
    }
  }
  ::close(fd);
  return status;
}

}  // namespace berth
