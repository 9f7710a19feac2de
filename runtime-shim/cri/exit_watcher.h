// ExitWatcher: tells the runtime when a shim records its container's exit,
// by watching each bundle dir with inotify for exit.json being renamed in.
// Event-driven: one thread blocked in poll(), no polling of the shims.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth {

class ExitWatcher {
 public:
  using Callback = std::function<void(const std::string& id)>;

  static absl::StatusOr<std::unique_ptr<ExitWatcher>> Start(Callback on_exit);
  ~ExitWatcher();

  // Watches `bundle` for container `id`. If exit.json is already there the
  // callback runs (from the watcher thread) as if it had just appeared.
  absl::Status Watch(const std::string& id, const std::string& bundle);
  void Unwatch(const std::string& id);

 private:
  ExitWatcher(int inotify_fd, int wake_fd, Callback on_exit);
  void Loop();

  int inotify_fd_;
  int wake_fd_;
  Callback on_exit_;
  std::mutex mu_;
  std::map<int, std::string> ids_by_wd_;
  std::map<std::string, int> wds_by_id_;
  std::thread thread_;
};

}  // namespace berth
