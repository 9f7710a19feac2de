// logs: prints a container's CRI log file (its path from ContainerStatus),
// stdout lines on stdout and stderr lines on stderr. With --follow it keeps
// printing as the file grows (inotify) and, as the kubelet does, looks at the
// container's state whenever the file has been quiet for a second: once the
// container is no longer running it prints what is left and returns. A
// rotated file (renamed or removed, then recreated) is reopened.
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "hack/berth-cri/commands.h"
#include "hack/berth-cri/cri_log.h"

namespace berth::cri_cli {
namespace {

namespace v1 = runtime::v1;

constexpr int kQuietCheckMs = 1000;

class FdCloser {
 public:
  explicit FdCloser(int fd = -1) : fd_(fd) {}
  ~FdCloser() { Reset(-1); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int get() const { return fd_; }
  void Reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

void Print(const std::vector<LogMessage>& messages, bool timestamps) {
  for (const LogMessage& m : messages) {
    FILE* out = m.stream == LogStream::kStderr ? stderr : stdout;
    if (timestamps && !m.timestamp.empty()) std::fprintf(out, "%s ", m.timestamp.c_str());
    std::fwrite(m.text.data(), 1, m.text.size(), out);
  }
  std::fflush(stdout);
  std::fflush(stderr);
}

// Everything readable from `fd` now, decoded.
absl::StatusOr<std::vector<LogMessage>> ReadAvailable(int fd, const std::string& path,
                                                      CriLogDecoder& decoder) {
  std::vector<LogMessage> out;
  char buf[64 * 1024];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read " + path);
    if (n == 0) return out;
    std::vector<LogMessage> more = decoder.Feed(absl::string_view(buf, static_cast<size_t>(n)));
    out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
}

// Whether the container may still write to its log.
absl::StatusOr<bool> StillRunning(CriClient& client, const std::string& id) {
  absl::StatusOr<v1::ContainerStatusResponse> status = client.ContainerStatus(id);
  if (status.status().code() == absl::StatusCode::kNotFound) return false;
  if (!status.ok()) return status.status();
  const v1::ContainerState state = status->status().state();
  return state == v1::CONTAINER_RUNNING || state == v1::CONTAINER_CREATED;
}

}  // namespace

absl::StatusOr<int> LogsCommand(const Invocation& inv, CriClient& client) {
  const std::string& id = inv.args[0];
  const bool follow = inv.Has("follow");
  const bool timestamps = inv.Has("timestamps");
  absl::StatusOr<int64_t> tail = inv.GetCount("tail", -1);
  if (!tail.ok()) return tail.status();

  absl::StatusOr<v1::ContainerStatusResponse> status = client.ContainerStatus(id);
  if (!status.ok()) return status.status();
  const std::string path = status->status().log_path();
  if (path.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "container ", id, " has no log file (its pod sets no log_directory or it sets no log_path)"));
  }

  // Watch before the first read, so no write between the two goes unseen.
  FdCloser watch(follow ? inotify_init1(IN_CLOEXEC | IN_NONBLOCK) : -1);
  if (follow && watch.get() < 0) return ErrnoError("inotify_init1");
  const uint32_t kEvents = IN_MODIFY | IN_MOVE_SELF | IN_DELETE_SELF;
  if (follow && inotify_add_watch(watch.get(), path.c_str(), kEvents) < 0) {
    return ErrnoError("watch " + path);
  }
  FdCloser file(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) return ErrnoError("open " + path);

  CriLogDecoder decoder;
  absl::StatusOr<std::vector<LogMessage>> first = ReadAvailable(file.get(), path, decoder);
  if (!first.ok()) return first.status();
  KeepLast(&*first, *tail);
  Print(*first, timestamps);
  if (!follow) {
    Print(decoder.Finish(), timestamps);
    return 0;
  }

  bool rotated = false;
  while (true) {
    struct pollfd pfd = {watch.get(), POLLIN, 0};
    int ready = poll(&pfd, 1, kQuietCheckMs);
    if (ready < 0 && errno != EINTR) return ErrnoError("poll inotify");
    if (ready > 0) {
      alignas(struct inotify_event) char events[4096];
      ssize_t n;
      while ((n = read(watch.get(), events, sizeof(events))) > 0) {
        for (char* p = events; p < events + n;) {
          auto* event = reinterpret_cast<struct inotify_event*>(p);
          if (event->mask & (IN_MOVE_SELF | IN_DELETE_SELF)) rotated = true;
          p += sizeof(struct inotify_event) + event->len;
        }
      }
    }
    absl::StatusOr<std::vector<LogMessage>> more = ReadAvailable(file.get(), path, decoder);
    if (!more.ok()) return more.status();
    Print(*more, timestamps);
    if (rotated) {
      // The runtime renamed the file away and writes a new one at `path`.
      int reopened = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (reopened >= 0) {
        file.Reset(reopened);
        if (inotify_add_watch(watch.get(), path.c_str(), kEvents) < 0) {
          return ErrnoError("watch " + path);
        }
        rotated = false;
        continue;  // read the new file at once
      }
    }
    if (ready == 0) {
      absl::StatusOr<bool> running = StillRunning(client, id);
      if (!running.ok()) return running.status();
      if (!*running) {
        absl::StatusOr<std::vector<LogMessage>> rest = ReadAvailable(file.get(), path, decoder);
        if (!rest.ok()) return rest.status();
        Print(*rest, timestamps);
        Print(decoder.Finish(), timestamps);
        return 0;
      }
    }
  }
}

}  // namespace berth::cri_cli
