// The OCI distribution API client: manifests and blobs over HTTPS (plain HTTP
// for insecure hosts), registry mirrors, bearer token and basic auth.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime-shim/image/reference.h"
#include "runtime-shim/image/registry/http_transport.h"
#include "runtime-shim/image/registry/manifest.h"

namespace berth::image::registry {

// Settings for one registry host ("docker.io", "127.0.0.1:5000").
struct HostConfig {
  bool insecure = false;         // plain HTTP
  std::string ca_file;           // extra CA bundle for this host's TLS
  std::vector<std::string> mirrors;  // "host[:port]" or "http(s)://host[:port]", tried in order before the host
  std::string username, password;    // used when the pull passes no credentials
  std::string identity_token;        // an OAuth2 refresh token, instead of username/password
};

struct RegistryConfig {
  std::map<std::string, HostConfig> hosts;
  const HostConfig& For(const std::string& host) const;
};

// What a pull may pass (the CRI AuthConfig).
struct Credentials {
  std::string username, password;
  std::string registry_token;  // a bearer token to send as is
  std::string identity_token;  // an OAuth2 refresh token for the token server
  bool empty() const {
    return username.empty() && password.empty() && registry_token.empty() && identity_token.empty();
  }
};

// One challenge of a WWW-Authenticate header: `Bearer realm="...",service="..."`.
struct Challenge {
  std::string scheme;                         // lowercase: "bearer", "basic"
  std::map<std::string, std::string> params;  // lowercase names
};
// Parses a WWW-Authenticate value (one or more challenges, quoted or token
// values, escapes inside quotes). InvalidArgument on malformed input.
absl::StatusOr<std::vector<Challenge>> ParseWwwAuthenticate(absl::string_view value);

// Where a repository is served from.
struct Endpoint {
  std::string base;  // "https://registry-1.docker.io"
  std::string host;  // "registry-1.docker.io"
  std::string ca_file;
  bool mirror = false;
  const HostConfig* config = nullptr;
};

// The endpoints for `repository` ("docker.io/library/busybox") in the order
// they are tried: the host's mirrors, then the host itself (docker.io is
// served by registry-1.docker.io). Endpoint::config points into `config`.
std::vector<Endpoint> EndpointsFor(const RegistryConfig& config, absl::string_view repository);

// Hooks of one blob download: `on_bytes` gets each chunk's size as it is
// written; `keep_going` is polled during the transfer (also while it is
// stalled) and an error it returns aborts the download with that error.
struct FetchProgress {
  std::function<void(int64_t bytes)> on_bytes;
  std::function<absl::Status()> keep_going;
};

struct FetchedManifest {
  std::string digest;      // sha256 of the body, as received
  std::string media_type;  // the Content-Type
  std::string body;
};

class RegistryClient {
 public:
  explicit RegistryClient(RegistryConfig config, std::shared_ptr<HttpTransport> transport = NewCurlTransport());

  // The endpoints for `repository` ("docker.io/library/busybox") in the order
  // they are tried: mirrors, then the host itself (docker.io is served by
  // registry-1.docker.io).
  std::vector<Endpoint> Endpoints(absl::string_view repository) const;

  // GET /v2/<name>/manifests/<tag_or_digest>. A digest is verified against the
  // body. NotFound naming the reference when no endpoint has it.
  absl::StatusOr<FetchedManifest> GetManifest(const Reference& ref, const std::string& tag_or_digest,
                                              const Credentials& creds);

  // Streams the blob into `dest_path` (created or truncated), hashing and
  // counting as it writes. A dropped transfer resumes once with a Range
  // request, connection errors retry up to 3 times; a size or digest mismatch
  // is DataLoss. On error `dest_path` is removed.
  // `progress` (optional) sees the bytes as they arrive and can abort a
  // transfer, stalled or not.
  absl::Status FetchBlob(const Reference& ref, const Descriptor& blob, const std::string& dest_path,
                         const Credentials& creds, const FetchProgress* progress = nullptr);

  // Test hook: sees every request before it is sent.
  void SetRequestHook(std::function<void(const HttpRequest&)> hook) { hook_ = std::move(hook); }

 private:
  absl::StatusOr<HttpResponse> Send(const Endpoint& ep, const std::string& repo_path, HttpRequest request,
                                    const BodySink* sink, const Credentials& creds);
  absl::StatusOr<std::string> Authorize(const Endpoint& ep, const std::string& repo_path,
                                        const std::string& challenge_header, const Credentials& creds);
  absl::StatusOr<HttpResponse> Do(const HttpRequest& request, const BodySink* sink);
  absl::Status FetchBlobFrom(const Endpoint& ep, const std::string& repo_path, const Descriptor& blob,
                             const std::string& dest_path, const Credentials& creds, const FetchProgress* progress);

  const RegistryConfig config_;
  std::shared_ptr<HttpTransport> transport_;
  std::function<void(const HttpRequest&)> hook_;
  std::mutex mu_;
  std::map<std::string, std::string> auth_headers_;  // "host repo credentials-hash" -> Authorization value
};

// The registry host of a normalized repository, and the path under /v2/.
std::string RepositoryHost(absl::string_view repository);
std::string RepositoryPath(absl::string_view repository);

}  // namespace berth::image::registry
