// A CDI (Container Device Interface) spec file: cdiVersion 0.3.0 to 0.8.0,
// JSON or YAML. A spec names a kind ("vendor.com/class"), its devices, and
// container edits (env, device nodes, mounts, hooks, additional GIDs) for each
// device and for the spec as a whole.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::cdi {

struct DeviceNode {
  std::string path;       // in the container
  std::string host_path;  // on the host; empty: path
  std::string type;       // "c", "b", "u" or "p"; empty: from the host node
  std::optional<int64_t> major, minor;
  std::optional<uint32_t> file_mode;
  std::string permissions;  // cgroup access, any of "rwm"; empty: "rwm"
  std::optional<uint32_t> uid, gid;
};

struct Mount {
  std::string host_path;
  std::string container_path;
  std::string type;
  std::vector<std::string> options;
};

struct Hook {
  std::string hook_name;  // prestart, createRuntime, createContainer, startContainer, poststart, poststop
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int64_t> timeout;
};

struct ContainerEdits {
  std::vector<std::string> env;  // "KEY=value"
  std::vector<DeviceNode> device_nodes;
  std::vector<Mount> mounts;
  std::vector<Hook> hooks;
  std::vector<uint32_t> additional_gids;
};

struct Device {
  std::string name;
  ContainerEdits edits;
};

struct Spec {
  std::string path;  // the file it came from
  std::string version;
  std::string kind;  // vendor.com/class
  std::vector<Device> devices;
  ContainerEdits edits;  // applied once when any device of the spec is used
};

// Parses and validates one spec. `path` names the file in errors; YAML is
// tried unless the text starts with '{'. Errors name the field
// ("devices[1].containerEdits.deviceNodes[0].path: must be absolute").
absl::StatusOr<Spec> ParseSpec(absl::string_view text, const std::string& path);

// "vendor.com/class": vendor a domain-like name, class letters, digits, '-', '_', '.'.
// Empty when valid, else why not.
std::string KindError(const std::string& kind);
// Device names: letters, digits, '-', '_', '.', ':' (starting and ending with a letter or digit).
std::string DeviceNameError(const std::string& name);

// "vendor.com/class=name" into kind and name; InvalidArgument naming the text.
absl::StatusOr<std::pair<std::string, std::string>> ParseQualifiedName(const std::string& qualified);

}  // namespace berth::cdi
