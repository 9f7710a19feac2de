#include "cni-plugins/host-local/ipam_config.h"

#include "absl/strings/str_cat.h"
#include "cni-plugins/common/plugin.h"
#include "common/status_macros.h"

namespace berth::hostlocal {
namespace {

using cniplugin::CniError;
using cniplugin::kInvalidConfig;

absl::Status ConfigError(absl::string_view what) {
  return CniError(kInvalidConfig, absl::StrCat("host-local config: ", what));
}

absl::StatusOr<std::string> OptString(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return ConfigError(absl::StrCat(key, " must be a string"));
  return it->get<std::string>();
}

absl::StatusOr<std::optional<Ip>> OptIp(const nlohmann::json& obj, const char* key) {
  ASSIGN_OR_RETURN(std::string text, OptString(obj, key));
  if (text.empty()) return std::optional<Ip>();
  auto ip = ParseIp(text);
  if (!ip) return ConfigError(absl::StrCat(key, " \"", text, "\" is not an IP address"));
  return ip;
}

}  // namespace

std::string IpRange::ToString() const {
  return absl::StrCat(subnet.ToString(), " (", start.ToString(), "-", end.ToString(), ")");
}

absl::StatusOr<IpRange> ParseRange(const nlohmann::json& json) {
  if (!json.is_object()) return ConfigError("a range must be an object");
  ASSIGN_OR_RETURN(std::string subnet_text, OptString(json, "subnet"));
  if (subnet_text.empty()) return ConfigError("a range needs a subnet");
  auto subnet = ParsePrefix(subnet_text);
  if (!subnet) return ConfigError(absl::StrCat("subnet \"", subnet_text, "\" is not a CIDR"));
  IpRange r;
  r.subnet = *subnet;
  if (subnet->network.Bits() - subnet->length < 2) {
    return ConfigError(absl::StrCat("subnet ", subnet_text, " has too few addresses"));
  }
  ASSIGN_OR_RETURN(auto start, OptIp(json, "rangeStart"));
  ASSIGN_OR_RETURN(auto end, OptIp(json, "rangeEnd"));
  ASSIGN_OR_RETURN(auto gateway, OptIp(json, "gateway"));
  r.start = start.value_or(Next(r.subnet.First()));
  r.end = end.value_or(Prev(r.subnet.Last()));
  r.gateway = gateway.value_or(Next(r.subnet.First()));
  auto inside = [&](const Ip& ip, const char* what) -> absl::Status {
    if (!r.subnet.Contains(ip)) {
      return ConfigError(absl::StrCat(what, " ", ip.ToString(), " is not in ", subnet_text));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(inside(r.start, "rangeStart"));
  RETURN_IF_ERROR(inside(r.end, "rangeEnd"));
  RETURN_IF_ERROR(inside(r.gateway, "gateway"));
  if (r.start == r.subnet.First() || r.end == r.subnet.Last()) {
    return ConfigError(absl::StrCat("range ", r.ToString(),
                                    " must not hold the network or broadcast address"));
  }
  if (r.end < r.start) return ConfigError(absl::StrCat("rangeStart is after rangeEnd in ", subnet_text));
  return r;
}

absl::StatusOr<IpamConfig> ParseIpamConfig(const nlohmann::json& config) {
  IpamConfig out;
  ASSIGN_OR_RETURN(out.network_name, OptString(config, "name"));
  if (out.network_name.empty() || out.network_name.find('/') != std::string::npos ||
      out.network_name == "." || out.network_name == "..") {
    return ConfigError("the network name must be non-empty and not a path");
  }
  auto ipam = config.find("ipam");
  if (ipam == config.end() || !ipam->is_object()) return ConfigError("ipam must be an object");
  ASSIGN_OR_RETURN(std::string data_dir, OptString(*ipam, "dataDir"));
  if (!data_dir.empty()) out.data_dir = data_dir;

  if (auto ranges = ipam->find("ranges"); ranges != ipam->end() && !ranges->is_null()) {
    if (!ranges->is_array()) return ConfigError("ranges must be a list of range sets");
    for (const auto& set_json : *ranges) {
      if (!set_json.is_array() || set_json.empty()) {
        return ConfigError("each range set must be a non-empty list of ranges");
      }
      RangeSet set;
      for (const auto& range_json : set_json) {
        ASSIGN_OR_RETURN(IpRange r, ParseRange(range_json));
        set.push_back(r);
      }
      out.range_sets.push_back(std::move(set));
    }
  }
  ASSIGN_OR_RETURN(std::string legacy_subnet, OptString(*ipam, "subnet"));
  if (!legacy_subnet.empty()) {
    ASSIGN_OR_RETURN(IpRange r, ParseRange(*ipam));
    out.range_sets.insert(out.range_sets.begin(), RangeSet{r});
  }
  if (out.range_sets.empty()) return ConfigError("no IP ranges (ipam.ranges or ipam.subnet)");
  for (size_t i = 0; i < out.range_sets.size(); ++i) {
    const RangeSet& set = out.range_sets[i];
    for (size_t a = 0; a < set.size(); ++a) {
      if (set[a].subnet.network.v6 != set[0].subnet.network.v6) {
        return ConfigError(absl::StrCat("range set ", i, " mixes IPv4 and IPv6"));
      }
      for (size_t b = 0; b < a; ++b) {
        if (set[a].Contains(set[b].start) || set[a].Contains(set[b].end) ||
            set[b].Contains(set[a].start)) {
          return ConfigError(absl::StrCat("ranges ", set[b].ToString(), " and ", set[a].ToString(),
                                          " overlap"));
        }
      }
    }
    for (size_t j = 0; j < i; ++j) {
      for (const auto& ra : set) {
        for (const auto& rb : out.range_sets[j]) {
          if (ra.Contains(rb.start) || ra.Contains(rb.end) || rb.Contains(ra.start)) {
            return ConfigError(absl::StrCat("range sets ", j, " and ", i, " overlap"));
          }
        }
      }
    }
  }
  if (auto routes = ipam->find("routes"); routes != ipam->end() && !routes->is_null()) {
    if (!routes->is_array()) return ConfigError("routes must be a list");
    for (const auto& rj : *routes) {
      if (!rj.is_object()) return ConfigError("a route must be an object");
      Route route;
      ASSIGN_OR_RETURN(route.dst, OptString(rj, "dst"));
      ASSIGN_OR_RETURN(route.gw, OptString(rj, "gw"));
      if (!ParsePrefix(route.dst)) return ConfigError(absl::StrCat("route dst \"", route.dst, "\" is not a CIDR"));
      if (!route.gw.empty() && !ParseIp(route.gw)) {
        return ConfigError(absl::StrCat("route gw \"", route.gw, "\" is not an IP address"));
      }
      out.routes.push_back(route);
    }
  }
  if (auto dns = ipam->find("dns"); dns != ipam->end() && dns->is_object()) {
    out.dns = *dns;
  } else if (auto top = config.find("dns"); top != config.end() && top->is_object()) {
    out.dns = *top;
  }
  return out;
}

}  // namespace berth::hostlocal
