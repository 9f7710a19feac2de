// The schema of the served kinds: one field tree per definition
// ("io.k8s.api.core.v1.Container"), with types, required fields, list types
// and strategic-merge keys, and a description per field. Strict decoding
// (unknown fields), strategic merge patch, server-side apply's field sets and
// the OpenAPI documents are all derived from it.
//
// The schema is written in a compact text form (schema_*.cc), parsed once:
//
//   package io.k8s.api.core.v1
//   Container: A single application container that runs within a pod.
//     name string! Name of the container, a DNS label unique within the pod.
//     ports []ContainerPort @merge=containerPort @list=map @keys=containerPort,protocol Ports to expose.
//
// Types: string, int32, int64, number, boolean, bytes (base64 string),
// IntOrString, Quantity, Time, MicroTime, object (free-form: any fields),
// a definition name (unqualified: the same package first, then any package
// with a unique definition of that name), []T (list), map[]T (string keys).
// "!" after the type marks a required field. Attributes: @merge=KEY (patch
// strategy merge by KEY; for lists of scalars @merge= with no key),
// @retainKeys, @replace, @list=atomic|set|map, @keys=a,b (list-map keys;
// default the merge key), @map=atomic.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::k8s::kinds {

struct Definition;

struct TypeRef {
  enum class Kind { kString, kInt32, kInt64, kNumber, kBoolean, kBytes, kIntOrString, kQuantity,
                    kTime, kMicroTime, kFreeForm, kRef, kList, kMap };
  Kind kind = Kind::kString;
  const Definition* def = nullptr;     // kRef
  std::shared_ptr<TypeRef> element;    // kList, kMap: element / value type
  bool IsScalar() const { return kind != Kind::kRef && kind != Kind::kList && kind != Kind::kMap && kind != Kind::kFreeForm; }
};

struct Field {
  std::string name;
  TypeRef type;
  bool required = false;
  std::string description;
  // Strategic merge: "merge", "retainKeys", "merge,retainKeys", "replace" or "".
  std::string patch_strategy;
  std::string patch_merge_key;
  // Server-side apply: "atomic", "set", "map" for lists ("" = atomic);
  // for maps "atomic" or "" (granular).
  std::string list_type;
  std::vector<std::string> list_map_keys;
  std::string map_type;
};

struct Definition {
  std::string name;         // "io.k8s.api.core.v1.Container"
  std::string short_name;   // "Container"
  std::string description;
  std::vector<Field> fields;
  const Field* Find(std::string_view field) const;
};

// Every definition, by full name. Aborts at startup if the schema text is
// malformed (a programming error caught by the tests).
const std::map<std::string, Definition>& Definitions();
const Definition* FindDefinition(std::string_view full_name);

// The top-level definition of a kind: "io.k8s.api.<pkg>.<version>.<Kind>".
std::string DefinitionName(std::string_view group, std::string_view version, std::string_view kind);
const Definition* KindDefinition(std::string_view group, std::string_view version, std::string_view kind);

// Every path in `obj` that `def` does not describe, as kube-apiserver names
// them: "spec.containers[0].imagee", "metadata.labelz".
std::vector<std::string> UnknownFields(const nlohmann::json& obj, const Definition& def);

// Type mismatches ("spec.replicas: expected integer, got string").
std::vector<std::string> TypeErrors(const nlohmann::json& obj, const Definition& def);

// The field of `def` named `name`, looking through the element type of a
// list or map: the schema node one step down a path.
const Definition* ElementDefinition(const TypeRef& type);

}  // namespace berth::k8s::kinds
