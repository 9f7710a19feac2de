#include "cni-plugins/netlink/ip_prefix.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace berth::netlink {

int IpPrefix::AddrLen() const { return family == AF_INET6 ? 16 : 4; }

std::string IpPrefix::AddrString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, addr.data(), buf, sizeof buf) == nullptr) return "?";
  return buf;
}

std::string IpPrefix::ToString() const { return absl::StrCat(AddrString(), "/", length); }

IpPrefix IpPrefix::Network() const {
  IpPrefix out = *this;
  for (int i = 0; i < AddrLen(); ++i) {
    int bits = length - i * 8;
    if (bits >= 8) continue;
    out.addr[i] &= bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
  }
  return out;
}

bool IpPrefix::Contains(const IpPrefix& other) const {
  if (other.family != family) return false;
  IpPrefix probe = other;
  probe.length = length;
  return probe.Network().addr == Network().addr;
}

std::optional<IpPrefix> ParseIpPrefix(absl::string_view text, bool allow_bare) {
  std::string addr_text(text);
  std::optional<int> length;
  if (auto slash = text.find('/'); slash != absl::string_view::npos) {
    int n = -1;
    if (!absl::SimpleAtoi(text.substr(slash + 1), &n) || n < 0) return std::nullopt;
    length = n;
    addr_text = std::string(text.substr(0, slash));
  } else if (!allow_bare) {
    return std::nullopt;
  }
  IpPrefix out;
  if (inet_pton(AF_INET, addr_text.c_str(), out.addr.data()) == 1) {
    out.family = AF_INET;
  } else if (inet_pton(AF_INET6, addr_text.c_str(), out.addr.data()) == 1) {
    out.family = AF_INET6;
  } else {
    return std::nullopt;
  }
  out.length = length.value_or(out.MaxLength());
  if (out.length > out.MaxLength()) return std::nullopt;
  return out;
}

std::optional<IpPrefix> ParseIp(absl::string_view text) {
  if (text.find('/') != absl::string_view::npos) return std::nullopt;
  return ParseIpPrefix(text, /*allow_bare=*/true);
}

IpPrefix NextAddr(const IpPrefix& ip) {
  IpPrefix out = ip;
  for (int i = out.AddrLen() - 1; i >= 0; --i) {
    if (++out.addr[i] != 0) break;
  }
  return out;
}

}  // namespace berth::netlink
