// metav1.Status errors as kube-apiserver writes them: the HTTP code, the
// reason ("NotFound", "Conflict", "Invalid", ...), a message in the API's
// wording and details (name, group, kind, causes naming fields).
#pragma once

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "api/k8s/kinds/kind_registry.h"

namespace berth::apiserver {

// What an error is about: "pods" in group "" named "web".
struct ErrorTarget {
  std::string group;
  std::string resource;  // plural, the details' "kind" for most reasons
  std::string kind;      // "Pod", used by Invalid
  std::string name;
};

struct ApiError {
  int code = 500;
  std::string reason;  // "" for a plain failure
  std::string message;
  nlohmann::json details;  // null when none

  // The metav1.Status object.
  nlohmann::json ToStatus() const;
};

// "pods" or "deployments.apps", as messages name a resource.
std::string QualifiedResource(absl::string_view group, absl::string_view resource);

ApiError NotFoundError(const ErrorTarget& t);
ApiError AlreadyExistsError(const ErrorTarget& t);
// The optimistic-concurrency conflict; `detail` defaults to "the object has
// been modified; please apply your changes to the latest version and try again".
ApiError ConflictError(const ErrorTarget& t, absl::string_view detail = {});
// 422 with one cause per field error.
ApiError InvalidError(const ErrorTarget& t, const std::vector<k8s::kinds::FieldError>& errors);
ApiError BadRequestError(absl::string_view message);
ApiError UnauthorizedError();
ApiError ForbiddenError(absl::string_view user, absl::string_view verb, const ErrorTarget& t,
                        absl::string_view ns, absl::string_view subresource = {},
                        absl::string_view why = {});
// 410 Expired: "too old resource version: 5 (10)".
ApiError GoneError(absl::string_view message);
ApiError MethodNotAllowedError(absl::string_view method, absl::string_view what);
ApiError EntityTooLargeError(size_t limit);
ApiError UnsupportedMediaTypeError(absl::string_view content_type);
ApiError NotAcceptableError(absl::string_view accept);
ApiError InternalServerError(absl::string_view message);
ApiError ServiceUnavailableError(absl::string_view message);

// A store error mapped as the store documents (NotFound 404, AlreadyExists
// and Aborted 409, OutOfRange 410, InvalidArgument 400, Unavailable 503).
ApiError FromStoreStatus(const absl::Status& status, const ErrorTarget& t);

// The cause reason of a FieldError's type ("FieldValueRequired", ...).
std::string CauseReason(absl::string_view field_error_type);

}  // namespace berth::apiserver
