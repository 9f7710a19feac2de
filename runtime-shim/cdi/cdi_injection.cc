#include "runtime-shim/cdi/cdi_injection.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "runtime-shim/cdi/cdi_registry.h"

namespace berth::cdi {

std::vector<std::string> RequestedDevices(const ::runtime::v1::ContainerConfig& config) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& name) {
    if (!name.empty() && seen.insert(name).second) out.push_back(name);
  };
  for (const auto& d : config.cdi_devices()) add(d.name());
  std::map<std::string, std::string> annotations(config.annotations().begin(), config.annotations().end());
  for (const auto& [key, value] : annotations) {
    if (!absl::StartsWith(key, kAnnotationPrefix)) continue;
    for (absl::string_view name : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
      add(std::string(absl::StripAsciiWhitespace(name)));
    }
  }
  return out;
}

absl::StatusOr<ResolvedEdits> MakeConcrete(const ContainerEdits& edits) {
  ResolvedEdits out;
  out.env = edits.env;
  out.hooks = edits.hooks;
  out.additional_gids = edits.additional_gids;
  for (const auto& n : edits.device_nodes) {
    DeviceSpec d;
    d.path = n.path;
    d.host_path = n.host_path.empty() ? n.path : n.host_path;
    struct stat st {};
    bool have_host = stat(d.host_path.c_str(), &st) == 0;
    if (have_host && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISFIFO(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("CDI device node ", n.path, ": host path ", d.host_path, " is not a device node"));
    }
    if ((!n.major || !n.minor || n.type.empty()) && !have_host) {
      return absl::NotFoundError(absl::StrCat("CDI device node ", n.path, ": host path ", d.host_path,
                                              " does not exist and the spec gives no type/major/minor"));
    }
    char type = !n.type.empty() ? n.type[0] : S_ISBLK(st.st_mode) ? 'b' : S_ISFIFO(st.st_mode) ? 'p' : 'c';
    d.type = type == 'u' ? 'c' : type;
    d.major = n.major ? *n.major : static_cast<int64_t>(major(st.st_rdev));
    d.minor = n.minor ? *n.minor : static_cast<int64_t>(minor(st.st_rdev));
    d.file_mode = n.file_mode ? (*n.file_mode & 07777) : have_host ? (st.st_mode & 07777) : 0666;
    d.uid = n.uid ? *n.uid : have_host ? st.st_uid : 0;
    d.gid = n.gid ? *n.gid : have_host ? st.st_gid : 0;
    d.permissions = n.permissions.empty() ? "rwm" : n.permissions;
    // A node given by numbers only is made with mknod, not bound from the host.
    if (!have_host) d.host_path.clear();
    out.devices.push_back(std::move(d));
  }
  for (const auto& m : edits.mounts) {
    MountSpec spec;
    spec.source = m.host_path;
    spec.destination = m.container_path;
    spec.type = m.type.empty() ? "bind" : m.type;
    spec.options = m.options;
    bool bind_option = std::find(spec.options.begin(), spec.options.end(), "bind") != spec.options.end() ||
                       std::find(spec.options.begin(), spec.options.end(), "rbind") != spec.options.end();
    if (spec.type == "bind" && !bind_option) spec.options.insert(spec.options.begin(), "rbind");
    out.mounts.push_back(std::move(spec));
  }
  return out;
}

absl::StatusOr<ResolvedEdits> ResolveForContainer(const ::runtime::v1::ContainerConfig& config,
                                                  const std::vector<std::string>& spec_dirs) {
  std::vector<std::string> names = RequestedDevices(config);
  if (names.empty()) return ResolvedEdits{};
  CdiRegistry registry = CdiRegistry::Load(spec_dirs);
  auto edits = registry.Resolve(names);
  if (!edits.ok()) return edits.status();
  auto out = MakeConcrete(*edits);
  if (!out.ok()) return out.status();
  out->device_names = std::move(names);
  return out;
}

std::vector<std::string> DeviceCgroupRules(const ResolvedEdits& edits) {
  std::vector<std::string> rules;
  for (const auto& d : edits.devices) {
    if (d.type != 'c' && d.type != 'b') continue;  // fifos need no device rule
    rules.push_back(absl::StrCat(std::string(1, d.type), " ", d.major, ":", d.minor, " ", d.permissions));
  }
  return rules;
}

void ApplyEdits(const ResolvedEdits& edits, ContainerSpec* spec) {
  for (const auto& kv : edits.env) {
    std::string key = kv.substr(0, kv.find('='));
    auto same = std::find_if(spec->env.begin(), spec->env.end(),
                             [&](const std::string& e) { return e.substr(0, e.find('=')) == key; });
    if (same != spec->env.end()) {
      *same = kv;
    } else {
      spec->env.push_back(kv);
    }
  }
  for (const auto& d : edits.devices) {
    auto same = std::find_if(spec->devices.begin(), spec->devices.end(),
                             [&](const DeviceSpec& e) { return e.path == d.path; });
    if (same != spec->devices.end()) {
      *same = d;
    } else {
      spec->devices.push_back(d);
    }
  }
  for (const auto& m : edits.mounts) {
    auto same = std::find_if(spec->mounts.begin(), spec->mounts.end(),
                             [&](const MountSpec& e) { return e.destination == m.destination; });
    if (same != spec->mounts.end()) {
      *same = m;
    } else {
      spec->mounts.push_back(m);
    }
  }
  for (uint32_t gid : edits.additional_gids) {
    if (std::find(spec->additional_gids.begin(), spec->additional_gids.end(), gid) == spec->additional_gids.end()) {
      spec->additional_gids.push_back(gid);
    }
  }
}

}  // namespace berth::cdi
