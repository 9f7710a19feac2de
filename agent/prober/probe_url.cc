#include "agent/prober/probe_url.h"

#include <charconv>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace berth::agent::prober {
namespace {

int DefaultPort(absl::string_view scheme) { return scheme == "https" ? 443 : 80; }

// Removes "." and ".." segments (RFC 3986 5.2.4) from an absolute path.
std::string RemoveDotSegments(absl::string_view path) {
  std::vector<absl::string_view> out;
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    absl::string_view p = parts[i];
    bool last = i + 1 == parts.size();
    if (p == ".") {
      if (last) out.push_back("");
    } else if (p == "..") {
      if (out.size() > 1) out.pop_back();
      if (last) out.push_back("");
    } else {
      out.push_back(p);
    }
  }
  std::string result = absl::StrJoin(out, "/");
  if (result.empty() || result[0] != '/') result.insert(result.begin(), '/');
  return result;
}

}  // namespace

std::string ProbeUrl::HostPort() const {
  std::string h = host.find(':') != std::string::npos ? absl::StrCat("[", host, "]") : host;
  return absl::StrCat(h, ":", port);
}

std::string ProbeUrl::String() const { return absl::StrCat(scheme, "://", HostPort(), target); }

ProbeUrl MakeProbeUrl(absl::string_view scheme, absl::string_view host, int port, absl::string_view path) {
  ProbeUrl u;
  u.scheme = absl::AsciiStrToLower(scheme);
  if (u.scheme.empty()) u.scheme = "http";
  u.host = std::string(host);
  u.port = port;
  u.target = std::string(path);
  if (u.target.empty() || u.target[0] != '/') u.target.insert(u.target.begin(), '/');
  return u;
}

absl::StatusOr<ProbeUrl> ParseProbeUrl(absl::string_view url) {
  size_t colon = url.find("://");
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\" has no scheme"));
  }
  ProbeUrl u;
  u.scheme = absl::AsciiStrToLower(url.substr(0, colon));
  if (u.scheme != "http" && u.scheme != "https") {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\": unsupported scheme \"", u.scheme, "\""));
  }
  absl::string_view rest = url.substr(colon + 3);
  size_t slash = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, slash);
  absl::string_view target = slash == absl::string_view::npos ? "" : rest.substr(slash);
  if (size_t at = authority.rfind('@'); at != absl::string_view::npos) authority = authority.substr(at + 1);
  absl::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\": unclosed IPv6 literal"));
    }
    u.host = std::string(authority.substr(1, close - 1));
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\": bad authority"));
      port_text = after.substr(1);
    }
  } else {
    size_t c = authority.rfind(':');
    u.host = std::string(authority.substr(0, c));
    if (c != absl::string_view::npos) port_text = authority.substr(c + 1);
  }
  if (u.host.empty()) return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\" has no host"));
  u.port = DefaultPort(u.scheme);
  if (!port_text.empty()) {
    int p = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || p <= 0 || p > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\": invalid port \"", port_text, "\""));
    }
    u.port = p;
  }
  if (size_t hash = target.find('#'); hash != absl::string_view::npos) target = target.substr(0, hash);
  u.target = std::string(target);
  if (u.target.empty() || u.target[0] != '/') u.target.insert(u.target.begin(), '/');
  return u;
}

absl::StatusOr<ProbeUrl> ResolveLocation(const ProbeUrl& base, absl::string_view location) {
  if (size_t hash = location.find('#'); hash != absl::string_view::npos) location = location.substr(0, hash);
  if (location.find("://") != absl::string_view::npos) {
    size_t first_sep = location.find_first_of("/?");
    if (first_sep == absl::string_view::npos || first_sep > location.find("://")) return ParseProbeUrl(location);
  }
  if (location.substr(0, 2) == "//") return ParseProbeUrl(absl::StrCat(base.scheme, ":", location));
  ProbeUrl u = base;
  if (location.empty()) return u;
  absl::string_view path = location;
  std::string query;
  if (size_t q = path.find('?'); q != absl::string_view::npos) {
    query = std::string(path.substr(q));
    path = path.substr(0, q);
  }
  std::string base_path = base.target.substr(0, base.target.find('?'));
  if (path.empty()) {
    u.target = base_path + query;
  } else if (path[0] == '/') {
    u.target = RemoveDotSegments(path) + query;
  } else {
    std::string dir = base_path.substr(0, base_path.rfind('/') + 1);
    u.target = RemoveDotSegments(absl::StrCat(dir, path)) + query;
  }
  return u;
}

}  // namespace berth::agent::prober
