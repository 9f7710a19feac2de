#include "cni-plugins/bridge/bridge_config.h"

#include <sys/random.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cni-plugins/common/plugin.h"
#include "common/status_macros.h"

namespace berth::bridge {
namespace {

using cniplugin::CniError;
using cniplugin::kInvalidConfig;

absl::Status ConfigError(absl::string_view what) {
  return CniError(kInvalidConfig, absl::StrCat("bridge config: ", what));
}

absl::Status OptBool(const nlohmann::json& config, const char* key, bool* out) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_boolean()) return ConfigError(absl::StrCat(key, " must be true or false, not ", it->dump()));
  *out = it->get<bool>();
  return absl::OkStatus();
}

}  // namespace

bool ValidInterfaceName(const std::string& name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || c == '\0') return false;
  }
  return true;
}

std::string HostVethName(const std::string& network, const std::string& container_id,
                         const std::string& ifname) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;  // separator: ("ab","c") != ("a","bc")
    h *= 1099511628211ull;
  };
  mix(network);
  mix(container_id);
  mix(ifname);
  return absl::StrFormat("veth%08x", static_cast<uint32_t>(h ^ (h >> 32)));
}

std::string RandomHostVethName() {
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
    r = static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count() ^ getpid());
  }
  return absl::StrFormat("veth%08x", r);
}

std::string VethOwner(const std::string& network, const std::string& container_id,
                      const std::string& ifname) {
  std::string owner = absl::StrCat("berth-bridge ", network, " ", container_id, " ", ifname);
  if (owner.size() <= 255) return owner;
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : owner) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrFormat("berth-bridge %016x", h);
}

absl::StatusOr<BridgeConfig> ParseBridgeConfig(const nlohmann::json& config) {
  if (!config.is_object()) return ConfigError("the config must be a JSON object");
  BridgeConfig out;
  auto name = config.find("name");
  if (name == config.end() || !name->is_string() || name->get<std::string>().empty()) {
    return ConfigError("name must be a non-empty string");
  }
  out.network_name = name->get<std::string>();
  if (auto v = config.find("cniVersion"); v != config.end() && v->is_string()) {
    out.cni_version = v->get<std::string>();
  }
  if (auto br = config.find("bridge"); br != config.end() && !br->is_null()) {
    if (!br->is_string()) return ConfigError(absl::StrCat("bridge must be a string, not ", br->dump()));
    out.bridge = br->get<std::string>();
    if (out.bridge.empty()) out.bridge = kDefaultBridge;
    if (!ValidInterfaceName(out.bridge)) {
      return ConfigError(absl::StrCat("bridge \"", out.bridge, "\" is not a valid interface name"));
    }
  }
  if (auto mtu = config.find("mtu"); mtu != config.end() && !mtu->is_null()) {
    if (!mtu->is_number_integer()) {
      return ConfigError(absl::StrCat("mtu must be an integer 68..65535, not ", mtu->dump()));
    }
    int64_t v = mtu->get<int64_t>();
    if (v != 0 && (v < 68 || v > 65535)) {
      return ConfigError(absl::StrCat("mtu must be an integer 68..65535, not ", v));
    }
    out.mtu = static_cast<unsigned>(v);
  }
  RETURN_IF_ERROR(OptBool(config, "isGateway", &out.is_gateway));
  RETURN_IF_ERROR(OptBool(config, "isDefaultGateway", &out.is_default_gateway));
  RETURN_IF_ERROR(OptBool(config, "ipMasq", &out.ip_masq));
  RETURN_IF_ERROR(OptBool(config, "hairpinMode", &out.hairpin_mode));
  RETURN_IF_ERROR(OptBool(config, "promiscMode", &out.promisc_mode));
  RETURN_IF_ERROR(OptBool(config, "forceAddress", &out.force_address));
  if (out.is_default_gateway) out.is_gateway = true;
  if (out.hairpin_mode && out.promisc_mode) {
    return ConfigError("hairpinMode and promiscMode cannot both be true");
  }
  if (auto ipam = config.find("ipam"); ipam != config.end() && !ipam->is_null()) {
    if (!ipam->is_object()) return ConfigError(absl::StrCat("ipam must be an object, not ", ipam->dump()));
    auto type = ipam->find("type");
    if (type != ipam->end() && !type->is_null()) {
      if (!type->is_string()) {
        return ConfigError(absl::StrCat("ipam.type must be a string, not ", type->dump()));
      }
      out.ipam_type = type->get<std::string>();
      if (out.ipam_type.find('/') != std::string::npos || out.ipam_type == "." ||
          out.ipam_type == "..") {
        return ConfigError(absl::StrCat("ipam.type \"", out.ipam_type, "\" must be a plugin name, not a path"));
      }
    }
  }
  if (out.ip_masq && out.ipam_type.empty()) {
    return ConfigError("ipMasq needs an ipam plugin (ipam.type)");
  }
  if (auto prev = config.find("prevResult"); prev != config.end() && !prev->is_null()) {
    if (!prev->is_object()) {
      return ConfigError(absl::StrCat("prevResult must be an object, not ", prev->dump()));
    }
    out.prev_result = *prev;
  }
  out.runtime_config = nlohmann::json::object();
  if (auto rc = config.find("runtimeConfig"); rc != config.end() && !rc->is_null()) {
    if (!rc->is_object()) {
      return ConfigError(absl::StrCat("runtimeConfig must be an object, not ", rc->dump()));
    }
    out.runtime_config = *rc;
    if (auto mac = rc->find("mac"); mac != rc->end() && !mac->is_null()) {
      std::string text = mac->is_string() ? mac->get<std::string>() : std::string();
      bool ok = text.size() == 17;
      for (size_t i = 0; ok && i < text.size(); ++i) {
        ok = i % 3 == 2 ? text[i] == ':' : std::isxdigit(static_cast<unsigned char>(text[i])) != 0;
      }
      if (!ok) return ConfigError(absl::StrCat("runtimeConfig.mac ", mac->dump(), " is not a MAC address"));
      for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.runtime_mac = text;  // lower case, as the kernel reports it
    }
  }
  return out;
}

}  // namespace berth::bridge
