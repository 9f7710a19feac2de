// An IPv4 or IPv6 address with a prefix length ("10.22.0.5/16",
// "fd00::5/64"), as netlink wants it: family, raw bytes, length.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace berth::netlink {

struct IpPrefix {
  int family = 0;                  // AF_INET or AF_INET6
  std::array<uint8_t, 16> addr{};  // network byte order; 4 bytes used for IPv4
  int length = 0;                  // prefix length

  int AddrLen() const;                        // 4 or 16
  int MaxLength() const { return AddrLen() * 8; }
  std::string AddrString() const;             // "10.22.0.5"
  std::string ToString() const;               // "10.22.0.5/16"
  IpPrefix Network() const;                   // host bits cleared: "10.22.0.0/16"
  bool Contains(const IpPrefix& other) const;  // other's address inside this network
  bool IsDefault() const { return length == 0; }
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// "a.b.c.d/len" or "x::y/len"; without "/len" the full length is assumed
// when `allow_bare` (a plain address). nullopt when unparsable.
std::optional<IpPrefix> ParseIpPrefix(absl::string_view text, bool allow_bare = false);

// A plain address ("10.22.0.1"), as a full-length prefix.
std::optional<IpPrefix> ParseIp(absl::string_view text);

// The address after this one in the same family (wraps around).
IpPrefix NextAddr(const IpPrefix& ip);

}  // namespace berth::netlink
