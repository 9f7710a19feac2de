// LocalApiClient: the ApiClient for components inside berth-controlplane
// (the scheduler, the controllers). Each call is handed to the API server's
// own request path (ApiServer::Handle: request info, RestHandler, the
// resource's ResourceStorage and WatchCache) as an in-memory request, with
// no socket, TLS or HTTP framing, so defaulting, validation, namespace
// admission, pods/binding and watch semantics are exactly the REST API's.
// Requests run as a system:masters user.
//
// A watch runs on a thread of its own (the handler's thread); Stop returns
// at once and no handler runs after it; the thread ends within the watch's
// one-second progress tick and is joined by the client (at the latest in its
// destructor). The server must outlive the client.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "controlplane/apiserver/api_server.h"
#include "controlplane/client/api_client.h"

namespace berth::client {

struct LocalApiClientOptions {
  std::string user = "system:apiserver";  // in system:masters
  std::string user_agent = "berth-controlplane";  // the fieldManager of its writes
};

class LocalApiClient : public ApiClient {
 public:
  explicit LocalApiClient(apiserver::ApiServer* server, LocalApiClientOptions options = {});
  ~LocalApiClient() override;

  absl::StatusOr<nlohmann::json> Get(const ResourceRef& ref, const std::string& ns,
                                     const std::string& name) override;
  absl::StatusOr<nlohmann::json> List(const ResourceRef& ref, const std::string& ns,
                                      const ListOptions& options = {}) override;
  absl::StatusOr<nlohmann::json> Create(const ResourceRef& ref, const std::string& ns,
                                        const nlohmann::json& object) override;
  absl::StatusOr<nlohmann::json> Update(const ResourceRef& ref, const std::string& ns,
                                        const nlohmann::json& object, const std::string& subresource = "") override;
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

  // Watch threads still running (ended and stopped ones are joined lazily).
  size_t watch_threads();

 private:
  struct WatchState;
  struct WatchThread {
    std::thread thread;
    std::shared_ptr<WatchState> state;
  };
  class LocalWatchStream;
  class StreamWriter;
  // One request through the server; the response body parsed, or the API
  // error as a Status.
  absl::StatusOr<nlohmann::json> Call(const std::string& method, const std::string& path,
                                      const std::string& query, const std::string& content_type,
                                      const std::string& body);
  apiserver::HttpRequest MakeRequest(const std::string& method, const std::string& path, const std::string& query,
                                     const std::string& content_type, const std::string& body) const;
  void ReapWatchThreads();

  apiserver::ApiServer* server_;
  const LocalApiClientOptions options_;
  std::mutex mu_;
  std::list<WatchThread> watch_threads_;
};

// The query string of a list or watch (percent-encoded values).
std::string ListQueryString(const ListOptions& options, bool watch);

}  // namespace berth::client
