// Metadata validation shared by every kind (ValidateObjectMeta and
// ValidateObjectMetaUpdate of kube-apiserver), on objects in their JSON shape.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/k8s/kinds/kind_registry.h"

namespace berth::k8s::kinds {

// How a kind's metadata.name is checked (each kind picks kube-apiserver's rule).
enum class NameRule {
  kDNS1123Subdomain,  // pods, nodes, configmaps, deployments, ...
  kDNS1123Label,      // namespaces
  kDNS1035Label,      // services
  kPathSegment,       // events (any name that is a valid path segment)
};

// Messages for one name under `rule` (empty when valid). With `prefix`, the
// value is a generateName prefix: a trailing '-' is allowed.
std::vector<std::string> NameErrors(NameRule rule, const std::string& name, bool prefix = false);

// "a DNS-1035 label must consist of ..." errors, as validation.IsDNS1035Label.
std::vector<std::string> IsDNS1035Label(const std::string& value);

// Every metadata problem of `obj` (name or generateName, namespace required or
// forbidden, labels, annotations, ownerReferences, finalizers, generation)
// and, when `old` is set, the update rules (name, namespace, uid,
// creationTimestamp immutable).
std::vector<FieldError> ValidateMetadata(const nlohmann::json& obj, const nlohmann::json* old,
                                         NameRule rule, bool namespaced);

// FieldError constructors with kube-apiserver's message shapes.
FieldError Required(const std::string& field, const std::string& detail = "");
FieldError Invalid(const std::string& field, const nlohmann::json& value, const std::string& detail);
FieldError NotSupported(const std::string& field, const nlohmann::json& value,
                        const std::vector<std::string>& supported);
FieldError Forbidden(const std::string& field, const std::string& detail);
FieldError Duplicate(const std::string& field, const nlohmann::json& value);

// A value as the API renders it in messages: strings quoted, numbers bare.
std::string RenderValue(const nlohmann::json& value);

}  // namespace berth::k8s::kinds
