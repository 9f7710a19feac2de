#include "controlplane/client/api_client.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace berth::client {

std::string ResourceRef::GroupVersionPath() const {
  return group.empty() ? absl::StrCat("/api/", version) : absl::StrCat("/apis/", group, "/", version);
}

std::string ResourceRef::CollectionPath(const std::string& ns) const {
  if (!namespaced || ns.empty()) return absl::StrCat(GroupVersionPath(), "/", resource);
  return absl::StrCat(GroupVersionPath(), "/namespaces/", ns, "/", resource);
}

std::string ResourceRef::ObjectPath(const std::string& ns, const std::string& name,
                                    const std::string& subresource) const {
  std::string path = absl::StrCat(CollectionPath(namespaced ? ns : ""), "/", name);
  if (!subresource.empty()) absl::StrAppend(&path, "/", subresource);
  return path;
}

namespace resources {
const ResourceRef kPods{"", "v1", "pods", true};
const ResourceRef kNodes{"", "v1", "nodes", false};
const ResourceRef kNamespaces{"", "v1", "namespaces", false};
const ResourceRef kServices{"", "v1", "services", true};
const ResourceRef kEndpoints{"", "v1", "endpoints", true};
const ResourceRef kConfigMaps{"", "v1", "configmaps", true};
const ResourceRef kSecrets{"", "v1", "secrets", true};
const ResourceRef kEvents{"", "v1", "events", true};
const ResourceRef kServiceAccounts{"", "v1", "serviceaccounts", true};
const ResourceRef kDeployments{"apps", "v1", "deployments", true};
const ResourceRef kReplicaSets{"apps", "v1", "replicasets", true};
const ResourceRef kDaemonSets{"apps", "v1", "daemonsets", true};
const ResourceRef kStatefulSets{"apps", "v1", "statefulsets", true};
const ResourceRef kJobs{"batch", "v1", "jobs", true};
const ResourceRef kLeases{"coordination.k8s.io", "v1", "leases", true};
const ResourceRef kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices", true};
}  // namespace resources

absl::Status StatusFromApi(int http_code, const std::string& reason, const std::string& message) {
  std::string text = message.empty() ? absl::StrCat("HTTP ", http_code, " ", reason) : message;
  if (reason == "NotFound" || (reason.empty() && http_code == 404)) return absl::NotFoundError(text);
  if (reason == "AlreadyExists") return absl::AlreadyExistsError(text);
  if (reason == "Conflict" || http_code == 409) return absl::AbortedError(text);
  if (reason == "Invalid" || reason == "BadRequest" || http_code == 422 || http_code == 400) {
    return absl::InvalidArgumentError(text);
  }
  if (reason == "Forbidden" || http_code == 403) return absl::PermissionDeniedError(text);
  if (reason == "Unauthorized" || http_code == 401) return absl::UnauthenticatedError(text);
  if (reason == "Gone" || reason == "Expired" || http_code == 410) return absl::OutOfRangeError(text);
  if (reason == "Timeout" || reason == "TooManyRequests" || http_code == 429 || http_code == 504 ||
      http_code == 503) {
    return absl::UnavailableError(text);
  }
  return absl::InternalError(text);
}

absl::Status StatusFromResponse(int http_code, const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.value("kind", "") == "Status") {
    return StatusFromApi(j.value("code", http_code), j.value("reason", ""), j.value("message", ""));
  }
  return StatusFromApi(http_code, "", std::string(absl::StripAsciiWhitespace(body.substr(0, 512))));
}

const char* PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
  }
  return "application/merge-patch+json";
}

}  // namespace berth::client
