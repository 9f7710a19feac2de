#include "agent/container_exit_watch.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "nlohmann/json.hpp"

namespace berth::agent {
namespace {

// `path` with its directory resolved (symlinks, "..", "//"), so that a log
// path spelled two ways compares equal; the file itself may be gone.
std::string ResolvedLogPath(const std::string& path) {
  std::string clean = CleanPath(path);
  size_t slash = clean.rfind('/');
  if (slash == std::string::npos || slash == 0) return clean;
  char dir[PATH_MAX];
  if (realpath(clean.substr(0, slash).c_str(), dir) == nullptr) return clean;
  return absl::StrCat(dir, clean.substr(slash));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ContainerExitWatch>> ContainerExitWatch::Start(const std::string& state_dir,
                                                                              const std::string& log_path) {
  const std::string containers = state_dir + "/containers";
  const std::string wanted = ResolvedLogPath(log_path);
  auto ids = ListDir(containers);
  if (ids.ok()) {
    for (const std::string& id : *ids) {
      const std::string bundle = absl::StrCat(containers, "/", id);
      auto text = ReadFile(bundle + "/state.json");
      if (!text.ok()) continue;
      auto state = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
      if (!state.is_object() || !state.contains("log_path") || !state["log_path"].is_string()) continue;
      const std::string& path = state["log_path"].get_ref<const std::string&>();
      if (path.empty() || ResolvedLogPath(path) != wanted) continue;
      int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
      if (fd < 0) return ErrnoError("inotify_init1");
      // exit.json is renamed in (IN_MOVED_TO); a removed bundle ends the watch (IN_IGNORED).
      if (inotify_add_watch(fd, bundle.c_str(), IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
        absl::Status error = ErrnoError(absl::StrCat("watch ", bundle));
        close(fd);
        if (!PathExists(bundle)) continue;  // removed while we looked
        return error;
      }
      return std::unique_ptr<ContainerExitWatch>(new ContainerExitWatch(id, bundle, fd));
    }
  }
  return absl::NotFoundError(absl::StrCat("no container under ", containers, " writes the log ", log_path));
}

ContainerExitWatch::~ContainerExitWatch() {
  if (inotify_fd_ >= 0) close(inotify_fd_);
}

bool ContainerExitWatch::Exited() {
  char events[4096];
  while (read(inotify_fd_, events, sizeof(events)) > 0) {
  }
  // Checked after draining: an exit.json renamed in after this look queues a new event.
  return PathExists(bundle_ + "/exit.json") || !PathExists(bundle_);
}

}  // namespace berth::agent
