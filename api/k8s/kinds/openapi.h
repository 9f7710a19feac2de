// OpenAPI documents for the served kinds, built from the schema (schema.h)
// and the registry: enough for `kubectl explain` (v3, falling back to v2),
// `kubectl apply` (patch merge keys and strategies) and kubectl's checks of
// the dryRun / fieldValidation / fieldManager query parameters.
//
// How the API server serves them (apiserver-core):
//   GET /openapi/v2                 -> OpenApiV2() as application/json. kubectl's
//                                      v2 client asks for protobuf
//                                      (application/com.github.proto-openapi.spec.v2@v1.0+protobuf)
//                                      and cannot read JSON: answer that Accept
//                                      with 406. kubectl 1.32 uses v3 for
//                                      explain and for its dryRun/fieldValidation
//                                      checks, and kubectl apply falls back to
//                                      its compiled-in merge keys for built-in kinds.
//   GET /openapi/v3                 -> OpenApiV3Paths()
//   GET /openapi/v3/api/v1          -> OpenApiV3("", "v1")
//   GET /openapi/v3/apis/apps/v1    -> OpenApiV3("apps", "v1")
// The index's serverRelativeURL values carry "?hash=<OpenApiV3Hash>"; a
// request with that hash may be cached ("Cache-Control: public,
// immutable"). All three are computed once and cached here, so serving them
// costs a copy. ETag: the hash.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace berth::k8s::kinds {

// Swagger 2.0: definitions "io.k8s.api.core.v1.Pod", ... with
// x-kubernetes-group-version-kind, x-kubernetes-patch-merge-key /
// x-kubernetes-patch-strategy, x-kubernetes-list-type / -list-map-keys, and
// paths for each resource with their operations.
const nlohmann::json& OpenApiV2();

// The /openapi/v3 index: {"paths": {"api/v1": {"serverRelativeURL": ...}, ...}}.
const nlohmann::json& OpenApiV3Paths();

// The OpenAPI 3.0 document of one group-version (components.schemas holding
// every schema it refers to); null when the group-version is not served.
const nlohmann::json& OpenApiV3(std::string_view group, std::string_view version);

// The content hash of OpenApiV3(group, version), as used in the index.
std::string OpenApiV3Hash(std::string_view group, std::string_view version);

}  // namespace berth::k8s::kinds
