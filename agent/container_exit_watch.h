// ContainerExitWatch: tells `berth-agent logs -f` when the container writing
// a log file has exited, so that following ends there as the kubelet ends
// `kubectl logs -f` (it follows that container instance's log until the
// instance exits; a restart's new `<n+1>.log` is not followed).
//
// The container is found in the runtime's state dir by its log path
// (`<state>/containers/<id>/state.json`, "log_path"); its bundle dir is
// watched with inotify for `exit.json`, which the shim renames in only after
// it has written the container's last output to the log. A bundle dir that
// disappears (the container was removed) counts as exited too.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace berth::agent {

class ContainerExitWatch {
 public:
  // Watches the container of `<state_dir>/containers/*` whose log is
  // `log_path`. NotFound naming both when no container has that log.
  static absl::StatusOr<std::unique_ptr<ContainerExitWatch>> Start(const std::string& state_dir,
                                                                   const std::string& log_path);
  ~ContainerExitWatch();
  ContainerExitWatch(const ContainerExitWatch&) = delete;
  ContainerExitWatch& operator=(const ContainerExitWatch&) = delete;

  // Readable when the bundle dir changed: call Exited().
  int inotify_fd() const { return inotify_fd_; }

  // Consumes the queued events; true once the container has exited (or was removed).
  bool Exited();

  const std::string& container_id() const { return id_; }

 private:
  ContainerExitWatch(std::string id, std::string bundle, int inotify_fd)
      : id_(std::move(id)), bundle_(std::move(bundle)), inotify_fd_(inotify_fd) {}

  std::string id_;
  std::string bundle_;
  int inotify_fd_ = -1;
};

}  // namespace berth::agent
