#include "cni-plugins/host-local/ip.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace berth::hostlocal {
namespace {

u128 HostMask(int bits, int length) {
  int host = bits - length;
  if (host >= 128) return ~u128(0);
  return (u128(1) << host) - 1;
}

}  // namespace

std::string Ip::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (!v6) {
    in_addr a;
    a.s_addr = htonl(static_cast<uint32_t>(value));
    inet_ntop(AF_INET, &a, buf, sizeof buf);
  } else {
    in6_addr a;
    for (int i = 0; i < 16; ++i) a.s6_addr[i] = static_cast<uint8_t>(value >> (8 * (15 - i)));
    inet_ntop(AF_INET6, &a, buf, sizeof buf);
  }
  return buf;
}

std::optional<Ip> ParseIp(absl::string_view text) {
  std::string s(text);
  in_addr a4;
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) return Ip{false, ntohl(a4.s_addr)};
  in6_addr a6;
  if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    Ip ip{true, 0};
    for (int i = 0; i < 16; ++i) ip.value = (ip.value << 8) | a6.s6_addr[i];
    return ip;
  }
  return std::nullopt;
}

std::optional<Prefix> ParsePrefix(absl::string_view text) {
  size_t slash = text.find('/');
  if (slash == absl::string_view::npos) return std::nullopt;
  auto ip = ParseIp(text.substr(0, slash));
  int length = 0;
  if (!ip || !absl::SimpleAtoi(text.substr(slash + 1), &length) || length < 0 ||
      length > ip->Bits()) {
    return std::nullopt;
  }
  Prefix p;
  p.length = length;
  p.network = *ip;
  p.network.value &= ~HostMask(ip->Bits(), length);
  if (!ip->v6) p.network.value &= 0xffffffffu;
  return p;
}

Ip Prefix::Last() const {
  Ip ip = network;
  ip.value |= HostMask(network.Bits(), length);
  if (!ip.v6) ip.value &= 0xffffffffu;
  return ip;
}

bool Prefix::Contains(const Ip& ip) const {
  return ip.v6 == network.v6 && (ip.value & ~HostMask(ip.Bits(), length)) == network.value;
}

std::string Prefix::ToString() const { return absl::StrCat(network.ToString(), "/", length); }

}  // namespace berth::hostlocal
