// The Table format (meta.k8s.io/v1 Table) that kubectl get asks for with
// "Accept: application/json;as=Table;v=v1;g=meta.k8s.io": the kind's
// columns and one row per object, with the object itself, its metadata
// only (the default) or nothing (includeObject=Object|Metadata|None).
#pragma once

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include <nlohmann/json.hpp>

#include "api/k8s/kinds/kind_registry.h"

namespace berth::apiserver {

enum class MediaType { kJson, kYaml, kTable, kUnsupported };

// The best response type an Accept header allows (JSON when it is empty or
// "*/*"; Table only for meta.k8s.io v1; kUnsupported when nothing fits).
MediaType NegotiateResponse(absl::string_view accept);

// "Object", "Metadata" (default) or "None"; else empty on error.
bool ValidIncludeObject(absl::string_view value);

// One Table for `objects` (each a full object). `list_meta` becomes the
// Table's metadata (resourceVersion, continue).
nlohmann::json ToTable(const k8s::kinds::KindInfo& kind, const std::vector<const nlohmann::json*>& objects,
                       absl::string_view include_object, const nlohmann::json& list_meta);

}  // namespace berth::apiserver
