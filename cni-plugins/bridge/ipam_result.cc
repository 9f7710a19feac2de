#include "cni-plugins/bridge/ipam_result.h"

#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "cni-plugins/common/plugin.h"

namespace berth::bridge {
namespace {

using netlink::IpPrefix;

absl::Status ResultError(absl::string_view what) {
  return cniplugin::CniError(cniplugin::kPluginSpecific, absl::StrCat("ipam result: ", what));
}

absl::StatusOr<std::optional<IpPrefix>> OptIp(const nlohmann::json& obj, const char* key,
                                               const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<IpPrefix>();
  auto ip = it->is_string() ? netlink::ParseIp(it->get<std::string>()) : std::nullopt;
  if (!ip) return ResultError(absl::StrCat(where, ".", key, " ", it->dump(), " is not an IP address"));
  return ip;
}

}  // namespace

absl::StatusOr<IpamResult> ParseIpamResult(const nlohmann::json& json) {
  if (!json.is_object()) return ResultError("not a JSON object");
  IpamResult out;
  if (auto ips = json.find("ips"); ips != json.end() && !ips->is_null()) {
    if (!ips->is_array()) return ResultError("ips must be a list");
    for (size_t i = 0; i < ips->size(); ++i) {
      const auto& ip = (*ips)[i];
      std::string where = absl::StrCat("ips[", i, "]");
      if (!ip.is_object()) return ResultError(absl::StrCat(where, " must be an object"));
      auto address = ip.find("address");
      auto parsed = address != ip.end() && address->is_string()
                        ? netlink::ParseIpPrefix(address->get<std::string>())
                        : std::nullopt;
      if (!parsed) {
        return ResultError(absl::StrCat(where, ".address ",
                                        address == ip.end() ? "missing" : address->dump(),
                                        " is not a CIDR"));
      }
      auto gw = OptIp(ip, "gateway", where);
      if (!gw.ok()) return gw.status();
      out.ips.push_back({*parsed, *gw});
    }
  }
  if (auto routes = json.find("routes"); routes != json.end() && !routes->is_null()) {
    if (!routes->is_array()) return ResultError("routes must be a list");
    for (size_t i = 0; i < routes->size(); ++i) {
      const auto& r = (*routes)[i];
      std::string where = absl::StrCat("routes[", i, "]");
      if (!r.is_object()) return ResultError(absl::StrCat(where, " must be an object"));
      auto dst = r.find("dst");
      auto parsed = dst != r.end() && dst->is_string() ? netlink::ParseIpPrefix(dst->get<std::string>())
                                                       : std::nullopt;
      if (!parsed) {
        return ResultError(absl::StrCat(where, ".dst ", dst == r.end() ? "missing" : dst->dump(),
                                        " is not a CIDR"));
      }
      auto gw = OptIp(r, "gw", where);
      if (!gw.ok()) return gw.status();
      if (*gw && (*gw)->family != parsed->family) {
        return ResultError(absl::StrCat(where, ".gw ", (*gw)->AddrString(), " is not of dst's family"));
      }
      out.routes.push_back({*parsed, *gw});
    }
  }
  if (auto dns = json.find("dns"); dns != json.end() && dns->is_object()) out.dns = *dns;
  return out;
}

std::vector<IpPrefix> ApplyGateways(IpamResult* result, bool is_gateway, bool is_default_gateway) {
  std::vector<IpPrefix> gateways;
  bool default_found[2] = {false, false};  // v4, v6
  for (auto& ip : result->ips) {
    int fam = ip.address.family == AF_INET6 ? 1 : 0;
    if (!ip.gateway && is_gateway) {
      IpPrefix gw = netlink::NextAddr(ip.address.Network());
      gw.length = gw.MaxLength();
      ip.gateway = gw;
    }
    if (is_default_gateway && !default_found[fam]) {
      for (const auto& r : result->routes) {
        if (r.gw && r.dst.family == ip.address.family && r.dst.length == 0) default_found[fam] = true;
      }
      if (!default_found[fam]) {
        IpPrefix dst;
        dst.family = ip.address.family;
        dst.length = 0;
        result->routes.push_back({dst, ip.gateway});
        default_found[fam] = true;
      }
    }
    if (is_gateway && ip.gateway) {
      IpPrefix gw = *ip.gateway;
      gw.length = ip.address.length;
      gateways.push_back(gw);
    }
  }
  return gateways;
}

nlohmann::json ResultJson(const std::string& cni_version, const std::vector<ResultInterface>& interfaces,
                          const IpamResult& ipam, int container_index) {
  bool old = cniplugin::VersionLess(cni_version, "0.4.0");
  nlohmann::json ifaces = nlohmann::json::array();
  for (const auto& i : interfaces) {
    nlohmann::json j = {{"name", i.name}, {"mac", i.mac}};
    if (!i.sandbox.empty()) j["sandbox"] = i.sandbox;
    ifaces.push_back(j);
  }
  nlohmann::json ips = nlohmann::json::array();
  for (const auto& ip : ipam.ips) {
    nlohmann::json j = {{"address", ip.address.ToString()}, {"interface", container_index}};
    if (ip.gateway) j["gateway"] = ip.gateway->AddrString();
    if (old) j["version"] = ip.address.family == AF_INET6 ? "6" : "4";
    ips.push_back(j);
  }
  nlohmann::json routes = nlohmann::json::array();
  for (const auto& r : ipam.routes) {
    nlohmann::json j = {{"dst", r.dst.Network().ToString()}};
    if (r.gw) j["gw"] = r.gw->AddrString();
    routes.push_back(j);
  }
  nlohmann::json out = {{"cniVersion", cni_version}, {"interfaces", ifaces}, {"ips", ips}};
  if (!routes.empty()) out["routes"] = routes;
  out["dns"] = ipam.dns;
  return out;
}

}  // namespace berth::bridge
