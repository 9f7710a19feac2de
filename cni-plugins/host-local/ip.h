// IPv4 / IPv6 addresses as 128-bit integers, and prefixes, for IPAM arithmetic.
#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace berth::hostlocal {

using u128 = unsigned __int128;

struct Ip {
  bool v6 = false;
  u128 value = 0;  // IPv4 in the low 32 bits

  friend bool operator==(const Ip&, const Ip&) = default;
  bool operator<(const Ip& o) const { return v6 != o.v6 ? !v6 : value < o.value; }
  int Bits() const { return v6 ? 128 : 32; }
  std::string ToString() const;
};

struct Prefix {
  Ip network;  // the address with the host bits cleared
  int length = 0;

  Ip First() const { return network; }  // network address
  Ip Last() const;                       // broadcast (all host bits set)
  bool Contains(const Ip& ip) const;
  std::string ToString() const;  // "10.0.0.0/24"
};

std::optional<Ip> ParseIp(absl::string_view text);
// "10.1.2.3/24" -> network 10.1.2.0/24; host bits are cleared.
std::optional<Prefix> ParsePrefix(absl::string_view text);

inline Ip Next(Ip ip) { ++ip.value; if (!ip.v6) ip.value &= 0xffffffffu; return ip; }
inline Ip Prev(Ip ip) { --ip.value; if (!ip.v6) ip.value &= 0xffffffffu; return ip; }

}  // namespace berth::hostlocal
