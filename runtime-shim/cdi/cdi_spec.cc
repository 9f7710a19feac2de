#include "runtime-shim/cdi/cdi_spec.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/k8s/codec.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace berth::cdi {
namespace {

using Json = nlohmann::json;

absl::Status Bad(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// Known cdiVersions: 0.3.0 .. 0.8.0 ("0.3", "0.5.0", ...).
bool SupportedVersion(const std::string& v) {
  std::vector<std::string> parts = absl::StrSplit(v, '.');
  if (parts.size() < 2 || parts.size() > 3) return false;
  int major, minor, patch = 0;
  if (!absl::SimpleAtoi(parts[0], &major) || !absl::SimpleAtoi(parts[1], &minor)) return false;
  if (parts.size() == 3 && !absl::SimpleAtoi(parts[2], &patch)) return false;
  return major == 0 && minor >= 3 && minor <= 8 && patch >= 0;
}

absl::StatusOr<std::string> String(const Json& obj, const char* key, const std::string& field, bool required) {
  if (!obj.contains(key) || obj[key].is_null()) {
    if (required) return Bad(absl::StrCat(field, key), "required");
    return std::string();
  }
  if (!obj[key].is_string()) return Bad(absl::StrCat(field, key), "must be a string");
  return obj[key].get<std::string>();
}

absl::StatusOr<std::vector<std::string>> Strings(const Json& obj, const char* key, const std::string& field) {
  std::vector<std::string> out;
  if (!obj.contains(key) || obj[key].is_null()) return out;
  if (!obj[key].is_array()) return Bad(absl::StrCat(field, key), "must be a list of strings");
  for (const auto& v : obj[key]) {
    if (!v.is_string()) return Bad(absl::StrCat(field, key), "must be a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

template <typename T>
absl::StatusOr<std::optional<T>> Number(const Json& obj, const char* key, const std::string& field) {
  if (!obj.contains(key) || obj[key].is_null()) return std::optional<T>();
  if (!obj[key].is_number_integer()) return Bad(absl::StrCat(field, key), "must be an integer");
  int64_t v = obj[key].get<int64_t>();
  if (v < 0) return Bad(absl::StrCat(field, key), absl::StrCat(v, " is negative"));
  return std::optional<T>(static_cast<T>(v));
}

absl::Status CheckAbsolute(const std::string& path, const std::string& field) {
  if (path.empty() || path[0] != '/') return Bad(field, absl::StrCat("\"", path, "\" must be an absolute path"));
  return absl::OkStatus();
}

absl::StatusOr<ContainerEdits> ParseEdits(const Json& j, const std::string& field) {
  ContainerEdits e;
  if (j.is_null()) return e;
  if (!j.is_object()) return Bad(field, "must be an object");
  const std::string f = field + ".";
  ASSIGN_OR_RETURN(e.env, Strings(j, "env", f));
  for (size_t i = 0; i < e.env.size(); ++i) {
    if (e.env[i].find('=') == std::string::npos || e.env[i][0] == '=') {
      return Bad(absl::StrCat(f, "env[", i, "]"), absl::StrCat("\"", e.env[i], "\" is not KEY=value"));
    }
  }
  if (j.contains("deviceNodes") && !j["deviceNodes"].is_null()) {
    if (!j["deviceNodes"].is_array()) return Bad(f + "deviceNodes", "must be a list");
    for (size_t i = 0; i < j["deviceNodes"].size(); ++i) {
      const Json& d = j["deviceNodes"][i];
      std::string df = absl::StrCat(f, "deviceNodes[", i, "].");
      if (!d.is_object()) return Bad(df, "must be an object");
      DeviceNode n;
      ASSIGN_OR_RETURN(n.path, String(d, "path", df, true));
      RETURN_IF_ERROR(CheckAbsolute(n.path, df + "path"));
      ASSIGN_OR_RETURN(n.host_path, String(d, "hostPath", df, false));
      if (!n.host_path.empty()) RETURN_IF_ERROR(CheckAbsolute(n.host_path, df + "hostPath"));
      ASSIGN_OR_RETURN(n.type, String(d, "type", df, false));
      if (!n.type.empty() && n.type != "c" && n.type != "b" && n.type != "u" && n.type != "p") {
        return Bad(df + "type", absl::StrCat("\"", n.type, "\" is not one of c, b, u, p"));
      }
      ASSIGN_OR_RETURN(n.major, Number<int64_t>(d, "major", df));
      ASSIGN_OR_RETURN(n.minor, Number<int64_t>(d, "minor", df));
      ASSIGN_OR_RETURN(n.file_mode, Number<uint32_t>(d, "fileMode", df));
      ASSIGN_OR_RETURN(n.permissions, String(d, "permissions", df, false));
      for (char c : n.permissions) {
        if (c != 'r' && c != 'w' && c != 'm') {
          return Bad(df + "permissions", absl::StrCat("\"", n.permissions, "\" may hold only r, w and m"));
        }
      }
      ASSIGN_OR_RETURN(n.uid, Number<uint32_t>(d, "uid", df));
      ASSIGN_OR_RETURN(n.gid, Number<uint32_t>(d, "gid", df));
      e.device_nodes.push_back(std::move(n));
    }
  }
  if (j.contains("mounts") && !j["mounts"].is_null()) {
    if (!j["mounts"].is_array()) return Bad(f + "mounts", "must be a list");
    for (size_t i = 0; i < j["mounts"].size(); ++i) {
      const Json& m = j["mounts"][i];
      std::string mf = absl::StrCat(f, "mounts[", i, "].");
      if (!m.is_object()) return Bad(mf, "must be an object");
      Mount mount;
      ASSIGN_OR_RETURN(mount.host_path, String(m, "hostPath", mf, true));
      ASSIGN_OR_RETURN(mount.container_path, String(m, "containerPath", mf, true));
      RETURN_IF_ERROR(CheckAbsolute(mount.container_path, mf + "containerPath"));
      ASSIGN_OR_RETURN(mount.type, String(m, "type", mf, false));
      ASSIGN_OR_RETURN(mount.options, Strings(m, "options", mf));
      e.mounts.push_back(std::move(mount));
    }
  }
  if (j.contains("hooks") && !j["hooks"].is_null()) {
    if (!j["hooks"].is_array()) return Bad(f + "hooks", "must be a list");
    for (size_t i = 0; i < j["hooks"].size(); ++i) {
      const Json& h = j["hooks"][i];
      std::string hf = absl::StrCat(f, "hooks[", i, "].");
      if (!h.is_object()) return Bad(hf, "must be an object");
      Hook hook;
      ASSIGN_OR_RETURN(hook.hook_name, String(h, "hookName", hf, true));
      static const char* kNames[] = {"prestart", "createRuntime", "createContainer",
                                     "startContainer", "poststart", "poststop"};
      bool known = false;
      for (const char* n : kNames) known |= hook.hook_name == n;
      if (!known) return Bad(hf + "hookName", absl::StrCat("\"", hook.hook_name, "\" is not an OCI hook"));
      ASSIGN_OR_RETURN(hook.path, String(h, "path", hf, true));
      RETURN_IF_ERROR(CheckAbsolute(hook.path, hf + "path"));
      ASSIGN_OR_RETURN(hook.args, Strings(h, "args", hf));
      ASSIGN_OR_RETURN(hook.env, Strings(h, "env", hf));
      ASSIGN_OR_RETURN(hook.timeout, Number<int64_t>(h, "timeout", hf));
      if (hook.timeout && *hook.timeout == 0) return Bad(hf + "timeout", "must be greater than zero (seconds)");
      e.hooks.push_back(std::move(hook));
    }
  }
  if (j.contains("additionalGids") && !j["additionalGids"].is_null()) {
    if (!j["additionalGids"].is_array()) return Bad(f + "additionalGids", "must be a list");
    for (const auto& g : j["additionalGids"]) {
      if (!g.is_number_integer() || g.get<int64_t>() < 0) return Bad(f + "additionalGids", "must be a list of GIDs");
      e.additional_gids.push_back(g.get<uint32_t>());
    }
  }
  return e;
}

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::string KindError(const std::string& kind) {
  size_t slash = kind.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == kind.size()) return "is not vendor.com/class";
  std::string vendor = kind.substr(0, slash), cls = kind.substr(slash + 1);
  if (!IsAlnum(vendor.front()) || !IsAlnum(vendor.back())) return "vendor must start and end with a letter or digit";
  for (char c : vendor) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return "vendor may hold letters, digits, '-', '_', '.'";
  }
  if (!IsAlnum(cls.front()) || !IsAlnum(cls.back())) return "class must start and end with a letter or digit";
  for (char c : cls) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return "class may hold letters, digits, '-', '_', '.'";
  }
  return "";
}

std::string DeviceNameError(const std::string& name) {
  if (name.empty()) return "must not be empty";
  if (!IsAlnum(name.front()) || !IsAlnum(name.back())) return "must start and end with a letter or digit";
  for (char c : name) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.' && c != ':') {
      return "may hold letters, digits, '-', '_', '.', ':'";
    }
  }
  return "";
}

absl::StatusOr<std::pair<std::string, std::string>> ParseQualifiedName(const std::string& qualified) {
  size_t eq = qualified.find('=');
  if (eq == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("CDI device \"", qualified, "\" is not a fully qualified name (vendor.com/class=name)"));
  }
  std::string kind = qualified.substr(0, eq), name = qualified.substr(eq + 1);
  std::string why = KindError(kind);
  if (why.empty()) why = DeviceNameError(name);
  if (!why.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("CDI device \"", qualified, "\": ", why));
  }
  return std::make_pair(kind, name);
}

absl::StatusOr<Spec> ParseSpec(absl::string_view text, const std::string& path) {
  Json j;
  absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(text);
  if (!trimmed.empty() && trimmed.front() == '{') {
    j = Json::parse(std::string(text), nullptr, false);
    if (j.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path, ": malformed JSON"));
  } else {
    auto docs = k8s::YamlToJson(std::string_view(text.data(), text.size()));
    if (!docs.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", docs.status().message()));
    if (docs->size() != 1) return absl::InvalidArgumentError(absl::StrCat(path, ": expected one YAML document"));
    j = std::move((*docs)[0]);
  }
  auto parse = [&]() -> absl::StatusOr<Spec> {
    if (!j.is_object()) return Bad("spec", "must be an object");
    Spec spec;
    spec.path = path;
    ASSIGN_OR_RETURN(spec.version, String(j, "cdiVersion", "", true));
    if (!SupportedVersion(spec.version)) {
      return Bad("cdiVersion", absl::StrCat("\"", spec.version, "\" is not supported (0.3.0 to 0.8.0)"));
    }
    ASSIGN_OR_RETURN(spec.kind, String(j, "kind", "", true));
    std::string why = KindError(spec.kind);
    if (!why.empty()) return Bad("kind", absl::StrCat("\"", spec.kind, "\" ", why));
    if (j.contains("containerEdits")) {
      ASSIGN_OR_RETURN(spec.edits, ParseEdits(j["containerEdits"], "containerEdits"));
    }
    if (!j.contains("devices") || !j["devices"].is_array()) return Bad("devices", "required, a list");
    for (size_t i = 0; i < j["devices"].size(); ++i) {
      const Json& d = j["devices"][i];
      std::string df = absl::StrCat("devices[", i, "]");
      if (!d.is_object()) return Bad(df, "must be an object");
      Device dev;
      ASSIGN_OR_RETURN(dev.name, String(d, "name", df + ".", true));
      why = DeviceNameError(dev.name);
      if (!why.empty()) return Bad(df + ".name", absl::StrCat("\"", dev.name, "\" ", why));
      if (!d.contains("containerEdits")) return Bad(df + ".containerEdits", "required");
      ASSIGN_OR_RETURN(dev.edits, ParseEdits(d["containerEdits"], df + ".containerEdits"));
      for (const auto& other : spec.devices) {
        if (other.name == dev.name) return Bad(df + ".name", absl::StrCat("\"", dev.name, "\" is defined twice"));
      }
      spec.devices.push_back(std::move(dev));
    }
    return spec;
  };
  auto spec = parse();
  if (!spec.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", spec.status().message()));
  return spec;
}

}  // namespace berth::cdi
