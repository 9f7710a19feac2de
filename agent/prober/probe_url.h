// The small part of URL handling the HTTP prober needs: an http(s) URL split
// into scheme, host, port and request target, and a redirect's Location
// resolved against the URL it came from (RFC 3986 reference resolution).
#pragma once

#include "absl/strings/string_view.h"
#include <string>


#include "absl/status/statusor.h"

namespace berth::agent::prober {

struct ProbeUrl {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // without brackets for IPv6
  int port = 0;
  std::string target = "/";  // path and query, never empty

  // "host:port", with brackets for IPv6, as a Host header and Go's url.Host say it.
  std::string HostPort() const;
  std::string String() const;
};

// The URL the kubelet builds for an httpGet action: `path` may carry a query
// ("/healthz?verbose"); a path without a leading "/" gets one.
ProbeUrl MakeProbeUrl(absl::string_view scheme, absl::string_view host, int port, absl::string_view path);

// Parses an absolute http(s) URL.
absl::StatusOr<ProbeUrl> ParseProbeUrl(absl::string_view url);

// Resolves a Location header against `base`: absolute, scheme-relative
// ("//host/x"), absolute-path and relative-path references.
absl::StatusOr<ProbeUrl> ResolveLocation(const ProbeUrl& base, absl::string_view location);

}  // namespace berth::agent::prober
