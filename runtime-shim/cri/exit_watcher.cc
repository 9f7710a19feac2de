#include "runtime-shim/cri/exit_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"

namespace berth {

absl::StatusOr<std::unique_ptr<ExitWatcher>> ExitWatcher::Start(Callback on_exit) {
  int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (ifd < 0) return ErrnoError("inotify_init1");
  int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) {
    close(ifd);
    return ErrnoError("eventfd");
  }
  auto watcher = std::unique_ptr<ExitWatcher>(new ExitWatcher(ifd, efd, std::move(on_exit)));
  watcher->thread_ = std::thread([w = watcher.get()] { w->Loop(); });
  return watcher;
}

ExitWatcher::ExitWatcher(int inotify_fd, int wake_fd, Callback on_exit)
    : inotify_fd_(inotify_fd), wake_fd_(wake_fd), on_exit_(std::move(on_exit)) {}

ExitWatcher::~ExitWatcher() {
  uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) < 0) {
  }
  if (thread_.joinable()) thread_.join();
  close(inotify_fd_);
  close(wake_fd_);
}

absl::Status ExitWatcher::Watch(const std::string& id, const std::string& bundle) {
  int wd = inotify_add_watch(inotify_fd_, bundle.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
  if (wd < 0) return ErrnoError(absl::StrCat("watch ", bundle));
  {
    std::lock_guard<std::mutex> lock(mu_);
    ids_by_wd_[wd] = id;
    wds_by_id_[id] = wd;
  }
  // The shim may have written it before the watch existed.
  if (PathExists(bundle + "/exit.json")) on_exit_(id);
  return absl::OkStatus();
}

void ExitWatcher::Unwatch(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = wds_by_id_.find(id);
  if (it == wds_by_id_.end()) return;
  inotify_rm_watch(inotify_fd_, it->second);
  ids_by_wd_.erase(it->second);
  wds_by_id_.erase(it);
}

void ExitWatcher::Loop() {
  alignas(struct inotify_event) char buf[16384];
  for (;;) {
    struct pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    ssize_t n = read(inotify_fd_, buf, sizeof(buf));
    if (n <= 0) continue;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<struct inotify_event*>(p);
      p += sizeof(struct inotify_event) + ev->len;
      if (ev->len == 0 || std::strcmp(ev->name, "exit.json") != 0) continue;
      std::string id;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = ids_by_wd_.find(ev->wd);
        if (it == ids_by_wd_.end()) continue;
        id = it->second;
      }
      on_exit_(id);
    }
  }
}

}  // namespace berth
