// Request bodies in the Kubernetes protobuf encoding ("k8s\0" + a
// runtime.Unknown envelope), which kubectl's typed commands send (create
// configmap/secret/namespace, auth can-i). Decoded into the JSON wire shape
// for the kinds berth has a protobuf schema for; others are refused (415)
// by name, so the client can be told to send JSON.
#pragma once

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::apiserver {

inline constexpr char kProtobufMediaType[] = "application/vnd.kubernetes.protobuf";

// InvalidArgument for a malformed body, Unimplemented for a kind without a schema.
absl::StatusOr<nlohmann::json> DecodeProtobufBody(absl::string_view body);

}  // namespace berth::apiserver
