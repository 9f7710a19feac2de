// ApiClient: the Kubernetes API as the scheduler, the controllers, the
// agent's cluster membership and berthadm use it, one interface over two
// transports:
//   - LocalApiClient (local_api_client.h): in the berth-controlplane process,
//     straight onto the API server's storage and watch caches (no HTTP, no
//     TLS), with the same validation, admission and watch semantics;
//   - HttpApiClient (http_api_client.h): HTTPS to an API server, as a
//     kubeconfig names it (client certificate, bearer or bootstrap token).
// Objects are JSON as the API serves them. Failures are absl::Status with
// the API's reason mapped onto a code (StatusFromApi below) and the
// server's message kept.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace berth::client {

// One API collection: {"", "v1", "pods"}, {"apps", "v1", "deployments"}.
struct ResourceRef {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, lower case
  bool namespaced = true;

  // "/api/v1" or "/apis/<group>/<version>".
  std::string GroupVersionPath() const;
  // The collection's path: .../namespaces/<ns>/<resource> or .../<resource>
  // (ns "" lists across namespaces).
  std::string CollectionPath(const std::string& ns) const;
  // One object's path, with an optional subresource.
  std::string ObjectPath(const std::string& ns, const std::string& name, const std::string& subresource = "") const;
};

// The resources berth's own components use.
namespace resources {
extern const ResourceRef kPods;
extern const ResourceRef kNodes;
extern const ResourceRef kNamespaces;
extern const ResourceRef kServices;
extern const ResourceRef kEndpoints;
extern const ResourceRef kConfigMaps;
extern const ResourceRef kSecrets;
extern const ResourceRef kEvents;
extern const ResourceRef kServiceAccounts;
extern const ResourceRef kDeployments;
extern const ResourceRef kReplicaSets;
extern const ResourceRef kDaemonSets;
extern const ResourceRef kStatefulSets;
extern const ResourceRef kJobs;
extern const ResourceRef kLeases;
extern const ResourceRef kEndpointSlices;
}  // namespace resources

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;
  std::string continue_token;
  // "" (most recent, consistent), "0" (any), or a resourceVersion. For a
  // watch: the version to start after ("" or "0": from now, with ADDED
  // events for what exists, as the API does).
  std::string resource_version;
  // Watch only: ask for BOOKMARK events.
  bool allow_watch_bookmarks = false;
  // Watch only: the server ends the watch after this long (0: its default).
  int64_t timeout_seconds = 0;
};

struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::string propagation_policy;  // "", "Foreground", "Background", "Orphan"
  std::string precondition_uid;
};

enum class PatchType {
  kMerge,           // application/merge-patch+json
  kStrategicMerge,  // application/strategic-merge-patch+json
  kJson,            // application/json-patch+json
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark };
  Type type = Type::kAdded;
  nlohmann::json object;
};

// A running watch. Destroying it (or Stop) ends it; no handler runs after
// Stop returns.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  virtual void Stop() = 0;
};

// `on_event` runs for each event in order, on a thread of the client (never
// two at once for one watch). `on_end` runs once when the watch ends by
// itself: OK when the server closed it normally (timeout), OutOfRange for
// 410 Gone (the version is too old: list again), another error otherwise.
using WatchHandler = std::function<void(WatchEvent event)>;
using WatchEndHandler = std::function<void(absl::Status reason)>;

class ApiClient {
 public:
  virtual ~ApiClient() = default;

  virtual absl::StatusOr<nlohmann::json> Get(const ResourceRef& ref, const std::string& ns,
                                             const std::string& name) = 0;
  // The List object (items, metadata.resourceVersion, metadata.continue).
  virtual absl::StatusOr<nlohmann::json> List(const ResourceRef& ref, const std::string& ns,
                                              const ListOptions& options = {}) = 0;
  virtual absl::StatusOr<nlohmann::json> Create(const ResourceRef& ref, const std::string& ns,
                                                const nlohmann::json& object) = 0;
  // PUT of the whole object (metadata.resourceVersion, when set, must match:
  // Aborted on a conflict). subresource "status" writes only the status.
  virtual absl::StatusOr<nlohmann::json> Update(const ResourceRef& ref, const std::string& ns,
                                                const nlohmann::json& object, const std::string& subresource = "") = 0;
  virtual absl::StatusOr<nlohmann::json> Patch(const ResourceRef& ref, const std::string& ns, const std::string& name,
                                               PatchType type, const nlohmann::json& patch,
                                               const std::string& subresource = "") = 0;
  // The deleted object, or the object marked for deletion (finalizers,
  // graceful pod deletion).
  virtual absl::StatusOr<nlohmann::json> Delete(const ResourceRef& ref, const std::string& ns, const std::string& name,
                                                const DeleteOptions& options = {}) = 0;
  // POST to a subresource: pods/binding (a Binding), pods/eviction (an Eviction).
  virtual absl::StatusOr<nlohmann::json> CreateSubresource(const ResourceRef& ref, const std::string& ns,
                                                           const std::string& name, const std::string& subresource,
                                                           const nlohmann::json& body) = 0;
  virtual absl::StatusOr<std::unique_ptr<WatchStream>> Watch(const ResourceRef& ref, const std::string& ns,
                                                             const ListOptions& options, WatchHandler on_event,
                                                             WatchEndHandler on_end) = 0;
};

// The API's failure (HTTP code, metav1.Status reason, message) as a Status:
// NotFound -> kNotFound, AlreadyExists -> kAlreadyExists, Conflict ->
// kAborted, Invalid / BadRequest -> kInvalidArgument, Forbidden ->
// kPermissionDenied, Unauthorized -> kUnauthenticated, Gone / Expired ->
// kOutOfRange, Timeout / TooManyRequests -> kUnavailable, else kInternal.
absl::Status StatusFromApi(int http_code, const std::string& reason, const std::string& message);

// A failed answer's body as a Status: a metav1.Status's code, reason and
// message, or else the body's first 512 characters with `http_code`.
absl::Status StatusFromResponse(int http_code, const std::string& body);

// The Content-Type of a PATCH of `type`.
const char* PatchContentType(PatchType type);

}  // namespace berth::client
