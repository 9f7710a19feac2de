#include "runtime-shim/cni/config_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace berth::cni {
namespace {

constexpr uint32_t kDirEvents = IN_CREATE | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM |
                                IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
constexpr uint32_t kParentEvents = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO;

std::string Describe(const absl::StatusOr<NetworkConfigList>& list) {
  if (list.ok()) return absl::StrCat("network ", list->name, " from ", list->source);
  return std::string(list.status().message());
}

}  // namespace

absl::StatusOr<std::unique_ptr<NetworkConfigWatcher>> NetworkConfigWatcher::Start(
    const std::string& conf_dir) {
  std::string dir = CleanPath(conf_dir);
  RETURN_IF_ERROR(Annotate(MkdirAll(dir), "CNI conf dir"));
  int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ifd < 0) return ErrnoError("inotify_init1 for the CNI conf dir");
  int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) {
    int err = errno;
    close(ifd);
    return ErrnoError(err, "eventfd");
  }
  auto watcher = std::unique_ptr<NetworkConfigWatcher>(new NetworkConfigWatcher(dir, ifd, efd));
  size_t slash = dir.find_last_of('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
  watcher->base_name_ = slash == std::string::npos ? dir : dir.substr(slash + 1);
  watcher->parent_wd_ = inotify_add_watch(ifd, parent.c_str(), kParentEvents | IN_ONLYDIR);
  if (watcher->parent_wd_ < 0) {
    return ErrnoError(absl::StrCat("inotify watch ", parent));
  }
  watcher->WatchDir();
  if (watcher->dir_wd_ < 0) return ErrnoError(absl::StrCat("inotify watch ", dir));
  watcher->Reload();
  watcher->thread_ = std::thread([w = watcher.get()] { w->Loop(); });
  return watcher;
}

NetworkConfigWatcher::NetworkConfigWatcher(std::string conf_dir, int inotify_fd, int wake_fd)
    : conf_dir_(std::move(conf_dir)), inotify_fd_(inotify_fd), wake_fd_(wake_fd) {}

NetworkConfigWatcher::~NetworkConfigWatcher() {
  uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    BERTH_LOG(Warning) << "CNI config watcher: wake: " << strerror(errno);
  }
  if (thread_.joinable()) thread_.join();
  close(inotify_fd_);
  close(wake_fd_);
}

void NetworkConfigWatcher::WatchDir() {
  dir_wd_ = inotify_add_watch(inotify_fd_, conf_dir_.c_str(), kDirEvents | IN_ONLYDIR);
}

absl::StatusOr<NetworkConfigList> NetworkConfigWatcher::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return *current_;
}

uint64_t NetworkConfigWatcher::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

bool NetworkConfigWatcher::WaitForGeneration(uint64_t after, absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [&] { return generation_ > after; });
}

void NetworkConfigWatcher::Reload() {
  auto loaded = std::make_shared<const absl::StatusOr<NetworkConfigList>>(
      LoadNetworkConfig(conf_dir_));
  std::string before;
  bool was_ok = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (current_) {
      before = Describe(*current_);
      was_ok = current_->ok();
    }
    current_ = loaded;
    ++generation_;
  }
  changed_.notify_all();
  std::string after = Describe(*loaded);
  if (after != before) {
    if (loaded->ok()) {
      BERTH_LOG(Info) << "CNI config loaded" << Kv("network", (*loaded)->name)
                      << Kv("file", (*loaded)->source);
    } else if (was_ok) {
      BERTH_LOG(Warning) << "CNI config no longer usable" << Kv("reason", after);
    } else {
      BERTH_LOG(Info) << "no usable CNI config" << Kv("reason", after);
    }
  }
}

bool NetworkConfigWatcher::EmptyRegularFile(const char* name) const {
  struct stat st {};
  std::string path = absl::StrCat(conf_dir_, "/", name);
  return lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0;
}

void NetworkConfigWatcher::Loop() {
  alignas(struct inotify_event) char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
  for (;;) {
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      BERTH_LOG(Error) << "CNI config watcher: poll: " << strerror(errno);
      return;
    }
    if (fds[0].revents) return;
    if (!(fds[1].revents & POLLIN)) continue;
    // Drain everything queued, then load once.
    bool reload = false, rewatch = false;
    for (;;) {
      ssize_t n = read(inotify_fd_, buf, sizeof buf);
      if (n <= 0) break;
      for (char* p = buf; p < buf + n;) {
        auto* ev = reinterpret_cast<struct inotify_event*>(p);
        p += sizeof(struct inotify_event) + ev->len;
        if (ev->mask & IN_Q_OVERFLOW) {
          reload = rewatch = true;
        } else if (ev->wd == parent_wd_) {
          if (ev->len > 0 && base_name_ == ev->name) reload = rewatch = true;
        } else if (ev->wd == dir_wd_) {
          if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) rewatch = true;
          // A new empty file is being written: its IN_CLOSE_WRITE follows,
          // and reading it now would report a half-written config.
          if (!(ev->mask & IN_CREATE) || ev->len == 0 || !EmptyRegularFile(ev->name)) reload = true;
        }
      }
    }
    if (rewatch) {
      if (dir_wd_ >= 0) inotify_rm_watch(inotify_fd_, dir_wd_);  // a moved dir keeps its watch
      WatchDir();  // fails (and stays -1) while the dir is gone
    }
    if (reload) Reload();
  }
}

}  // namespace berth::cni
