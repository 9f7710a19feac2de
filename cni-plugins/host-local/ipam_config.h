// host-local's config: the `ipam` object of the network config, with the
// same keys as the reference host-local plugin.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cni-plugins/host-local/ip.h"
#include "nlohmann/json.hpp"

namespace berth::hostlocal {

inline constexpr char kDefaultDataDir[] = "/var/lib/cni/networks";

// One range: addresses start..end of subnet, gateway excluded.
struct IpRange {
  Prefix subnet;
  Ip start;  // default: network + 1
  Ip end;    // default: broadcast - 1
  Ip gateway;  // default: network + 1
  std::string ToString() const;  // "10.0.0.0/24 (10.0.0.2-10.0.0.254)"
  bool Contains(const Ip& ip) const { return subnet.Contains(ip) && !(ip < start) && !(end < ip); }
};

// Ranges of one family, one IP taken from the whole set per container.
using RangeSet = std::vector<IpRange>;

struct Route {
  std::string dst;
  std::string gw;
};

struct IpamConfig {
  std::string network_name;
  std::string data_dir = kDefaultDataDir;
  std::vector<RangeSet> range_sets;
  std::vector<Route> routes;
  nlohmann::json dns;  // passed through to the result (may be null)
};

// Parses and checks one range object ({subnet, rangeStart, rangeEnd, gateway}).
absl::StatusOr<IpRange> ParseRange(const nlohmann::json& json);

// Parses the whole network config (name, ipam, dns). Errors are CNI code 7.
absl::StatusOr<IpamConfig> ParseIpamConfig(const nlohmann::json& config);

// Calls `fn` on each address of the set from the one after `after` (or the
// first, when `after` is not in the set), wrapping, every address once,
// gateways skipped, until `fn` returns true. Returns whether it did.
template <typename Fn>
bool ForEachCandidate(const RangeSet& set, const std::optional<Ip>& after, Fn fn);

}  // namespace berth::hostlocal

namespace berth::hostlocal {

template <typename Fn>
bool ForEachCandidate(const RangeSet& set, const std::optional<Ip>& after, Fn fn) {
  if (set.empty()) return false;
  size_t start_range = 0;
  Ip start_ip = set[0].start;
  if (after) {
    for (size_t i = 0; i < set.size(); ++i) {
      if (set[i].Contains(*after)) {
        if (*after == set[i].end) {
          start_range = (i + 1) % set.size();
          start_ip = set[start_range].start;
        } else {
          start_range = i;
          start_ip = Next(*after);
        }
        break;
      }
    }
  }
  // Pass 1: start_ip..end of start_range, then the following ranges, then
  // back to start_range's start up to start_ip.
  for (size_t n = 0; n <= set.size(); ++n) {
    size_t r = (start_range + n) % set.size();
    const IpRange& range = set[r];
    Ip from = n == 0 ? start_ip : range.start;
    bool last_pass = n == set.size();
    if (last_pass && start_ip == range.start) break;
    for (Ip ip = from;; ip = Next(ip)) {
      if (last_pass && ip == start_ip) break;
      if (!(ip == range.gateway) && fn(ip)) return true;
      if (ip == range.end) break;
    }
  }
  return false;
}

}  // namespace berth::hostlocal
