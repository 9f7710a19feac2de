#include "cni-plugins/nft/address.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace berth::cninft {

absl::StatusOr<std::string> ParseAddress(absl::string_view text, absl::string_view field,
                                         bool* v6) {
  std::string s(text);
  unsigned char buf[16] = {};
  char out[INET6_ADDRSTRLEN] = {};
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    *v6 = false;
    inet_ntop(AF_INET, buf, out, sizeof(out));
    return std::string(out);
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    *v6 = true;
    inet_ntop(AF_INET6, buf, out, sizeof(out));
    return std::string(out);
  }
  return absl::InvalidArgumentError(absl::StrCat(field, ": invalid IP address \"", text, "\""));
}

absl::StatusOr<Cidr> ParseCidr(absl::string_view text, absl::string_view field) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": invalid CIDR \"", text, "\" (", why, ")"));
  };
  size_t slash = text.find('/');
  absl::string_view addr = text.substr(0, slash);
  std::string s(addr);
  unsigned char buf[16] = {};
  Cidr out;
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    out.v6 = false;
  } else if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    out.v6 = true;
  } else {
    return bad("not an IP address");
  }
  int bits = out.v6 ? 128 : 32;
  out.prefix_len = bits;
  if (slash != absl::string_view::npos) {
    if (!absl::SimpleAtoi(text.substr(slash + 1), &out.prefix_len) || out.prefix_len < 0 ||
        out.prefix_len > bits) {
      return bad(absl::StrCat("prefix length must be 0..", bits));
    }
  }
  char str[INET6_ADDRSTRLEN] = {};
  inet_ntop(out.v6 ? AF_INET6 : AF_INET, buf, str, sizeof(str));
  out.address = str;
  int len = bits / 8;
  for (int i = 0; i < len; ++i) {
    int keep = out.prefix_len - i * 8;
    if (keep <= 0) {
      buf[i] = 0;
    } else if (keep < 8) {
      buf[i] &= static_cast<unsigned char>(0xff << (8 - keep));
    }
  }
  std::memset(str, 0, sizeof(str));
  inet_ntop(out.v6 ? AF_INET6 : AF_INET, buf, str, sizeof(str));
  out.network = absl::StrCat(str, "/", out.prefix_len);
  return out;
}

}  // namespace berth::cninft
