// What the resource verbs share: one request as RestHandler sees it, its
// body decoded by Content-Type (JSON, YAML, protobuf), its query parameters
// checked (dryRun, fieldManager, fieldValidation, list and delete options)
// and the response written as JSON, YAML or a Status.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/k8s/kinds/kind_registry.h"
#include "controlplane/apiserver/api_errors.h"
#include "controlplane/apiserver/https_server.h"
#include "controlplane/apiserver/request_info.h"
#include "controlplane/apiserver/resource_storage.h"
#include "controlplane/apiserver/table.h"

namespace berth::apiserver {

struct RestRequest {
  const HttpRequest& http;
  ResponseWriter& writer;
  const RequestInfo& info;
  const QueryParams& query;
  MediaType response_type;
};

// Writes a JSON (or YAML) body, or a Status for an error.
void WriteObject(ResponseWriter& writer, int code, const nlohmann::json& body, MediaType type,
                 const Headers& extra = {});
void WriteError(ResponseWriter& writer, const ApiError& error);

// Parses a request body by its Content-Type (JSON or YAML; 415 otherwise,
// 400 when malformed).
Result<nlohmann::json> DecodeBody(const HttpRequest& request);
// JSON or YAML text (one document) as JSON; 400 naming the problem.
Result<nlohmann::json> ParseText(const std::string& body, bool yaml);
// "application/json" from "application/json; charset=utf-8".
std::string MediaTypeOf(const std::string& content_type);
// "v1" or "apps/v1".
std::string ApiVersionOf(const k8s::kinds::KindInfo& kind);

// The apiVersion and kind the body names must be the resource's (or the
// given ones: Scale, Binding); 400 otherwise.
std::optional<ApiError> CheckTypeMeta(const nlohmann::json& obj, const k8s::kinds::KindInfo& kind,
                                      const std::string& want_kind, const std::string& want_version);
std::optional<ApiError> CheckTypeMeta(const nlohmann::json& obj, const k8s::kinds::KindInfo& kind);

// A write's query parameters.
struct WriteParams {
  WriteOptions options;
  std::string field_validation;  // Strict, Warn, Ignore
};
Result<WriteParams> ParseWrite(const RestRequest& r);
// Unknown fields: an error under Strict, Warning headers under Warn.
std::optional<ApiError> CheckUnknownFields(const nlohmann::json& obj, const k8s::kinds::KindInfo& kind,
                                           const std::string& mode, Headers* warnings);

// labelSelector, fieldSelector (supported fields only), limit, continue,
// resourceVersion, resourceVersionMatch.
Result<ListQuery> ParseListQuery(const QueryParams& query, ResourceStorage* storage);
// DeleteOptions from the body and the query.
Result<DeleteOptions> ParseDeleteOptions(const RestRequest& r);
bool IsNamespaceKind(const k8s::kinds::KindInfo& kind);
// A metav1.Status with status Success.
nlohmann::json SuccessStatus(int code);

// PATCH bodies: whether `media` is one of the four patch types, and the
// patched object (its resourceVersion dropped unless the patch set one).
bool IsPatchType(const std::string& media);
Result<nlohmann::json> ApplyPatch(const std::string& media, const std::string& body, const nlohmann::json& current,
                                  const k8s::kinds::KindInfo& kind);

}  // namespace berth::apiserver
