#include "cni-plugins/portmap/portmap.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstdint>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/logging.h"
#include "cni-plugins/nft/nft.h"
#include "cni-plugins/nft/nft_json.h"
#include "cni-plugins/portmap/conntrack.h"
#include "cni-plugins/portmap/portmap_config.h"
#include "cni-plugins/portmap/rules.h"

namespace berth::portmap {
namespace {

using cniplugin::CniError;
using cniplugin::kPluginSpecific;
using cniplugin::PluginArgs;

constexpr int kAttempts = 5;

absl::Status AsCniError(const absl::Status& s) {
  if (s.ok() || cniplugin::CniCode(s) != 999) return s;
  return CniError(kPluginSpecific, s.message());
}

// The table's listing; null when it does not exist.
absl::StatusOr<nlohmann::json> ListTable() {
  auto listed = cninft::ListJson(absl::StrCat("table ", kTableFamily, " ", kTableName));
  if (absl::IsNotFound(listed.status())) return nlohmann::json();
  return listed;
}

absl::Status EnableRouteLocalnet(const PortmapConfig& config) {
  if (!config.snat || !config.container_v4) return absl::OkStatus();
  bool wildcard_v4 = false;
  for (const PortMapping& m : config.mappings) {
    if (m.host_ip.empty() && m.family != 6) wildcard_v4 = true;
  }
  if (!wildcard_v4) return absl::OkStatus();
  std::string iface = RouteInterfaceFor(config.container_v4->address);
  if (iface.empty()) {
    BERTH_LOG(Warning) << "portmap: no route to " << config.container_v4->address
                       << "; localhost hostPorts will not work";
    return absl::OkStatus();
  }
  std::string knob = absl::StrCat("/proc/sys/net/ipv4/conf/", iface, "/route_localnet");
  if (absl::Status s = WriteKnob(knob, "1"); !s.ok()) {
    return CniError(kPluginSpecific, absl::StrCat("set ", knob, ": ", s.message()));
  }
  return absl::OkStatus();
}

// UDP flows to a mapped host port tracked before the mapping existed would
// keep bypassing the DNAT until they time out: delete them (as the
// reference does). Best effort: a failure is logged, not fatal.
void FlushStaleUdp(const PortmapConfig& config) {
  for (const PortMapping& m : config.mappings) {
    if (m.protocol != "udp") continue;
    for (bool v6 : {false, true}) {
      if (v6 ? !config.container_v6 : !config.container_v4) continue;
      if (m.family != 0 && m.family != (v6 ? 6 : 4)) continue;
      auto deleted = DeleteUdpConntrackToPort(v6 ? AF_INET6 : AF_INET, m.host_port);
      if (!deleted.ok()) {
        BERTH_LOG(Warning) << "portmap: deleting stale UDP conntrack entries for port "
                           << m.host_port << ": " << deleted.status().message();
      }
    }
  }
}

}  // namespace

std::string RouteInterfaceFor(const std::string& ipv4) {
  in_addr target{};
  if (inet_pton(AF_INET, ipv4.c_str(), &target) != 1) return "";
  auto text = ReadFile("/proc/net/route");
  if (!text.ok()) return "";
  std::istringstream in(*text);
  std::string line;
  std::getline(in, line);  // header
  std::string best;
  int best_len = -1;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string iface, dest_hex, gw_hex, flags, refcnt, use, metric, mask_hex;
    if (!(fields >> iface >> dest_hex >> gw_hex >> flags >> refcnt >> use >> metric >> mask_hex)) {
      continue;
    }
    uint32_t dest = 0, mask = 0;  // network byte order, as the kernel prints them
    if (!absl::SimpleHexAtoi(dest_hex, &dest) || !absl::SimpleHexAtoi(mask_hex, &mask)) continue;
    if ((target.s_addr & mask) != dest) continue;
    int len = __builtin_popcount(mask);
    if (len > best_len) {
      best_len = len;
      best = iface;
    }
  }
  return best;
}

absl::StatusOr<nlohmann::json> Add(const PluginArgs& args) {
  auto config = ParsePortmapConfig(args.config, /*need_prev_result=*/true);
  if (!config.ok()) return config.status();
  nlohmann::json result = config->prev_result;
  result["cniVersion"] = args.cni_version;
  if (config->mappings.empty()) return result;  // nothing to map

  const std::string chain = ChainName(config->network_name, args.container_id, args.ifname);
  const std::string comment = RuleComment(config->network_name, args.container_id, args.ifname);
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto listing = ListTable();
    if (!listing.ok()) return AsCniError(listing.status());
    if (absl::Status s = CheckConflicts(*config, chain, *listing); !s.ok()) return s;
    // Only what is missing of the table; a repeated ADD first drops the
    // elements of the earlier one and refills its chain.
    bool exists = cninft::HasChain(*listing, chain);
    last = cninft::RunBatch(
        absl::StrCat(SetupCommands(*listing, config->MarkMask()),
                     exists ? DeleteElementCommands(*listing, chain) : "",
                     AttachmentCommands(*config, chain, comment, exists)),
        absl::StrCat("portmap ADD for ", args.container_id));
    if (last.ok()) break;
    // The table changed since the listing: a racing first ADD set it up, or
    // another attachment took a port (the next listing names it).
    if (!absl::IsNotFound(last) && !absl::IsAlreadyExists(last)) return AsCniError(last);
  }
  if (absl::IsAlreadyExists(last)) {
    return CniError(kPluginSpecific, absl::StrCat("a hostPort is already in use: ", last.message()));
  }
  if (!last.ok()) return AsCniError(last);
  FlushStaleUdp(*config);
  if (absl::Status s = EnableRouteLocalnet(*config); !s.ok()) {
    // Leak nothing: the rules go again.
    auto listing = ListTable();
    if (listing.ok()) {
      std::string undo = DeleteCommands(*listing, chain);
      if (!undo.empty()) (void)cninft::RunBatch(undo, "portmap ADD rollback");
    }
    return s;
  }
  return result;
}

absl::StatusOr<nlohmann::json> Del(const PluginArgs& args) {
  // The config matters only for the network name: a broken prevResult or
  // mapping list must not keep DEL from cleaning up.
  const std::string network = args.config.value("name", "");
  const std::string chain = ChainName(network, args.container_id, args.ifname);
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto listing = ListTable();
    if (!listing.ok()) return AsCniError(listing.status());
    if (listing->is_null()) return nlohmann::json();
    std::string batch = DeleteCommands(*listing, chain);
    if (batch.empty()) return nlohmann::json();
    last = cninft::RunBatch(batch, absl::StrCat("portmap DEL for ", args.container_id));
    if (last.ok()) return nlohmann::json();
    if (!absl::IsNotFound(last)) break;
  }
  return AsCniError(last);
}

absl::StatusOr<nlohmann::json> Check(const PluginArgs& args) {
  auto config = ParsePortmapConfig(args.config, /*need_prev_result=*/true);
  if (!config.ok()) return config.status();
  if (config->mappings.empty()) return nlohmann::json();
  const std::string chain = ChainName(config->network_name, args.container_id, args.ifname);
  auto listing = ListTable();
  if (!listing.ok()) return AsCniError(listing.status());
  if (!cninft::HasChain(*listing, chain)) {
    return CniError(kPluginSpecific,
                    absl::StrCat("portmap: no rules for container ", args.container_id));
  }
  for (const PortMapping& m : config->mappings) {
    auto key = KeyFor(m, *config);
    if (!key) continue;
    auto keys = cninft::MapKeysJumpingTo(*listing, key->map, chain);
    if (std::find(keys.begin(), keys.end(), key->key) == keys.end()) {
      return CniError(kPluginSpecific, absl::StrCat("portmap: hostPort ", m.Describe(),
                                                    " is not mapped to container ",
                                                    args.container_id));
    }
  }
  return nlohmann::json();
}

absl::StatusOr<nlohmann::json> Gc(const PluginArgs& args) {
  const std::string network = args.config.value("name", "");
  std::set<std::string> keep;
  auto it = args.config.find("cni.dev/valid-attachments");
  if (it != args.config.end() && !it->is_null()) {
    if (!it->is_array()) {
      return CniError(cniplugin::kInvalidConfig, "cni.dev/valid-attachments must be a list");
    }
    for (const auto& a : *it) {
      if (!a.is_object() || !a.value("containerID", nlohmann::json()).is_string() ||
          !a.value("ifname", nlohmann::json()).is_string()) {
        return CniError(cniplugin::kInvalidConfig,
                        "cni.dev/valid-attachments: each needs containerID and ifname");
      }
      keep.insert(ChainName(network, a["containerID"].get<std::string>(),
                            a["ifname"].get<std::string>()));
    }
  }
  auto listing = ListTable();
  if (!listing.ok()) return AsCniError(listing.status());
  if (listing->is_null()) return nlohmann::json();
  std::string batch;
  for (const std::string& chain : AttachmentChains(*listing)) {
    if (keep.count(chain)) continue;
    // Only this network's chains: their rules carry its name.
    std::string marker = absl::StrCat("berth portmap net=", network, " ");
    bool ours = false;
    for (const nlohmann::json& rule : cninft::RulesOf(*listing, chain)) {
      if (absl::StartsWith(rule.value("comment", ""), marker)) ours = true;
    }
    if (ours) absl::StrAppend(&batch, DeleteCommands(*listing, chain));
  }
  if (batch.empty()) return nlohmann::json();
  if (absl::Status s = cninft::RunBatch(batch, "portmap GC"); !s.ok()) return AsCniError(s);
  return nlohmann::json();
}

}  // namespace berth::portmap
