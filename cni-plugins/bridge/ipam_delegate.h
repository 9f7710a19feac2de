// Delegating to the IPAM plugin as the reference plugins do: exec
// `ipam.type` found in CNI_PATH, with this process's environment (CNI_COMMAND
// set to the command), the same network config on stdin, and its stdout read
// back as a result or a CNI error. Started asynchronously, so the bridge can
// build the veth while the IPAM plugin runs.
//
// berth's own host-local is the one exception: when ipam.type is
// "berth-host-local" (found in CNI_PATH as for an exec, so a missing plugin
// still fails the same way), its ADD and DEL run in this process through the
// same library berth-host-local's main() calls (ParseIpamConfig, Allocate /
// Release, ResultJson) - the same code, the same files and flock, without a
// second process start. BERTH_CNI_EXEC_IPAM=1 in the environment forces the
// exec.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "absl/status/statusor.h"
#include "cni-plugins/common/plugin.h"
#include "nlohmann/json.hpp"

namespace berth::bridge {

// The first executable <dir>/<type> among CNI_PATH's dirs; CNI code 7 naming
// ipam.type and the dirs searched otherwise.
absl::StatusOr<std::string> FindIpamPlugin(const std::string& type, const std::string& cni_path);

class IpamDelegate {
 public:
  IpamDelegate(IpamDelegate&& o) noexcept;
  IpamDelegate& operator=(IpamDelegate&&) = delete;
  IpamDelegate(const IpamDelegate&) = delete;
  ~IpamDelegate();  // waits for the process when nobody did

  // Starts `type` for `command` with the env of `args` (CNI_PATH) and its
  // config on stdin; the stdin is written and closed before this returns.
  // The caller sets SIGPIPE to ignored (the child gets it back at default).
  // `alongside`, when given, is work that overlaps the plugin's: run on the
  // in-process plugin's thread before the plugin itself, or on the caller's
  // thread once the process is started. It has run when Wait() returns (and
  // has not when Start fails).
  static absl::StatusOr<IpamDelegate> Start(const cniplugin::PluginArgs& args, const std::string& type,
                                            const std::string& command,
                                            std::function<void()> alongside = nullptr);

  // Waits for it to exit: its stdout as JSON (null when it printed nothing)
  // on exit 0; else its CNI error object as a status with the same code,
  // "ipam plugin <type>: <msg>".
  absl::StatusOr<nlohmann::json> Wait();

  // ADD/DEL/CHECK/GC/STATUS and wait, in one call.
  static absl::StatusOr<nlohmann::json> Run(const cniplugin::PluginArgs& args, const std::string& type,
                                            const std::string& command);

  // Whether the plugin runs in this process (see above).
  bool in_process() const { return in_process_; }

 private:
  IpamDelegate(std::string type, pid_t pid, int out_fd) : type_(std::move(type)), pid_(pid), out_fd_(out_fd) {}
  std::string type_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  // In-process: a thread computing the result (joined by Wait).
  bool in_process_ = false;
  std::unique_ptr<std::thread> thread_;
  std::unique_ptr<absl::StatusOr<nlohmann::json>> inline_result_;
};

}  // namespace berth::bridge
