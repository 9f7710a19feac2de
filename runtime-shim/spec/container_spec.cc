#include "runtime-shim/spec/container_spec.h"

#include "nlohmann/json.hpp"

namespace berth {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MountSpec, source, destination, type, options)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DeviceSpec, path, host_path, type, major, minor,
                                                file_mode, uid, gid, permissions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NamespaceSpec, type, path)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ContainerSpec, id, sandbox_id, lower_dirs, upper_dir,
                                                work_dir, rootfs, readonly_rootfs, args, env, cwd,
                                                uid, gid, additional_gids, stdin, stdin_once, tty,
                                                privileged, no_new_privs, capabilities, seccomp,
                                                oom_score_adj, masked_paths, readonly_paths,
                                                namespaces, hostname, cgroup_dirs,
                                                memory_cgroup_dir, sysctls, mounts, devices,
                                                log_path, log_max_size, log_max_files)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ExitRecord, exit_code, signal, oom_killed,
                                                started_at, finished_at, reason, message)

namespace {
template <typename T>
absl::StatusOr<T> Parse(const std::string& json, const char* what) {
  try {
    return nlohmann::json::parse(json).get<T>();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(std::string("parse ") + what + ": " + e.what());
  }
}
}  // namespace

std::string ContainerSpecToJson(const ContainerSpec& spec) { return nlohmann::json(spec).dump(); }
absl::StatusOr<ContainerSpec> ContainerSpecFromJson(const std::string& json) {
  return Parse<ContainerSpec>(json, "container spec");
}
std::string ExitRecordToJson(const ExitRecord& record) { return nlohmann::json(record).dump(); }
absl::StatusOr<ExitRecord> ExitRecordFromJson(const std::string& json) {
  return Parse<ExitRecord>(json, "exit record");
}

}  // namespace berth
