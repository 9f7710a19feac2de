// Pod codecs: JSON and YAML, single objects, v1 Lists and multi-document streams.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "api/k8s/json_codec.h"
#include "api/k8s/pod.h"

namespace berth::k8s {

// The pod as the API server serves it: apiVersion v1, kind Pod, empty fields omitted.
nlohmann::json PodToJson(const Pod& pod);
std::string EncodePodJson(const Pod& pod, int indent = -1);
std::string EncodePodYaml(const Pod& pod);

// One pod from a JSON object. apiVersion must be "v1" and kind "Pod"; the error
// names what was found. Unknown fields: see DecodeOptions.
absl::StatusOr<Pod> PodFromJson(const nlohmann::json& j, const DecodeOptions& options = {});
absl::StatusOr<Pod> DecodePodJson(std::string_view data, const DecodeOptions& options = {});

// Every pod in `data`: a JSON object, a JSON v1 List ({"kind":"List","items":[...]}),
// or a YAML stream of one or more documents (each a Pod or a List; empty documents
// skipped). Errors name the document (0-based) and, for list items, the item.
absl::StatusOr<std::vector<Pod>> DecodePods(std::string_view data,
                                            const DecodeOptions& options = {});

// YAML text to JSON values, one per non-empty document. Plain scalars resolve as
// YAML 1.2's core schema does (null, true/false, integers, floats); quoted ones
// stay strings.
absl::StatusOr<std::vector<nlohmann::json>> YamlToJson(std::string_view data);
// A JSON value as block YAML; strings that would read back as another type are quoted.
std::string JsonToYaml(const nlohmann::json& j);

}  // namespace berth::k8s
