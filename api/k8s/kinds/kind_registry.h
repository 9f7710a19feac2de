// The kinds the control plane serves, described once: names for discovery,
// scope, subresources, defaulting, validation, Table columns, field selectors
// and the schema that strict decoding, strategic merge and OpenAPI are built
// from. The API server (controlplane/apiserver) serves whatever is registered
// here and knows nothing kind-specific itself.
//
// Objects are handled as JSON (nlohmann::json) in their wire shape.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::k8s::kinds {

// One problem with one field, as a metav1.StatusCause: type is the API's
// cause type ("FieldValueRequired", "FieldValueInvalid", "FieldValueNotSupported",
// "FieldValueDuplicate", "FieldValueTooLong", "FieldValueForbidden").
struct FieldError {
  std::string type;
  std::string field;    // "spec.containers[0].name"
  std::string message;  // "Required value", "Invalid value: \"A\": a lowercase RFC 1123 ..."
};

// A Table column (meta.k8s.io/v1 TableColumnDefinition). priority 0 columns
// are what `kubectl get` shows; priority 1 are added by `-o wide`.
struct TableColumn {
  std::string name;         // "NAME"
  std::string type;         // "string", "integer", "date"
  std::string format;       // "name" for the name column, else ""
  std::string description;
  int priority = 0;
};

struct KindInfo {
  std::string group;     // "" for core, "apps", "batch", ...
  std::string version;   // "v1"
  std::string kind;      // "Pod"
  std::string list_kind; // "PodList"
  std::string resource;  // plural: "pods"
  std::string singular;  // "pod"
  bool namespaced = true;
  std::vector<std::string> short_names;   // {"po"}
  std::vector<std::string> categories;    // {"all"}
  // Subresources served besides the object itself: "status", "scale",
  // "binding", "log", "exec", "attach", "portforward", "finalize".
  std::vector<std::string> subresources;
  // The main resource's verbs for discovery.
  std::vector<std::string> verbs = {"create", "delete", "deletecollection", "get",
                                    "list", "patch", "update", "watch"};

  // Sets the API's defaults in place (after decoding, before validation).
  std::function<void(nlohmann::json& obj)> set_defaults;
  // Validation for create (old == nullptr) or update (old is the stored
  // object). Metadata (name, namespace, labels, ...) is validated here too.
  std::function<std::vector<FieldError>(const nlohmann::json& obj,
                                        const nlohmann::json* old)> validate;
  // Paths of fields the schema does not know ("spec.containers[0].imagee"),
  // for fieldValidation=Strict (and Warn).
  std::function<std::vector<std::string>(const nlohmann::json& obj)> unknown_fields;
  // Values of the wrong JSON type for the schema ("spec.replicas: expected
  // integer, got string"). kube-apiserver refuses these while decoding (400
  // BadRequest) before defaulting; validate() reports them too, as
  // FieldValueInvalid, so a caller that skips this check still stores nothing bad.
  std::function<std::vector<std::string>(const nlohmann::json& obj)> type_errors;

  // Table output: columns, and one row's cells in column order.
  std::vector<TableColumn> columns;
  std::function<std::vector<nlohmann::json>(const nlohmann::json& obj)> row_cells;

  // Field selector support beyond metadata.name and metadata.namespace
  // (which every kind has): the value of `field` ("spec.nodeName",
  // "status.phase"), or nullopt when the kind does not support that field.
  std::function<std::optional<std::string>(const nlohmann::json& obj,
                                           std::string_view field)> field_value;
};

// Every served kind, in a stable order (discovery lists them in it).
const std::vector<KindInfo>& AllKinds();

// nullptr when not served.
const KindInfo* FindByResource(std::string_view group, std::string_view version,
                               std::string_view resource);
const KindInfo* FindByKind(std::string_view group, std::string_view version,
                           std::string_view kind);

}  // namespace berth::k8s::kinds
