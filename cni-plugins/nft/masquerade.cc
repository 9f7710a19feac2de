#include "cni-plugins/nft/masquerade.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cni-plugins/nft/address.h"
#include "cni-plugins/nft/nft.h"
#include "cni-plugins/nft/nft_json.h"

namespace berth::cniplugin {
namespace {

constexpr char kTable[] = "inet berth-cni";
constexpr char kBaseChain[] = "masq-postrouting";
constexpr int kAttempts = 5;

absl::Status CheckNames(const std::string& network_name, const std::string& container_id,
                        const std::string& ifname) {
  if (network_name.empty()) return absl::InvalidArgumentError("masquerade: empty network name");
  if (container_id.empty()) return absl::InvalidArgumentError("masquerade: empty container id");
  if (ifname.empty()) return absl::InvalidArgumentError("masquerade: empty interface name");
  return absl::OkStatus();
}

std::string Comment(const std::string& network_name, const std::string& container_id,
                    const std::string& ifname) {
  return cninft::CommentLiteral(
      absl::StrCat("berth masq net=", network_name, " if=", ifname, " id=", container_id));
}

// `delete element` commands for every element of masq4/masq6 that jumps to
// `chain`, from a listing of the table.
std::vector<std::string> DeleteElementsFor(const nlohmann::json& listing, const std::string& chain) {
  std::vector<std::string> out;
  for (const char* map : {"masq4", "masq6"}) {
    for (const std::string& key : cninft::MapKeysJumpingTo(listing, map, chain)) {
      out.push_back(absl::StrCat("delete element ", kTable, " ", map, " { ", key, " }"));
    }
  }
  return out;
}

const char* MapFor(const cninft::Cidr& c) { return c.v6 ? "masq6" : "masq4"; }

// What the table still needs, from its listing: the table, maps and base
// chain, and the base chain's two dispatch rules (refilled when it has any
// other number).
std::string SetupCommands(const nlohmann::json& listing) {
  std::vector<nlohmann::json> base = cninft::RulesOf(listing, kBaseChain);
  bool has_base = cninft::HasChain(listing, kBaseChain);
  if (has_base && base.size() == 2) return "";
  // `create` (not `add`) for a missing base chain: of two first ADDs racing,
  // the second fails as a whole and retries, instead of doubling the rules.
  std::string out = absl::StrCat(
      "add table ", kTable, "\n",                                                   //
      "add map ", kTable, " masq4 { type ipv4_addr : verdict; }\n",                 //
      "add map ", kTable, " masq6 { type ipv6_addr : verdict; }\n",                 //
      has_base ? "add" : "create", " chain ", kTable, " ", kBaseChain,
      " { type nat hook postrouting priority srcnat; policy accept; }\n");
  if (!base.empty()) absl::StrAppend(&out, "flush chain ", kTable, " ", kBaseChain, "\n");
  absl::StrAppend(&out, "add rule ", kTable, " ", kBaseChain, " ip saddr vmap @masq4\n",  //
                  "add rule ", kTable, " ", kBaseChain, " ip6 saddr vmap @masq6\n");
  return out;
}

// The listing of the table, or null when it does not exist.
absl::StatusOr<nlohmann::json> ListTable() {
  auto listed = cninft::ListJson(absl::StrCat("table ", kTable));
  if (absl::IsNotFound(listed.status())) return nlohmann::json();
  return listed;
}

}  // namespace

std::string MasqueradeChainName(const std::string& network_name, const std::string& container_id,
                                const std::string& ifname) {
  return absl::StrCat("masq-", cninft::IdentityHash({network_name, container_id, ifname}));
}

absl::Status AddMasquerade(const std::string& network_name, const std::string& container_id,
                           const std::string& ifname,
                           const std::vector<std::string>& container_cidrs) {
  if (absl::Status s = CheckNames(network_name, container_id, ifname); !s.ok()) return s;
  if (container_cidrs.empty()) {
    return absl::InvalidArgumentError("masquerade: container_cidrs is empty");
  }
  std::vector<cninft::Cidr> cidrs;
  bool any_v4 = false, any_v6 = false;
  for (const std::string& text : container_cidrs) {
    auto cidr = cninft::ParseCidr(text, "masquerade: container_cidrs");
    if (!cidr.ok()) return cidr.status();
    (cidr->v6 ? any_v6 : any_v4) = true;
    cidrs.push_back(*std::move(cidr));
  }
  const std::string chain = MasqueradeChainName(network_name, container_id, ifname);
  const std::string comment = Comment(network_name, container_id, ifname);

  std::string rules;
  std::set<std::string> subnets;
  for (const cninft::Cidr& c : cidrs) {
    if (!subnets.insert(c.network).second) continue;
    absl::StrAppend(&rules, "add rule ", kTable, " ", chain, " ", cninft::NftFamilyKeyword(c.v6),
                    " daddr ", c.network, " return comment ", comment, "\n");
  }
  if (any_v4) {
    absl::StrAppend(&rules, "add rule ", kTable, " ", chain, " ip daddr 224.0.0.0/4 return\n");
  }
  if (any_v6) {
    absl::StrAppend(&rules, "add rule ", kTable, " ", chain, " ip6 daddr ff00::/8 return\n");
  }
  absl::StrAppend(&rules, "add rule ", kTable, " ", chain, " masquerade comment ", comment, "\n");
  std::string elements;
  for (const cninft::Cidr& c : cidrs) {
    absl::StrAppend(&elements, "add element ", kTable, " ", MapFor(c), " { ", c.address,
                    " : jump ", chain, " }\n");
  }
  const std::string what = absl::StrCat("add masquerade for ", container_id, " ", ifname);

  // The common case, one transaction that only adds (so it is cheap, see
  // nft.h): the table is set up and this attachment is new. `create` fails
  // when the chain exists (a repeated ADD), a key clash when an address is
  // still mapped (a stale attachment), ENOENT when the table is not set up.
  absl::Status fast = cninft::RunBatch(
      absl::StrCat("create chain ", kTable, " ", chain, "\n", rules, elements), what);
  if (fast.ok() || (!absl::IsNotFound(fast) && !absl::IsAlreadyExists(fast))) return fast;

  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto listing = ListTable();
    if (!listing.ok()) return listing.status();
    std::string batch = SetupCommands(*listing);
    if (cninft::HasChain(*listing, chain)) {
      absl::StrAppend(&batch, "flush chain ", kTable, " ", chain, "\n");
    } else {
      absl::StrAppend(&batch, "add chain ", kTable, " ", chain, "\n");
    }
    // Elements of an earlier ADD of this attachment, and of a stale one
    // that still holds one of these addresses (the IPAM gave it to us).
    std::set<std::string> ours;
    for (const cninft::Cidr& c : cidrs) ours.insert(absl::StrCat(MapFor(c), " ", c.address));
    for (const char* map : {"masq4", "masq6"}) {
      for (const auto& [key, target] : cninft::MapEntries(*listing, map)) {
        if (target == chain || ours.count(absl::StrCat(map, " ", key))) {
          absl::StrAppend(&batch, "delete element ", kTable, " ", map, " { ", key, " }\n");
        }
      }
    }
    last = cninft::RunBatch(absl::StrCat(batch, rules, elements), what);
    // NotFound: the table changed between the listing and the batch; again.
    if (!absl::IsNotFound(last) && !absl::IsAlreadyExists(last)) return last;
  }
  return last;
}

absl::Status DeleteMasquerade(const std::string& network_name, const std::string& container_id,
                              const std::string& ifname) {
  if (absl::Status s = CheckNames(network_name, container_id, ifname); !s.ok()) return s;
  const std::string chain = MasqueradeChainName(network_name, container_id, ifname);
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto listing = ListTable();
    if (!listing.ok()) return listing.status();
    if (listing->is_null()) return absl::OkStatus();
    std::string batch;
    for (const std::string& cmd : DeleteElementsFor(*listing, chain)) {
      absl::StrAppend(&batch, cmd, "\n");
    }
    if (cninft::HasChain(*listing, chain)) {
      absl::StrAppend(&batch, "flush chain ", kTable, " ", chain, "\n", "delete chain ", kTable,
                      " ", chain, "\n");
    }
    if (batch.empty()) return absl::OkStatus();
    last = cninft::RunBatch(batch, absl::StrCat("delete masquerade for ", container_id, " ", ifname));
    if (!absl::IsNotFound(last)) return last;
  }
  return last;
}

}  // namespace berth::cniplugin
