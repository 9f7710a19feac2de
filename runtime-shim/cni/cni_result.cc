#include "runtime-shim/cni/cni_result.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace berth::cni {
namespace {

absl::Status ResultError(const std::string& plugin, absl::string_view field, absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("CNI plugin ", plugin, ": result ", field, ": ", what));
}

absl::StatusOr<std::string> OptString(const nlohmann::json& object, const char* key,
                                      const std::string& plugin, const std::string& field) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) return ResultError(plugin, field, "must be a string");
  return it->get<std::string>();
}

absl::StatusOr<std::vector<std::string>> OptStrings(const nlohmann::json& object, const char* key,
                                                    const std::string& plugin,
                                                    const std::string& field) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return out;
  if (!it->is_array()) return ResultError(plugin, field, "must be an array of strings");
  for (const auto& value : *it) {
    if (!value.is_string()) return ResultError(plugin, field, "must be an array of strings");
    out.push_back(value.get<std::string>());
  }
  return out;
}

}  // namespace

absl::StatusOr<CniResult> ParseCniResult(const nlohmann::json& json, const std::string& plugin) {
  if (!json.is_object()) return ResultError(plugin, "(top level)", "must be a JSON object");
  CniResult result;
  result.raw = json;
  ASSIGN_OR_RETURN(result.cni_version, OptString(json, "cniVersion", plugin, "cniVersion"));
  if (auto it = json.find("interfaces"); it != json.end() && !it->is_null()) {
    if (!it->is_array()) return ResultError(plugin, "interfaces", "must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const auto& item = (*it)[i];
      std::string field = absl::StrCat("interfaces[", i, "]");
      if (!item.is_object()) return ResultError(plugin, field, "must be an object");
      CniInterface iface;
      ASSIGN_OR_RETURN(iface.name, OptString(item, "name", plugin, field + ".name"));
      ASSIGN_OR_RETURN(iface.mac, OptString(item, "mac", plugin, field + ".mac"));
      ASSIGN_OR_RETURN(iface.sandbox, OptString(item, "sandbox", plugin, field + ".sandbox"));
      if (auto mtu = item.find("mtu"); mtu != item.end() && mtu->is_number_integer()) {
        iface.mtu = mtu->get<int>();
      }
      result.interfaces.push_back(std::move(iface));
    }
  }
  if (auto it = json.find("ips"); it != json.end() && !it->is_null()) {
    if (!it->is_array()) return ResultError(plugin, "ips", "must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const auto& item = (*it)[i];
      std::string field = absl::StrCat("ips[", i, "]");
      if (!item.is_object()) return ResultError(plugin, field, "must be an object");
      CniIp ip;
      ASSIGN_OR_RETURN(ip.address, OptString(item, "address", plugin, field + ".address"));
      if (ip.address.empty() || ip.address.find('/') == std::string::npos) {
        return ResultError(plugin, field + ".address",
                           absl::StrCat("\"", ip.address, "\" is not an address in CIDR form"));
      }
      ASSIGN_OR_RETURN(ip.gateway, OptString(item, "gateway", plugin, field + ".gateway"));
      if (auto index = item.find("interface"); index != item.end() && !index->is_null()) {
        if (!index->is_number_integer() || index->get<int>() < 0 ||
            index->get<size_t>() >= result.interfaces.size()) {
          return ResultError(plugin, field + ".interface",
                             absl::StrCat("index ", index->dump(), " is not in interfaces"));
        }
        ip.interface = index->get<int>();
      }
      result.ips.push_back(std::move(ip));
    }
  }
  if (auto it = json.find("routes"); it != json.end() && !it->is_null()) {
    if (!it->is_array()) return ResultError(plugin, "routes", "must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const auto& item = (*it)[i];
      std::string field = absl::StrCat("routes[", i, "]");
      if (!item.is_object()) return ResultError(plugin, field, "must be an object");
      CniRoute route;
      ASSIGN_OR_RETURN(route.dst, OptString(item, "dst", plugin, field + ".dst"));
      ASSIGN_OR_RETURN(route.gw, OptString(item, "gw", plugin, field + ".gw"));
      result.routes.push_back(std::move(route));
    }
  }
  if (auto it = json.find("dns"); it != json.end() && !it->is_null()) {
    if (!it->is_object()) return ResultError(plugin, "dns", "must be an object");
    ASSIGN_OR_RETURN(result.dns.nameservers, OptStrings(*it, "nameservers", plugin, "dns.nameservers"));
    ASSIGN_OR_RETURN(result.dns.domain, OptString(*it, "domain", plugin, "dns.domain"));
    ASSIGN_OR_RETURN(result.dns.search, OptStrings(*it, "search", plugin, "dns.search"));
    ASSIGN_OR_RETURN(result.dns.options, OptStrings(*it, "options", plugin, "dns.options"));
  }
  return result;
}

std::vector<std::string> CniResult::PodIPs(const std::string& ifname) const {
  std::vector<std::string> out;
  for (bool v6 : {false, true}) {
    for (const auto& ip : ips) {
      if (ip.IsV6() != v6) continue;
      if (ip.interface && interfaces[*ip.interface].name != ifname) continue;
      out.push_back(ip.Addr());
      break;
    }
  }
  return out;
}

}  // namespace berth::cni
