// ContainerSpec: everything berth-shim needs to set up and run one container,
// written by the runtime as `<bundle>/config.json` and read by the shim.
//
// The bundle dir (`<state>/containers/<id>/`) is the contract between the two:
//   config.json   this spec (runtime writes, before starting the shim)
//   seccomp.json  the OCI seccomp profile to load (absent: unconfined)
//   shim.sock     the shim's control socket (line protocol, see shim/README.md)
//   attach.sock   the container's stdio for attach (shim/attach_protocol.h)
//   shim.pid      the shim's pid; init.pid: the container's pid (host view)
//   exit.json     ExitRecord, written atomically by the shim when the container exits
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth {

struct MountSpec {
  std::string source;       // host path (bind) or fs source ("proc", "tmpfs", ...)
  std::string destination;  // absolute path inside the container
  std::string type;         // "bind", "proc", "tmpfs", "sysfs", "devpts", "mqueue", ...
  // "ro", "nosuid", "nodev", "noexec", "rbind", "rprivate", "rslave", "rshared",
  // and data options ("mode=755", "size=65536k", ...).
  std::vector<std::string> options;
};

struct DeviceSpec {
  std::string path;         // path inside the container
  std::string host_path;    // host device node it comes from
  char type = 'c';          // 'c' or 'b'
  int64_t major = 0;
  int64_t minor = 0;
  uint32_t file_mode = 0666;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string permissions = "rwm";  // cgroup device rule access
};

// A namespace the container joins (path set) or gets anew (path empty).
struct NamespaceSpec {
  std::string type;  // "net", "ipc", "uts", "pid", "mnt", "cgroup", "user"
  std::string path;  // e.g. "/run/berth/sandboxes/<id>/ns/net"; empty: new
};

struct ContainerSpec {
  std::string id;
  std::string sandbox_id;

  // Root filesystem: overlay of lower_dirs (top-most first) with upper/work,
  // mounted at rootfs. An empty lower_dirs with rootfs set means rootfs is
  // already a directory to use as is (tests).
  std::vector<std::string> lower_dirs;
  std::string upper_dir;
  std::string work_dir;
  std::string rootfs;
  bool readonly_rootfs = false;

  // The process.
  std::vector<std::string> args;  // args[0] is looked up in PATH from env
  std::vector<std::string> env;   // "KEY=value"
  std::string cwd = "/";
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  bool stdin = false;
  bool stdin_once = false;
  bool tty = false;

  // Security.
  bool privileged = false;
  bool no_new_privs = false;
  std::vector<std::string> capabilities;  // "CAP_CHOWN", ... bounding = effective = permitted
  bool seccomp = false;                    // load <bundle>/seccomp.json
  int oom_score_adj = 0;                   // already clamped to what may be set
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;

  // Namespaces and cgroups.
  std::vector<NamespaceSpec> namespaces;
  std::string hostname;                      // set only when uts is new
  std::vector<std::string> cgroup_dirs;      // the child writes its pid to each <dir>/cgroup.procs
  std::string memory_cgroup_dir;             // where the shim reads the OOM kill count
  std::map<std::string, std::string> sysctls;  // applied inside the container's namespaces

  // Mounts after the standard /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys.
  std::vector<MountSpec> mounts;
  std::vector<DeviceSpec> devices;

  // Output.
  std::string log_path;  // CRI log file; empty: discard output
  // Size-based rotation done by the shim as it writes (the kubelet's
  // containerLogMaxSize / containerLogMaxFiles): 0 never rotates; else the
  // file is rotated before it would pass log_max_size bytes and at most
  // log_max_files files (>= 2, the live one included) are kept.
  int64_t log_max_size = 0;
  int32_t log_max_files = 0;
};

// What the shim records when the container exits.
struct ExitRecord {
  int32_t exit_code = 0;       // 128+signal when killed by a signal
  int32_t signal = 0;          // the killing signal, 0 for a normal exit
  bool oom_killed = false;
  int64_t started_at = 0;      // unix nanos
  int64_t finished_at = 0;     // unix nanos
  std::string reason;          // "Completed", "Error", "OOMKilled", "StartError"
  std::string message;         // e.g. why the exec failed
};

std::string ContainerSpecToJson(const ContainerSpec& spec);
absl::StatusOr<ContainerSpec> ContainerSpecFromJson(const std::string& json);
std::string ExitRecordToJson(const ExitRecord& record);
absl::StatusOr<ExitRecord> ExitRecordFromJson(const std::string& json);

}  // namespace berth
