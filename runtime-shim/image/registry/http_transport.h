// The HTTP the registry client needs, behind an interface so tests can fake
// it: one request, the body either kept or streamed to a sink.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::image::registry {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent for POST / PUT
  std::string ca_file;               // extra CA bundle for https; empty: the system store
  // false: the server's certificate is not checked (for what is verified by
  // other means, as berthadm's signed cluster-info).
  bool verify_tls = true;
  long timeout_s = 0;                // whole-request limit; 0: none (a stalled transfer still times out)
  // Polled during the transfer (about once a second, stalled or not); an
  // error aborts it and becomes the request's result.
  std::function<absl::Status()> keep_going;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lowercase names; the last value wins
  std::string body;  // the body, unless a sink took it (only 2xx bodies go to the sink)

  std::string Header(absl::string_view name) const;
};

// Gets the body of a 2xx response chunk by chunk, with the response's HTTP
// status; an error aborts the transfer and becomes the request's result.
using BodySink = std::function<absl::Status(long http_status, absl::string_view chunk)>;

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // The response for any HTTP status; UnavailableError when the connection
  // failed or dropped (the sink may have had part of the body by then).
  virtual absl::StatusOr<HttpResponse> Do(const HttpRequest& request, const BodySink* sink) = 0;
};

// libcurl, one easy handle per request; redirects followed (credentials are
// not sent to another host).
std::shared_ptr<HttpTransport> NewCurlTransport();

}  // namespace berth::image::registry
