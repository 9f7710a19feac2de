#include "api/k8s/kinds/kind_registry.h"

#include <cstdio>
#include <cstdlib>

#include "api/k8s/kinds/kind_builders.h"
#include "api/k8s/kinds/schema.h"
#include "api/k8s/kinds/table_cells.h"

namespace berth::k8s::kinds {
namespace {

// Defaults run only on well-typed objects (a value of the wrong type is
// reported by type_errors / validate, never "fixed" by defaulting), and no
// hook lets an exception out into the API server.
void Guard(KindInfo& k) {
  const Definition* def = KindDefinition(k.group, k.version, k.kind);
  auto defaults = k.set_defaults;
  k.set_defaults = [defaults, def](nlohmann::json& obj) {
    if (!obj.is_object() || !TypeErrors(obj, *def).empty()) return;
    try {
      defaults(obj);
    } catch (const nlohmann::json::exception&) {
      // Left as far as it got; validate reports what is wrong.
    }
  };
  auto validate = k.validate;
  k.validate = [validate](const nlohmann::json& obj, const nlohmann::json* old) {
    if (!obj.is_object()) return std::vector<FieldError>{Invalid("", obj, "must be a JSON object")};
    try {
      return validate(obj, old);
    } catch (const nlohmann::json::exception& e) {
      return std::vector<FieldError>{Invalid("", nullptr, std::string("malformed object: ") + e.what())};
    }
  };
  auto cells = k.row_cells;
  size_t columns = k.columns.size();
  k.row_cells = [cells, columns](const nlohmann::json& obj) {
    try {
      return cells(obj);
    } catch (const nlohmann::json::exception&) {
      std::vector<nlohmann::json> row(columns, "");
      return row;
    }
  };
}

std::vector<KindInfo> BuildKinds() {
  const NameRule kSubdomain = NameRule::kDNS1123Subdomain;
  // Discovery data as kube-apiserver 1.32 serves it: short names, the "all"
  // category, subresources.
  std::vector<KindNames> names = {
      {"", "v1", "Namespace", "namespaces", "namespace", false, {"ns"}, {}, {"status", "finalize"},
       NameRule::kDNS1123Label},
      {"", "v1", "Pod", "pods", "pod", true, {"po"}, {"all"},
       {"status", "binding", "log", "exec", "attach", "portforward", "eviction"},
       kSubdomain},
      {"", "v1", "Node", "nodes", "node", false, {"no"}, {}, {"status"}, kSubdomain},
      {"", "v1", "Service", "services", "service", true, {"svc"}, {"all"}, {"status"},
       NameRule::kDNS1035Label},
      {"", "v1", "Endpoints", "endpoints", "endpoints", true, {"ep"}, {}, {}, kSubdomain},
      {"", "v1", "ConfigMap", "configmaps", "configmap", true, {"cm"}, {}, {}, kSubdomain},
      {"", "v1", "Secret", "secrets", "secret", true, {}, {}, {}, kSubdomain},
      {"", "v1", "Event", "events", "event", true, {"ev"}, {}, {}, NameRule::kPathSegment},
      {"", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", true, {"sa"}, {}, {},
       kSubdomain},
      {"apps", "v1", "Deployment", "deployments", "deployment", true, {"deploy"}, {"all"},
       {"status", "scale"}, kSubdomain},
      {"apps", "v1", "ReplicaSet", "replicasets", "replicaset", true, {"rs"}, {"all"},
       {"status", "scale"}, kSubdomain},
      {"apps", "v1", "DaemonSet", "daemonsets", "daemonset", true, {"ds"}, {"all"}, {"status"},
       kSubdomain},
      {"apps", "v1", "StatefulSet", "statefulsets", "statefulset", true, {"sts"}, {"all"},
       {"status", "scale"}, kSubdomain},
      {"batch", "v1", "Job", "jobs", "job", true, {}, {"all"}, {"status"}, kSubdomain},
      {"coordination.k8s.io", "v1", "Lease", "leases", "lease", true, {}, {}, {}, kSubdomain},
      {"discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", true, {}, {},
       {}, kSubdomain},
      {"events.k8s.io", "v1", "Event", "events", "event", true, {"ev"}, {}, {},
       NameRule::kPathSegment},
  };
  std::vector<KindInfo> kinds;
  for (const auto& n : names) {
    KindInfo k = NewKind(n);
    if (k.group.empty()) ConfigureCoreKind(k);
    if (k.group.empty() && k.kind == "Pod") ConfigurePodKind(k);
    if (k.group == "apps" || k.group == "batch") ConfigureWorkloadKind(k);
    if (k.group != "" && k.group != "apps" && k.group != "batch") ConfigureOtherKind(k);
    Guard(k);
    kinds.push_back(std::move(k));
  }
  return kinds;
}

}  // namespace

std::vector<FieldError> TypeFieldErrors(const nlohmann::json& obj, const Definition& def) {
  std::vector<FieldError> out;
  for (const auto& e : TypeErrors(obj, def)) {
    size_t colon = e.find(": ");
    out.push_back({"FieldValueInvalid", e.substr(0, colon), "Invalid value: " + e.substr(colon + 2)});
  }
  return out;
}

void AddValidation(KindInfo& k, std::function<void(const nlohmann::json&, const nlohmann::json*,
                                                   std::vector<FieldError>&)> extra) {
  auto base = k.validate;
  k.validate = [base, extra](const nlohmann::json& obj, const nlohmann::json* old) {
    std::vector<FieldError> errs = base(obj, old);
    extra(obj, old, errs);
    return errs;
  };
}

void AddFields(KindInfo& k, std::function<std::optional<std::string>(const nlohmann::json&,
                                                                     std::string_view)> more) {
  auto base = k.field_value;
  k.field_value = [base, more](const nlohmann::json& obj, std::string_view field) {
    auto v = more(obj, field);
    return v ? v : base(obj, field);
  };
}

TableColumn NameColumn() {
  return {"Name", "string", "name",
          "Name must be unique within a namespace; it identifies the object in URLs.", 0};
}

TableColumn AgeColumn() {
  return {"Age", "string", "",
          "Time since the object was created (metadata.creationTimestamp).", 0};
}

TableColumn Column(std::string name, std::string type, std::string description, int priority) {
  return {std::move(name), std::move(type), "", std::move(description), priority};
}

KindInfo NewKind(const KindNames& n) {
  KindInfo k;
  k.group = n.group;
  k.version = n.version;
  k.kind = n.kind;
  k.list_kind = n.kind + "List";
  k.resource = n.resource;
  k.singular = n.singular;
  k.namespaced = n.namespaced;
  k.short_names = n.short_names;
  k.categories = n.categories;
  k.subresources = n.subresources;
  k.set_defaults = [](nlohmann::json&) {};
  NameRule rule = n.name_rule;
  bool namespaced = n.namespaced;
  const Definition* def = KindDefinition(n.group, n.version, n.kind);
  if (def == nullptr) {
    std::fprintf(stderr, "berth kinds: no schema for %s\n", DefinitionName(n.group, n.version, n.kind).c_str());
    std::abort();
  }
  k.validate = [rule, namespaced, def](const nlohmann::json& obj, const nlohmann::json* old) {
    std::vector<FieldError> errs = TypeFieldErrors(obj, *def);
    for (auto& e : ValidateMetadata(obj, old, rule, namespaced)) errs.push_back(std::move(e));
    return errs;
  };
  k.unknown_fields = [def](const nlohmann::json& obj) { return UnknownFields(obj, *def); };
  k.type_errors = [def](const nlohmann::json& obj) { return TypeErrors(obj, *def); };
  k.columns = {NameColumn(), AgeColumn()};
  k.row_cells = [](const nlohmann::json& obj) {
    return std::vector<nlohmann::json>{StringAt(obj, "metadata.name"),
                                       Age(At(obj, "metadata.creationTimestamp"))};
  };
  k.field_value = [](const nlohmann::json&, std::string_view) -> std::optional<std::string> {
    return std::nullopt;
  };
  return k;
}

const std::vector<KindInfo>& AllKinds() {
  static const std::vector<KindInfo> kKinds = BuildKinds();
  return kKinds;
}

const KindInfo* FindByResource(std::string_view group, std::string_view version,
                               std::string_view resource) {
  for (const auto& k : AllKinds()) {
    if (k.group == group && k.version == version && k.resource == resource) return &k;
  }
  return nullptr;
}

const KindInfo* FindByKind(std::string_view group, std::string_view version, std::string_view kind) {
  for (const auto& k : AllKinds()) {
    if (k.group == group && k.version == version && k.kind == kind) return &k;
  }
  return nullptr;
}

}  // namespace berth::k8s::kinds
