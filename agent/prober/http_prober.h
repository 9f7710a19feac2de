// HTTP GET for httpGet probes and lifecycle hooks, with the kubelet's
// client settings: no keep-alive, no proxy, HTTPS without certificate
// verification, the body read up to 10 KiB, redirects followed only while they
// stay on the same host (up to 10), and one deadline for the whole exchange.
#pragma once

#include "absl/strings/string_view.h"
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/prober/probe_result.h"
#include "agent/prober/probe_url.h"

namespace berth::agent::prober {

struct HttpGetRequest {
  ProbeUrl url;
  // Sent as given, after the defaults below are settled; a "Host" entry sets
  // the Host header instead of url.HostPort().
  std::vector<std::pair<std::string, std::string>> headers;
  // Lifecycle hooks follow redirects to other hosts too (Go's default client);
  // probes stop at them and report a warning.
  bool follow_other_hosts = false;
};

struct HttpGetResponse {
  int status = 0;
  std::string body;      // at most kMaxProbeOutputBytes
  bool truncated = false;
  ProbeUrl final_url;    // after the redirects followed
};

// The headers the kubelet sends for `user_agent` ("kube-probe/1.32") given the
// user's httpHeaders: User-Agent and "Accept: */*" unless the user set them
// (an empty user Accept removes it); names keep the user's spelling.
std::vector<std::pair<std::string, std::string>> ProbeHeaders(
    const std::vector<std::pair<std::string, std::string>>& user, absl::string_view user_agent);

// One GET with redirects. Transport failures (refused, reset, TLS, timeout,
// too many redirects) are errors naming the URL.
absl::StatusOr<HttpGetResponse> HttpGet(const HttpGetRequest& request, absl::Duration timeout);

// The kubelet's httpGet probe verdict: 200..399 success (a 3xx that was not
// followed is a warning), anything else a failure naming the status code;
// a transport error is a failure with the error as output.
ProbeOutcome HttpProbe(const HttpGetRequest& request, absl::Duration timeout);

}  // namespace berth::agent::prober
