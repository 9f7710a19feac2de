// IP addresses and CIDRs as nft writes them, for rule generation.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::cninft {

struct Cidr {
  bool v6 = false;
  std::string address;  // canonical text of the address: "10.22.0.5", "fd00::5"
  std::string network;  // the prefix with host bits cleared: "10.22.0.0/16"
  int prefix_len = 0;
};

// Parses "10.22.0.5/16" or "fd00::5/64" (a bare address is a /32 or /128).
// `field` names the input in the error.
absl::StatusOr<Cidr> ParseCidr(absl::string_view text, absl::string_view field);

// Parses a bare IPv4 or IPv6 address into its canonical text; sets *v6.
absl::StatusOr<std::string> ParseAddress(absl::string_view text, absl::string_view field,
                                         bool* v6);

// "ip" or "ip6": the nft payload protocol for the family.
inline const char* NftFamilyKeyword(bool v6) { return v6 ? "ip6" : "ip"; }

}  // namespace berth::cninft
