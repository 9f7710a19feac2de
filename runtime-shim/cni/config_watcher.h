// NetworkConfigWatcher: keeps the CNI network config of a conf dir loaded,
// re-reading it when the dir changes (inotify: a file created, closed after
// writing, deleted, moved in or out, its attributes changed; the dir itself
// removed and made again). A file created empty is read when its writer
// closes it, not half-written. One thread blocked in poll(), woken by
// inotify or by the destructor's eventfd.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime-shim/cni/network_config.h"

namespace berth::cni {

class NetworkConfigWatcher {
 public:
  // Creates `conf_dir` when missing (as containerd does), loads the config
  // and starts watching the dir and, for the dir itself going and coming
  // back, its parent.
  static absl::StatusOr<std::unique_ptr<NetworkConfigWatcher>> Start(const std::string& conf_dir);
  ~NetworkConfigWatcher();
  NetworkConfigWatcher(const NetworkConfigWatcher&) = delete;
  NetworkConfigWatcher& operator=(const NetworkConfigWatcher&) = delete;

  // The config as last loaded, or why there is none (LoadNetworkConfig's
  // error: no config in the dir, or the first file's error naming its field).
  absl::StatusOr<NetworkConfigList> Current() const;

  // Counts loads (the first one is 1).
  uint64_t generation() const;
  // Blocks until generation() > `after` or `timeout` passes; true if it did.
  bool WaitForGeneration(uint64_t after, absl::Duration timeout) const;

  // Loads the config again now.
  void Reload();

 private:
  NetworkConfigWatcher(std::string conf_dir, int inotify_fd, int wake_fd);
  void Loop();
  void WatchDir();  // (re)adds the watch on the conf dir; a missing dir is fine
  bool EmptyRegularFile(const char* name) const;

  const std::string conf_dir_;
  const int inotify_fd_;
  const int wake_fd_;
  int dir_wd_ = -1;
  int parent_wd_ = -1;
  std::string base_name_;  // the conf dir's name in its parent

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::shared_ptr<const absl::StatusOr<NetworkConfigList>> current_;
  uint64_t generation_ = 0;
  std::thread thread_;
};

}  // namespace berth::cni
