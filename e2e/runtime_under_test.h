// The CRI runtime an end-to-end test drives: berth-agent (the default) or
// containerd (BERTH_E2E_RUNTIME=containerd, the reference), each started in
// a fresh temporary root and torn down completely: processes, shims,
// containers, mounts and cgroups.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::e2e {

class RuntimeUnderTest {
 public:
  // From env BERTH_E2E_RUNTIME: "containerd", or "berth" / unset.
  static std::unique_ptr<RuntimeUnderTest> FromEnv();

  virtual ~RuntimeUnderTest() = default;

  // "berth" or "containerd".
  virtual std::string name() const = 0;

  // Makes a fresh temporary root, imports the image archives, starts the
  // runtime there and waits until it answers Version.
  virtual absl::Status Start(const std::vector<std::string>& image_archives) = 0;

  // SIGKILL to the runtime's main process, and waits until it is gone.
  virtual absl::Status KillMainProcess() = 0;

  // Starts the runtime again on the same directories (after KillMainProcess).
  virtual absl::Status Restart() = 0;

  // Removes what the runtime left: best-effort CRI cleanup of every pod,
  // then the runtime, every process that names the root, mounts under the
  // root, the cgroup parent and the root itself. Safe to call twice and
  // after a failed Start. Returns the first problem but always goes on.
  virtual absl::Status Stop() = 0;

  // The last `max_bytes` of the runtime's own log ("" where it keeps none
  // under the root): what a failed test prints before Stop removes it.
  virtual std::string LogTail(size_t max_bytes) const { return ""; }

  const std::string& root() const { return root_; }
  std::string endpoint() const { return "unix://" + socket_path(); }
  virtual std::string socket_path() const = 0;

  // From the next (Re)start on, the runtime runs in a network namespace of
  // its own (made here, removed by Stop) with `conflist` as its only CNI
  // config and the plugins of `bin_dir`, so bridges and addresses exist only
  // there. Unimplemented where the runtime can't do this.
  virtual absl::Status UsePodNetwork(const std::string& conflist, const std::string& bin_dir) {
    return absl::UnimplementedError("pod networking is set up by this runtime's own script");
  }
  // Extra flags for the runtime from the next (Re)start on (berth only).
  void set_extra_flags(std::vector<std::string> flags) { extra_flags_ = std::move(flags); }

  // The network namespace UsePodNetwork made ("" before), under /run/netns.
  const std::string& host_netns() const { return host_netns_; }
  pid_t main_pid() const { return main_pid_; }

  // A cgroup path ("/berth-e2e-XXXXXX") every pod of this run lives under.
  const std::string& cgroup_parent() const { return cgroup_parent_; }

 protected:
  // Creates root_ and cgroup_parent_ names.
  absl::Status MakeRoot(const std::string& prefix);
  // Everything after the runtime itself is down (see Stop).
  absl::Status CleanUpAfterRuntime();
  // Lists every pod through CRI and stops and removes it, bounded in time.
  void RemoveAllPods();

  std::string root_;
  std::string cgroup_parent_;
  std::string host_netns_;
  std::vector<std::string> extra_flags_;
  pid_t main_pid_ = -1;
};

// Runs argv (no shell), returns its stdout and stderr together, or an error
// naming the command, its exit status and its output. Kills it after `timeout`.
absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv,
                                       absl::Duration timeout,
                                       const std::vector<std::string>& extra_env = {});

// Waits until `pid` has exited (a zombie counts), using a pidfd.
absl::Status WaitForPidExit(pid_t pid, absl::Duration timeout);

// Sends SIGKILL to every process in the cgroup `path` (relative to each
// hierarchy) and below, in every mounted hierarchy, and removes the
// directories, deepest first.
absl::Status RemoveCgroupTree(const std::string& path);

// Unmounts every mount at or below `dir`, deepest first (lazily if busy).
absl::Status UnmountUnder(const std::string& dir);

// The repository root (for hack/ scripts).
std::string SourceDir();

}  // namespace berth::e2e
