#include "cni-plugins/portmap/portmap_config.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cni-plugins/common/plugin.h"

namespace berth::portmap {
namespace {

using cniplugin::CniError;
using cniplugin::kInvalidConfig;

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return CniError(kInvalidConfig, absl::StrCat(field, ": ", why));
}

absl::StatusOr<int> Port(const nlohmann::json& entry, const std::string& field_prefix,
                         const char* key) {
  std::string field = absl::StrCat(field_prefix, ".", key);
  auto it = entry.find(key);
  if (it == entry.end() || it->is_null()) return Bad(field, "is required");
  if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 65535) {
    return Bad(field, absl::StrCat("must be an integer 1..65535, got ", it->dump()));
  }
  return static_cast<int>(it->get<int64_t>());
}

absl::StatusOr<PortMapping> ParseMapping(const nlohmann::json& entry, const std::string& field) {
  if (!entry.is_object()) return Bad(field, absl::StrCat("must be an object, got ", entry.dump()));
  PortMapping m;
  auto host = Port(entry, field, "hostPort");
  if (!host.ok()) return host.status();
  m.host_port = *host;
  auto cont = Port(entry, field, "containerPort");
  if (!cont.ok()) return cont.status();
  m.container_port = *cont;
  if (auto it = entry.find("protocol"); it != entry.end() && !it->is_null()) {
    if (!it->is_string()) return Bad(field + ".protocol", absl::StrCat("must be a string, got ", it->dump()));
    std::string proto = absl::AsciiStrToLower(it->get<std::string>());
    if (proto.empty()) proto = "tcp";
    if (proto != "tcp" && proto != "udp" && proto != "sctp") {
      return Bad(field + ".protocol",
                 absl::StrCat("must be tcp, udp or sctp, got \"", it->get<std::string>(), "\""));
    }
    m.protocol = proto;
  }
  if (auto it = entry.find("hostIP"); it != entry.end() && !it->is_null()) {
    if (!it->is_string()) return Bad(field + ".hostIP", absl::StrCat("must be a string, got ", it->dump()));
    std::string text = it->get<std::string>();
    if (!text.empty()) {
      bool v6 = false;
      auto addr = cninft::ParseAddress(text, field + ".hostIP", &v6);
      if (!addr.ok()) return CniError(kInvalidConfig, addr.status().message());
      m.family = v6 ? 6 : 4;
      // The unspecified address means every address of that family.
      if (*addr != "0.0.0.0" && *addr != "::") {
        m.host_ip = *addr;
        m.host_ip_v6 = v6;
      }
    }
  }
  return m;
}

// The container's addresses: IPs on an interface inside the sandbox (or
// with no interface index), first of each family.
absl::Status ContainerIps(const nlohmann::json& prev, PortmapConfig* out) {
  const nlohmann::json empty = nlohmann::json::array();
  const nlohmann::json& ifaces =
      prev.contains("interfaces") && prev["interfaces"].is_array() ? prev["interfaces"] : empty;
  auto ips = prev.find("ips");
  if (ips == prev.end() || ips->is_null()) return absl::OkStatus();
  if (!ips->is_array()) return Bad("prevResult.ips", "must be a list");
  for (size_t i = 0; i < ips->size(); ++i) {
    const nlohmann::json& ip = (*ips)[i];
    std::string field = absl::StrCat("prevResult.ips[", i, "]");
    if (!ip.is_object() || !ip.contains("address") || !ip["address"].is_string()) {
      return Bad(field + ".address", "is required");
    }
    if (auto idx = ip.find("interface"); idx != ip.end() && idx->is_number_integer()) {
      int64_t n = idx->get<int64_t>();
      if (n >= 0 && static_cast<size_t>(n) < ifaces.size() && ifaces[n].is_object() &&
          ifaces[n].value("sandbox", "").empty()) {
        continue;  // a host-side interface
      }
    }
    auto cidr = cninft::ParseCidr(ip["address"].get<std::string>(), field + ".address");
    if (!cidr.ok()) return CniError(kInvalidConfig, cidr.status().message());
    auto& slot = cidr->v6 ? out->container_v6 : out->container_v4;
    if (!slot) slot = *cidr;
  }
  return absl::OkStatus();
}

}  // namespace

std::string PortMapping::Describe() const {
  std::string where = host_ip.empty() ? "" : (host_ip_v6 ? absl::StrCat("[", host_ip, "]:")
                                                         : absl::StrCat(host_ip, ":"));
  return absl::StrCat(where, host_port, "/", protocol);
}

absl::StatusOr<PortmapConfig> ParsePortmapConfig(const nlohmann::json& config,
                                                 bool need_prev_result) {
  PortmapConfig out;
  if (!config.is_object()) return Bad("network config", "must be a JSON object");
  out.network_name = config.value("name", "");
  out.cni_version = config.value("cniVersion", "");
  if (auto it = config.find("snat"); it != config.end() && !it->is_null()) {
    if (!it->is_boolean()) return Bad("snat", absl::StrCat("must be a boolean, got ", it->dump()));
    out.snat = it->get<bool>();
  }
  if (auto it = config.find("markMasqBit"); it != config.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 31) {
      return Bad("markMasqBit", absl::StrCat("must be an integer 0..31, got ", it->dump()));
    }
    out.mark_masq_bit = static_cast<int>(it->get<int64_t>());
  }
  if (auto rc = config.find("runtimeConfig"); rc != config.end() && !rc->is_null()) {
    if (!rc->is_object()) return Bad("runtimeConfig", "must be an object");
    if (auto pm = rc->find("portMappings"); pm != rc->end() && !pm->is_null()) {
      if (!pm->is_array()) return Bad("runtimeConfig.portMappings", "must be a list");
      for (size_t i = 0; i < pm->size(); ++i) {
        std::string field = absl::StrCat("runtimeConfig.portMappings[", i, "]");
        auto m = ParseMapping((*pm)[i], field);
        if (!m.ok()) return m.status();
        // The same host port twice (same protocol, overlapping host address).
        for (const PortMapping& other : out.mappings) {
          bool overlap = other.host_ip.empty() || m->host_ip.empty() || other.host_ip == m->host_ip;
          bool family_overlap = other.family == 0 || m->family == 0 || other.family == m->family;
          if (other.protocol == m->protocol && other.host_port == m->host_port && overlap &&
              family_overlap) {
            return Bad(field, absl::StrCat("hostPort ", m->Describe(), " is mapped twice"));
          }
        }
        out.mappings.push_back(*std::move(m));
      }
    }
  }
  if (auto prev = config.find("prevResult"); prev != config.end() && !prev->is_null()) {
    if (!prev->is_object()) return Bad("prevResult", "must be an object");
    out.prev_result = *prev;
    if (absl::Status s = ContainerIps(*prev, &out); !s.ok()) return s;
  }
  if (need_prev_result && out.prev_result.is_null()) {
    return Bad("prevResult", "is required: berth-portmap must be chained after a plugin that "
                             "returns the container's IPs");
  }
  return out;
}

}  // namespace berth::portmap
