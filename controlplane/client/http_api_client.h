// HttpApiClient: ApiClient over HTTPS to an API server, as a kubeconfig
// names it (kubeconfig_loader.h), with libcurl.
//   - Requests reuse kept-alive connections: a small pool of curl handles
//     (each keeps its connection), taken and returned under a mutex, so any
//     number of threads may call at once.
//   - A watch is a chunked stream of JSON lines on its own connection and
//     thread (curl multi, woken by Stop, so Stop returns at once).
//   - A failed call is StatusFromApi(code, reason, message) of the
//     metav1.Status body; a connection failure is Unavailable naming the
//     server.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controlplane/client/api_client.h"
#include "controlplane/client/kubeconfig_loader.h"

namespace berth::client {

struct HttpApiClientOptions {
  // A whole request (not a watch) fails after this long.
  long request_timeout_s = 30;
  long connect_timeout_s = 10;
  // Idle connections kept for reuse.
  size_t max_idle_connections = 4;
  std::string user_agent = "berth";
};

class HttpApiClient : public ApiClient {
 public:
  static absl::StatusOr<std::unique_ptr<HttpApiClient>> Create(KubeconfigCredentials credentials,
                                                               HttpApiClientOptions options = {});
  static absl::StatusOr<std::unique_ptr<HttpApiClient>> FromKubeconfig(const std::string& path,
                                                                       HttpApiClientOptions options = {});
  ~HttpApiClient() override;

  absl::StatusOr<nlohmann::json> Get(const ResourceRef& ref, const std::string& ns, const std::string& name) override;
  absl::StatusOr<nlohmann::json> List(const ResourceRef& ref, const std::string& ns,
                                      const ListOptions& options = {}) override;
  absl::StatusOr<nlohmann::json> Create(const ResourceRef& ref, const std::string& ns,
                                        const nlohmann::json& object) override;
  absl::StatusOr<nlohmann::json> Update(const ResourceRef& ref, const std::string& ns, const nlohmann::json& object,
                                        const std::string& subresource = "") override;
  absl::StatusOr<nlohmann::json> Patch(const ResourceRef& ref, const std::string& ns, const std::string& name,
                                       PatchType type, const nlohmann::json& patch,
                                       const std::string& subresource = "") override;
  absl::StatusOr<nlohmann::json> Delete(const ResourceRef& ref, const std::string& ns, const std::string& name,
                                        const DeleteOptions& options = {}) override;
  absl::StatusOr<nlohmann::json> CreateSubresource(const ResourceRef& ref, const std::string& ns,
                                                   const std::string& name, const std::string& subresource,
                                                   const nlohmann::json& body) override;
  absl::StatusOr<std::unique_ptr<WatchStream>> Watch(const ResourceRef& ref, const std::string& ns,
                                                     const ListOptions& options, WatchHandler on_event,
                                                     WatchEndHandler on_end) override;

  // One request: `path_and_query` after the server URL; the decoded JSON
  // body of a 2xx answer, else the API's error.
  absl::StatusOr<nlohmann::json> Request(const std::string& method, const std::string& path_and_query,
                                         const std::string& body = "",
                                         const std::string& content_type = "application/json");

  const std::string& server() const { return credentials_.server; }
  // Connections opened so far (tests check reuse with it).
  int connections_opened() const;

 private:
  HttpApiClient(KubeconfigCredentials credentials, HttpApiClientOptions options)
      : credentials_(std::move(credentials)), options_(std::move(options)) {}
  // A curl easy handle with the TLS and auth settings (void* keeps curl.h out).
  void* NewHandle() const;
  void* TakeHandle();
  void ReturnHandle(void* handle);

  KubeconfigCredentials credentials_;
  HttpApiClientOptions options_;
  mutable std::mutex mu_;
  std::vector<void*> idle_;
  int opened_ = 0;
};

// "?a=b&c=d" from ListOptions (watch adds watch=1 and its own fields); ""
// when nothing is set. Values are percent-encoded.
std::string ListQuery(const ListOptions& options, bool watch);

}  // namespace berth::client
