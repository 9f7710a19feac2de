#include "controlplane/apiserver/api_errors.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace berth::apiserver {

using nlohmann::json;

nlohmann::json ApiError::ToStatus() const {
  json status = {{"kind", "Status"},
                 {"apiVersion", "v1"},
                 {"metadata", json::object()},
                 {"status", "Failure"},
                 {"message", message}};
  if (!reason.empty()) status["reason"] = reason;
  if (!details.is_null()) status["details"] = details;
  status["code"] = code;
  return status;
}

std::string QualifiedResource(absl::string_view group, absl::string_view resource) {
  if (group.empty()) return std::string(resource);
  return absl::StrCat(resource, ".", group);
}

namespace {

json Details(const ErrorTarget& t, absl::string_view kind) {
  json d = json::object();
  if (!t.name.empty()) d["name"] = t.name;
  if (!t.group.empty()) d["group"] = t.group;
  if (!kind.empty()) d["kind"] = std::string(kind);
  return d;
}

ApiError Make(int code, std::string reason, std::string message, json details = nullptr) {
  ApiError e;
  e.code = code;
  e.reason = std::move(reason);
  e.message = std::move(message);
  e.details = std::move(details);
  return e;
}

}  // namespace

ApiError NotFoundError(const ErrorTarget& t) {
  return Make(404, "NotFound",
              absl::StrCat(QualifiedResource(t.group, t.resource), " \"", t.name, "\" not found"),
              Details(t, t.resource));
}

ApiError AlreadyExistsError(const ErrorTarget& t) {
  return Make(409, "AlreadyExists",
              absl::StrCat(QualifiedResource(t.group, t.resource), " \"", t.name, "\" already exists"),
              Details(t, t.resource));
}

ApiError ConflictError(const ErrorTarget& t, absl::string_view detail) {
  std::string why = detail.empty()
                        ? "the object has been modified; please apply your changes to the latest "
                          "version and try again"
                        : std::string(detail);
  return Make(409, "Conflict",
              absl::StrCat("Operation cannot be fulfilled on ", QualifiedResource(t.group, t.resource),
                           " \"", t.name, "\": ", why),
              Details(t, t.resource));
}

std::string CauseReason(absl::string_view type) {
  if (type.empty()) return "FieldValueInvalid";
  if (absl::StartsWith(type, "FieldValue")) return std::string(type);
  return absl::StrCat("FieldValue", type);
}

ApiError InvalidError(const ErrorTarget& t, const std::vector<k8s::kinds::FieldError>& errors) {
  std::string kind = t.kind.empty() ? t.resource : t.kind;
  std::string qualified = t.group.empty() ? kind : absl::StrCat(kind, ".", t.group);
  std::string message = absl::StrCat(qualified, " \"", t.name, "\" is invalid: ");
  json causes = json::array();
  std::vector<std::string> parts;
  for (const auto& e : errors) {
    causes.push_back({{"reason", CauseReason(e.type)}, {"message", e.message}, {"field", e.field}});
    parts.push_back(e.field.empty() ? e.message : absl::StrCat(e.field, ": ", e.message));
  }
  if (parts.size() == 1) {
    absl::StrAppend(&message, parts[0]);
  } else {
    absl::StrAppend(&message, "[");
    for (size_t i = 0; i < parts.size(); ++i) absl::StrAppend(&message, i ? ", " : "", parts[i]);
    absl::StrAppend(&message, "]");
  }
  json details = Details(t, kind);
  details["causes"] = causes;
  return Make(422, "Invalid", message, details);
}

ApiError BadRequestError(absl::string_view message) {
  return Make(400, "BadRequest", std::string(message));
}

ApiError UnauthorizedError() { return Make(401, "Unauthorized", "Unauthorized"); }

ApiError ForbiddenError(absl::string_view user, absl::string_view verb, const ErrorTarget& t,
                        absl::string_view ns, absl::string_view subresource, absl::string_view why) {
  std::string resource = t.resource;
  std::string message;
  std::string what = QualifiedResource(t.group, t.resource);
  if (!t.name.empty()) absl::StrAppend(&what, " \"", t.name, "\"");
  if (t.resource.empty()) {
    message = absl::StrCat("forbidden: User \"", user, "\" cannot ", verb, " path");
  } else {
    message = absl::StrCat(what, " is forbidden: User \"", user, "\" cannot ", verb, " resource \"",
                           t.resource, subresource.empty() ? "" : "/", subresource,
                           "\" in API group \"", t.group, "\"");
    if (!ns.empty()) {
      absl::StrAppend(&message, " in the namespace \"", ns, "\"");
    } else {
      absl::StrAppend(&message, " at the cluster scope");
    }
  }
  if (!why.empty()) absl::StrAppend(&message, ": ", why);
  return Make(403, "Forbidden", message, Details(t, t.resource));
}

ApiError GoneError(absl::string_view message) { return Make(410, "Expired", std::string(message)); }

ApiError MethodNotAllowedError(absl::string_view method, absl::string_view what) {
  return Make(405, "MethodNotAllowed",
              absl::StrCat("the server does not allow this method on the requested resource: ",
                           method, " ", what));
}

ApiError EntityTooLargeError(size_t limit) {
  return Make(413, "RequestEntityTooLarge",
              absl::StrCat("the request body exceeds the limit of ", limit, " bytes"));
}

ApiError UnsupportedMediaTypeError(absl::string_view content_type) {
  return Make(415, "UnsupportedMediaType",
              absl::StrCat("the body of the request was in an unknown format - accepted media types "
                           "include: application/json, application/yaml",
                           content_type.empty() ? "" : "; got ", content_type));
}

ApiError NotAcceptableError(absl::string_view accept) {
  return Make(406, "NotAcceptable",
              absl::StrCat("only the following media types are accepted: application/json, "
                           "application/yaml; got ",
                           accept));
}

ApiError InternalServerError(absl::string_view message) {
  return Make(500, "InternalError", absl::StrCat("Internal error occurred: ", message));
}

ApiError ServiceUnavailableError(absl::string_view message) {
  return Make(503, "ServiceUnavailable", std::string(message));
}

ApiError FromStoreStatus(const absl::Status& status, const ErrorTarget& t) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return NotFoundError(t);
    case absl::StatusCode::kAlreadyExists:
      return AlreadyExistsError(t);
    case absl::StatusCode::kAborted:
      return ConflictError(t);
    case absl::StatusCode::kOutOfRange:
      return GoneError(absl::StrCat("too old resource version: ", status.message()));
    case absl::StatusCode::kInvalidArgument:
      return BadRequestError(status.message());
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return ServiceUnavailableError(status.message());
    default:
      return InternalServerError(status.message());
  }
}

}  // namespace berth::apiserver
