#include "runtime-shim/cri/container_spec_builder.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/match.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "runtime-shim/security/capabilities.h"
#include "runtime-shim/security/seccomp.h"

namespace berth {

namespace cri = ::runtime::v1;

namespace {

// Reads one colon-separated database file (passwd, group) from the top-most layer that has it.
std::vector<std::vector<std::string>> ReadImageDb(const std::vector<std::string>& lower_dirs,
                                                  const char* relative) {
  for (const auto& dir : lower_dirs) {
    auto text = ReadFile(JoinUnderRoot(dir, relative));
    if (!text.ok()) continue;
    std::vector<std::vector<std::string>> rows;
    for (absl::string_view line : absl::StrSplit(*text, '\n')) {
      if (line.empty() || line[0] == '#') continue;
      rows.push_back(absl::StrSplit(line, ':'));
    }
    return rows;
  }
  return {};
}

absl::StatusOr<std::string> SeccompFromProfile(const cri::SecurityProfile& profile,
                                               const std::string& field) {
  switch (profile.profile_type()) {
    case cri::SecurityProfile::RuntimeDefault:
      return RuntimeDefaultSeccompProfile();
    case cri::SecurityProfile::Unconfined:
      return std::string();
    case cri::SecurityProfile::Localhost: {
      if (profile.localhost_ref().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(field, ".localhost_ref: empty for a Localhost profile"));
      }
      auto text = ReadFile(profile.localhost_ref());
      if (!text.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".localhost_ref: ", text.status().message()));
      }
      absl::Status valid = ValidateSeccompProfile(*text);
      if (!valid.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(field, ".localhost_ref ",
                                                       profile.localhost_ref(), ": ", valid.message()));
      }
      return *text;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat(field, ".profile_type: unknown value ",
                                                     static_cast<int>(profile.profile_type())));
  }
}

absl::StatusOr<std::string> SeccompFor(const cri::LinuxContainerSecurityContext& sc) {
  if (sc.privileged()) return std::string();
  if (sc.has_seccomp()) return SeccompFromProfile(sc.seccomp(), "linux.security_context.seccomp");
  // The pre-1.19 field: still sent by older kubelets and crictl configs.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const std::string& path = sc.seccomp_profile_path();
#pragma GCC diagnostic pop
  if (path.empty() || path == "unconfined") return std::string();
  if (path == "runtime/default" || path == "docker/default") return RuntimeDefaultSeccompProfile();
  if (absl::StartsWith(path, "localhost/")) {
    cri::SecurityProfile profile;
    profile.set_profile_type(cri::SecurityProfile::Localhost);
    profile.set_localhost_ref(path.substr(strlen("localhost")));
    return SeccompFromProfile(profile, "linux.security_context.seccomp_profile_path");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("linux.security_context.seccomp_profile_path: unknown profile \"", path, "\""));
}

// A CRI mount to the shim's mount spec; the host path must exist.
absl::StatusOr<MountSpec> ToMountSpec(const cri::Mount& m, int index) {
  std::string field = absl::StrCat("mounts[", index, "]");
  if (m.container_path().empty() || m.container_path()[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(field, ".container_path: must be an absolute path, got \"",
                                                   m.container_path(), "\""));
  }
  if (m.host_path().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".host_path: empty"));
  }
  struct stat st {};
  if (stat(m.host_path().c_str(), &st) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".host_path: \"", m.host_path(),
                                                   "\" does not exist: ", strerror(errno)));
  }
  MountSpec spec;
  spec.source = m.host_path();
  spec.destination = CleanPath(m.container_path());
  spec.type = "bind";
  spec.options = {"rbind"};
  if (m.readonly()) spec.options.push_back("ro");
  switch (m.propagation()) {
    case cri::PROPAGATION_HOST_TO_CONTAINER: spec.options.push_back("rslave"); break;
    case cri::PROPAGATION_BIDIRECTIONAL: spec.options.push_back("rshared"); break;
    default: spec.options.push_back("rprivate"); break;
  }
  return spec;
}

absl::StatusOr<DeviceSpec> ToDeviceSpec(const cri::Device& d, int index) {
  std::string field = absl::StrCat("devices[", index, "]");
  struct stat st {};
  if (stat(d.host_path().c_str(), &st) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".host_path: \"", d.host_path(), "\": ", strerror(errno)));
  }
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".host_path: \"", d.host_path(), "\" is not a device node"));
  }
  std::string perms = d.permissions().empty() ? "rwm" : d.permissions();
  if (perms.find_first_not_of("rwm") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".permissions: \"", perms, "\" may hold only r, w and m"));
  }
  DeviceSpec spec;
  spec.path = d.container_path().empty() ? d.host_path() : d.container_path();
  spec.host_path = d.host_path();
  spec.type = S_ISCHR(st.st_mode) ? 'c' : 'b';
  spec.major = major(st.st_rdev);
  spec.minor = minor(st.st_rdev);
  spec.file_mode = st.st_mode & 07777;
  spec.uid = st.st_uid;
  spec.gid = st.st_gid;
  spec.permissions = perms;
  return spec;
}

// Every device node of the host, for privileged containers (as runc and
// containerd give them), except the ones each container gets its own of.
std::vector<DeviceSpec> HostDevices(const std::string& dir = "/dev") {
  static const char* const kSkipped[] = {"/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/null",
                                         "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                                         "/dev/tty", "/dev/ptmx", "/dev/console"};
  std::vector<DeviceSpec> out;
  for (const std::string& name : ListDir(dir).value_or(std::vector<std::string>{})) {
    std::string path = dir + "/" + name;
    if (std::any_of(std::begin(kSkipped), std::end(kSkipped), [&](const char* s) { return path == s; })) continue;
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      auto nested = HostDevices(path);
      out.insert(out.end(), nested.begin(), nested.end());
      continue;
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) continue;
    DeviceSpec d;
    d.path = path;
    d.host_path = path;
    d.type = S_ISCHR(st.st_mode) ? 'c' : 'b';
    d.major = major(st.st_rdev);
    d.minor = minor(st.st_rdev);
    d.file_mode = st.st_mode & 07777;
    d.uid = st.st_uid;
    d.gid = st.st_gid;
    out.push_back(std::move(d));
  }
  return out;
}

bool HasDestination(const std::vector<MountSpec>& mounts, const std::string& dest) {
  return std::any_of(mounts.begin(), mounts.end(),
                     [&](const MountSpec& m) { return m.destination == dest; });
}

}  // namespace

absl::StatusOr<std::vector<std::string>> MergeCommand(const cri::ContainerConfig& config,
                                                      const image::Image& image) {
  std::vector<std::string> args;
  if (!config.command().empty()) {
    args.assign(config.command().begin(), config.command().end());
    args.insert(args.end(), config.args().begin(), config.args().end());
  } else {
    args = image.entrypoint;
    if (!config.args().empty()) {
      args.insert(args.end(), config.args().begin(), config.args().end());
    } else {
      args.insert(args.end(), image.cmd.begin(), image.cmd.end());
    }
  }
  if (args.empty()) {
    return absl::InvalidArgumentError(
        "command: no command specified and the image has no entrypoint or cmd");
  }
  return args;
}

std::vector<std::string> MergeEnv(const cri::ContainerConfig& config, const image::Image& image) {
  std::vector<std::string> env = image.env;
  auto set = [&](const std::string& key, const std::string& value) {
    std::string prefix = key + "=";
    for (auto& e : env) {
      if (absl::StartsWith(e, prefix)) {
        e = prefix + value;
        return;
      }
    }
    env.push_back(prefix + value);
  };
  bool has_path = std::any_of(env.begin(), env.end(), [](const std::string& e) {
    return absl::StartsWith(e, "PATH=");
  });
  if (!has_path) set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  for (const auto& kv : config.envs()) set(kv.key(), kv.value());
  return env;
}

absl::StatusOr<ResolvedUser> ResolveImageUser(const std::vector<std::string>& lower_dirs,
                                              const std::string& user) {
  ResolvedUser out;
  if (user.empty()) return out;
  std::vector<std::string> parts = absl::StrSplit(user, absl::MaxSplits(':', 1));
  auto passwd = ReadImageDb(lower_dirs, "etc/passwd");
  bool found = false;
  uint32_t numeric = 0;
  std::string name;
  if (absl::SimpleAtoi(parts[0], &numeric)) {
    out.uid = numeric;
    for (const auto& row : passwd) {
      uint32_t uid;
      if (row.size() >= 4 && absl::SimpleAtoi(row[2], &uid) && uid == numeric) {
        absl::SimpleAtoi(row[3], &out.gid);
        name = row[0];
        found = true;
        break;
      }
    }
  } else {
    for (const auto& row : passwd) {
      if (row.size() >= 4 && row[0] == parts[0]) {
        absl::SimpleAtoi(row[2], &out.uid);
        absl::SimpleAtoi(row[3], &out.gid);
        name = row[0];
        found = true;
        break;
      }
    }
    if (!found) {
      return absl::NotFoundError(absl::StrCat("user \"", parts[0], "\" not found in the image's /etc/passwd"));
    }
  }
  auto groups = ReadImageDb(lower_dirs, "etc/group");
  if (parts.size() == 2) {
    if (!absl::SimpleAtoi(parts[1], &out.gid)) {
      bool group_found = false;
      for (const auto& row : groups) {
        if (row.size() >= 3 && row[0] == parts[1]) {
          absl::SimpleAtoi(row[2], &out.gid);
          group_found = true;
          break;
        }
      }
      if (!group_found) {
        return absl::NotFoundError(absl::StrCat("group \"", parts[1], "\" not found in the image's /etc/group"));
      }
    }
  }
  if (!name.empty()) {
    for (const auto& row : groups) {
      if (row.size() < 4) continue;
      uint32_t gid;
      if (!absl::SimpleAtoi(row[2], &gid) || gid == out.gid) continue;
      for (absl::string_view member : absl::StrSplit(row[3], ',')) {
        if (member == name) out.additional_gids.push_back(gid);
      }
    }
  }
  return out;
}

absl::StatusOr<BuiltSpec> BuildContainerSpec(const SpecInputs& in) {
  const cri::ContainerConfig& config = *in.config;
  const cri::LinuxContainerSecurityContext& sc = config.linux().security_context();
  BuiltSpec built;
  ContainerSpec& spec = built.spec;

  spec.lower_dirs = in.lower_dirs;
  spec.upper_dir = in.bundle + "/fs/upper";
  spec.work_dir = in.bundle + "/fs/work";
  spec.rootfs = in.bundle + "/rootfs";
  spec.readonly_rootfs = sc.readonly_rootfs();

  ASSIGN_OR_RETURN(spec.args, MergeCommand(config, *in.image));
  spec.env = MergeEnv(config, *in.image);
  if (!in.sandbox_config->hostname().empty()) {
    bool has_hostname = std::any_of(spec.env.begin(), spec.env.end(), [](const std::string& e) {
      return absl::StartsWith(e, "HOSTNAME=");
    });
    if (!has_hostname) spec.env.push_back("HOSTNAME=" + in.sandbox_config->hostname());
  }
  spec.cwd = !config.working_dir().empty() ? config.working_dir()
             : !in.image->working_dir.empty() ? in.image->working_dir : "/";
  if (spec.cwd[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("working_dir: must be an absolute path, got \"", spec.cwd, "\""));
  }

  // User: run_as_user / run_as_username win over the image's USER.
  std::string user = in.image->user;
  if (sc.has_run_as_user()) {
    if (sc.run_as_user().value() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("linux.security_context.run_as_user: negative value ",
                                                     sc.run_as_user().value()));
    }
    user = std::to_string(sc.run_as_user().value());
  } else if (!sc.run_as_username().empty()) {
    user = sc.run_as_username();
  }
  auto resolved = ResolveImageUser(in.lower_dirs, user);
  if (!resolved.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("linux.security_context.run_as_username: ", resolved.status().message()));
  }
  spec.uid = resolved->uid;
  spec.gid = resolved->gid;
  spec.additional_gids = resolved->additional_gids;
  if (sc.has_run_as_group()) {
    if (sc.run_as_group().value() < 0) {
      return absl::InvalidArgumentError("linux.security_context.run_as_group: negative value");
    }
    spec.gid = static_cast<uint32_t>(sc.run_as_group().value());
  }
  for (int64_t g : sc.supplemental_groups()) {
    if (g < 0) return absl::InvalidArgumentError("linux.security_context.supplemental_groups: negative gid");
    spec.additional_gids.push_back(static_cast<uint32_t>(g));
  }

  spec.stdin = config.stdin();
  spec.stdin_once = config.stdin_once();
  spec.tty = config.tty();

  // Security.
  spec.privileged = sc.privileged();
  if (sc.privileged() && !in.sandbox_config->linux().security_context().privileged()) {
    return absl::InvalidArgumentError(
        "linux.security_context.privileged: a privileged container needs a privileged sandbox");
  }
  spec.no_new_privs = sc.no_new_privs();
  std::vector<std::string> add(sc.capabilities().add_capabilities().begin(),
                               sc.capabilities().add_capabilities().end());
  std::vector<std::string> drop(sc.capabilities().drop_capabilities().begin(),
                                sc.capabilities().drop_capabilities().end());
  auto caps = ComputeCapabilities(add, drop, sc.privileged());
  if (!caps.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("linux.security_context.", caps.status().message()));
  }
  spec.capabilities = caps->capabilities;
  for (const auto& cap : caps->unavailable) {
    built.warnings.push_back(absl::StrCat(cap, " is not in this host's bounding set; the container runs without it"));
  }
  ASSIGN_OR_RETURN(built.seccomp_profile, SeccompFor(sc));
  spec.seccomp = !built.seccomp_profile.empty();
  // Exactly what the client asks for, as containerd does: the kubelet sends
  // its default list (procMount Default) and none for Unmasked.
  if (!sc.privileged()) {
    spec.masked_paths.assign(sc.masked_paths().begin(), sc.masked_paths().end());
    spec.readonly_paths.assign(sc.readonly_paths().begin(), sc.readonly_paths().end());
  }
  int64_t oom = config.linux().resources().oom_score_adj();
  if (oom < -1000 || oom > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("linux.resources.oom_score_adj: ", oom, " is outside [-1000, 1000]"));
  }
  spec.oom_score_adj = static_cast<int>(std::max<int64_t>(oom, in.min_oom_score_adj));
  if (spec.oom_score_adj != oom) {
    built.warnings.push_back(absl::StrCat("oom_score_adj ", oom, " raised to ", spec.oom_score_adj,
                                          ", the lowest this host allows"));
  }

  // Namespaces: pod's net/ipc/uts (absent entries mean the host's), own mnt,
  // pid by mode.
  for (const char* type : {"net", "ipc", "uts"}) {
    auto it = in.sandbox_namespaces.find(type);
    if (it != in.sandbox_namespaces.end()) spec.namespaces.push_back({type, it->second});
  }
  spec.namespaces.push_back({"mnt", ""});
  cri::NamespaceMode pid_mode = sc.namespace_options().pid();
  if (pid_mode == cri::CONTAINER) {
    spec.namespaces.push_back({"pid", ""});
  } else if (pid_mode == cri::POD || pid_mode == cri::TARGET) {
    if (in.pid_namespace.empty()) {
      return absl::InvalidArgumentError("linux.security_context.namespace_options.pid: no pid namespace to join");
    }
    spec.namespaces.push_back({"pid", in.pid_namespace});
  }  // NODE: the host's
  if (in.sandbox_namespaces.count("uts") == 0) spec.hostname.clear();
  spec.cgroup_dirs = in.cgroup_dirs;
  spec.memory_cgroup_dir = in.memory_cgroup_dir;

  // Mounts: the CRI ones first decide; sandbox files fill in what they leave.
  for (int i = 0; i < config.mounts_size(); ++i) {
    ASSIGN_OR_RETURN(MountSpec m, ToMountSpec(config.mounts(i), i));
    spec.mounts.push_back(std::move(m));
  }
  auto add_file = [&](const char* dest, const std::string& source, bool readonly) {
    if (HasDestination(spec.mounts, dest) || source.empty() || !PathExists(source)) return;
    MountSpec m{source, dest, "bind", {"rbind", "rprivate"}};
    if (readonly) m.options.push_back("ro");
    spec.mounts.push_back(std::move(m));
  };
  add_file("/etc/hosts", in.sandbox_files_dir + "/hosts", sc.readonly_rootfs());
  add_file("/etc/resolv.conf", in.sandbox_files_dir + "/resolv.conf", sc.readonly_rootfs());
  add_file("/etc/hostname", in.sandbox_files_dir + "/hostname", sc.readonly_rootfs());
  add_file("/dev/shm", in.sandbox_shm_dir, false);

  if (sc.privileged()) spec.devices = HostDevices();
  for (int i = 0; i < config.devices_size(); ++i) {
    ASSIGN_OR_RETURN(DeviceSpec d, ToDeviceSpec(config.devices(i), i));
    spec.devices.push_back(std::move(d));
  }
  spec.log_path = in.log_path;
  return built;
}

}  // namespace berth
