#include "cni-plugins/portmap/rules.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cni-plugins/common/plugin.h"
#include "cni-plugins/nft/nft.h"
#include "cni-plugins/nft/nft_json.h"

namespace berth::portmap {
namespace {

constexpr char kT[] = "inet berth-portmap";
constexpr const char* kMaps[] = {"dnat4", "dnat6", "dnatany"};

std::string Mask(unsigned mask) { return absl::StrFormat("0x%08x", mask); }

// Whether `m` applies to container family `v6` (and the container has it).
bool Applies(const PortMapping& m, const PortmapConfig& c, bool v6) {
  if (v6 ? !c.container_v6 : !c.container_v4) return false;
  if (!m.host_ip.empty()) return m.host_ip_v6 == v6;
  return m.family == 0 || m.family == (v6 ? 6 : 4);
}

// The attachment that owns `chain`, from its rules' comment.
std::string Holder(const nlohmann::json& listing, const std::string& chain) {
  for (const nlohmann::json& rule : cninft::RulesOf(listing, chain)) {
    std::string comment = rule.value("comment", "");
    if (absl::StartsWith(comment, "berth portmap ")) {
      return absl::StrCat(comment.substr(14), " (chain ", chain, ")");
    }
  }
  return absl::StrCat("chain ", chain);
}

}  // namespace

std::string ChainName(const std::string& network, const std::string& container_id,
                      const std::string& ifname) {
  return absl::StrCat("pm-", cninft::IdentityHash({network, container_id, ifname}));
}

std::string RuleComment(const std::string& network, const std::string& container_id,
                        const std::string& ifname) {
  return cninft::CommentLiteral(
      absl::StrCat("berth portmap net=", network, " if=", ifname, " id=", container_id));
}

std::optional<DispatchKey> KeyFor(const PortMapping& m, const PortmapConfig& c) {
  if (!Applies(m, c, false) && !Applies(m, c, true)) return std::nullopt;
  if (!m.host_ip.empty()) {
    return DispatchKey{m.host_ip_v6 ? "dnat6" : "dnat4",
                       absl::StrCat(m.host_ip, " . ", m.protocol, " . ", m.host_port)};
  }
  return DispatchKey{"dnatany", absl::StrCat(m.protocol, " . ", m.host_port)};
}

std::string SetupCommands(const nlohmann::json& listing, unsigned mark_mask) {
  const std::string mark_comment = cninft::CommentLiteral(absl::StrCat("mark ", Mask(mark_mask)));
  auto rules_ok = [&](const char* chain, size_t want) {
    return cninft::HasChain(listing, chain) && cninft::RulesOf(listing, chain).size() == want;
  };
  bool post_ok = rules_ok("postrouting", 1) &&
                 absl::StrCat("\"", cninft::RulesOf(listing, "postrouting")[0].value("comment", ""),
                              "\"") == mark_comment;
  bool pre_ok = rules_ok("prerouting", 3);
  bool out_ok = rules_ok("output", 4);
  if (pre_ok && out_ok && post_ok) return "";
  auto Verb = [&](const char* chain) { return cninft::HasChain(listing, chain) ? "add" : "create"; };
  std::string out = absl::StrCat(
      "add table ", kT, "\n",  //
      "add map ", kT, " dnat4 { type ipv4_addr . inet_proto . inet_service : verdict; }\n",
      "add map ", kT, " dnat6 { type ipv6_addr . inet_proto . inet_service : verdict; }\n",
      "add map ", kT, " dnatany { type inet_proto . inet_service : verdict; }\n",
      // `create` for a missing base chain: of two first ADDs racing, the
      // second fails as a whole (and retries) instead of doubling rules.
      Verb("prerouting"), " chain ", kT,
      " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n",  //
      Verb("output"), " chain ", kT, " output { type nat hook output priority -100; policy accept; }\n",
      Verb("postrouting"), " chain ", kT,
      " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n");
  auto refill = [&](const char* chain) {
    if (!cninft::RulesOf(listing, chain).empty()) absl::StrAppend(&out, "flush chain ", kT, " ", chain, "\n");
  };
  if (!out_ok) {
    refill("output");
    // IPv6 loopback is never routed off the host, so ::1 is not DNATed.
    absl::StrAppend(&out, "add rule ", kT, " output ip6 daddr ::1 return\n");
  }
  for (const char* chain : {"prerouting", "output"}) {
    if (std::string(chain) == "prerouting" ? pre_ok : out_ok) continue;
    if (std::string(chain) == "prerouting") refill(chain);
    absl::StrAppend(
        &out, "add rule ", kT, " ", chain,
        " fib daddr type local ip daddr . meta l4proto . th dport vmap @dnat4\n",  //
        "add rule ", kT, " ", chain,
        " fib daddr type local ip6 daddr . meta l4proto . th dport vmap @dnat6\n",  //
        "add rule ", kT, " ", chain, " fib daddr type local meta l4proto . th dport vmap @dnatany\n");
  }
  if (!post_ok) {
    refill("postrouting");
    absl::StrAppend(&out, "add rule ", kT, " postrouting meta mark & ", Mask(mark_mask), " == ",
                    Mask(mark_mask), " masquerade comment ", mark_comment, "\n");
  }
  return out;
}

std::string AttachmentCommands(const PortmapConfig& c, const std::string& chain,
                               const std::string& comment, bool chain_exists) {
  std::string out = absl::StrCat(chain_exists ? "flush" : "add", " chain ", kT, " ", chain, "\n");
  std::set<std::string> elements;
  for (const PortMapping& m : c.mappings) {
    auto key = KeyFor(m, c);
    if (!key) continue;
    for (bool v6 : {false, true}) {
      if (!Applies(m, c, v6)) continue;
      const cninft::Cidr& ip = v6 ? *c.container_v6 : *c.container_v4;
      const char* fam = v6 ? "ip6" : "ip";
      std::string match = absl::StrCat("meta nfproto ", v6 ? "ipv6" : "ipv4");
      if (!m.host_ip.empty()) absl::StrAppend(&match, " ", fam, " daddr ", m.host_ip);
      absl::StrAppend(&match, " meta l4proto ", m.protocol, " th dport ", m.host_port);
      if (c.snat) {
        // Hairpin (a pod of the subnet to a host port) and, for IPv4, the
        // node's localhost: masqueraded on the way out, so replies return.
        std::string sources = v6 ? ip.network : absl::StrCat("{ ", ip.network, ", 127.0.0.0/8 }");
        absl::StrAppend(&out, "add rule ", kT, " ", chain, " ", match, " ", fam, " saddr ",
                        sources, " meta mark set meta mark | ", Mask(c.MarkMask()), "\n");
      }
      std::string to = v6 ? absl::StrCat("[", ip.address, "]:", m.container_port)
                          : absl::StrCat(ip.address, ":", m.container_port);
      absl::StrAppend(&out, "add rule ", kT, " ", chain, " ", match, " dnat ", fam, " to ", to,
                      " comment ", comment, "\n");
    }
    std::string element =
        absl::StrCat("add element ", kT, " ", key->map, " { ", key->key, " : jump ", chain, " }\n");
    if (elements.insert(element).second) absl::StrAppend(&out, element);
  }
  return out;
}

std::string DeleteElementCommands(const nlohmann::json& listing, const std::string& chain) {
  std::string out;
  for (const char* map : kMaps) {
    for (const std::string& key : cninft::MapKeysJumpingTo(listing, map, chain)) {
      absl::StrAppend(&out, "delete element ", kT, " ", map, " { ", key, " }\n");
    }
  }
  return out;
}

std::string DeleteCommands(const nlohmann::json& listing, const std::string& chain) {
  std::string out = DeleteElementCommands(listing, chain);
  if (cninft::HasChain(listing, chain)) {
    absl::StrAppend(&out, "flush chain ", kT, " ", chain, "\n", "delete chain ", kT, " ", chain,
                    "\n");
  }
  return out;
}

absl::Status CheckConflicts(const PortmapConfig& c, const std::string& chain,
                            const nlohmann::json& listing) {
  for (const PortMapping& m : c.mappings) {
    auto key = KeyFor(m, c);
    if (!key) continue;
    std::string port_proto = absl::StrCat(" . ", m.protocol, " . ", m.host_port);
    for (const char* map : kMaps) {
      for (const auto& [other_key, target] : cninft::MapEntries(listing, map)) {
        if (target == chain) continue;
        bool clash = false;
        if (std::string(map) == "dnatany") {
          // An "every address" mapping clashes with any of the same port.
          clash = other_key == absl::StrCat(m.protocol, " . ", m.host_port);
        } else if (m.host_ip.empty()) {
          clash = absl::EndsWith(other_key, port_proto) &&
                  (m.family == 0 || (m.family == 6) == (std::string(map) == "dnat6"));
        } else {
          clash = other_key == key->key;
        }
        if (clash) {
          return cniplugin::CniError(
              cniplugin::kPluginSpecific,
              absl::StrCat("hostPort ", m.Describe(), " is already in use by ",
                           Holder(listing, target)));
        }
      }
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> AttachmentChains(const nlohmann::json& listing) {
  std::vector<std::string> out;
  if (!listing.is_array()) return out;
  for (const nlohmann::json& item : listing) {
    auto it = item.find("chain");
    if (it == item.end() || !it->is_object()) continue;
    std::string name = it->value("name", "");
    if (absl::StartsWith(name, "pm-")) out.push_back(name);
  }
  return out;
}

}  // namespace berth::portmap
