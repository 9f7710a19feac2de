// Field sets as server-side apply keeps them in managedFields (fieldsV1):
// the set of leaf paths an object sets, derived from the kind's schema, with
// the set operations apply needs. Internal to api/k8s/patch.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/k8s/kinds/schema.h"

namespace berth::k8s::patch {

// One path: "f:spec", "k:{\"name\":\"app\"}", "v:\"x\"", "." (the element itself).
using FieldPath = std::vector<std::string>;
using FieldSet = std::set<FieldPath>;

// The paths `obj` sets. Identity and server-owned fields (apiVersion, kind,
// metadata.name/namespace/uid/resourceVersion/generation/creationTimestamp/
// managedFields, status) are left out, as the API server strips them.
FieldSet FieldSetOf(const nlohmann::json& obj, const kinds::Definition* def);

// fieldsV1 tree <-> set.
nlohmann::json ToFieldsV1(const FieldSet& set);
FieldSet FromFieldsV1(const nlohmann::json& tree);

// The value at `path` in `obj`, or nullptr when absent. A "." path is the
// element containing it.
const nlohmann::json* ValueAt(const nlohmann::json& obj, const FieldPath& path);
// Removes the value at `path` (a leaf or an element); false when absent.
bool RemoveAt(nlohmann::json& obj, const FieldPath& path);

// ".spec.containers[name=\"app\"].image", as conflicts are reported.
std::string PathString(const FieldPath& path);

// Whether `path` is `prefix` or below it.
bool HasPrefix(const FieldPath& path, const FieldPath& prefix);

}  // namespace berth::k8s::patch
