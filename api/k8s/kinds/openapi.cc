#include "api/k8s/kinds/openapi.h"

#include <cstdint>
#include <cstdio>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "api/k8s/kinds/kind_registry.h"
#include "api/k8s/kinds/schema.h"

namespace berth::k8s::kinds {
namespace {

using json = nlohmann::json;

constexpr char kIntOrString[] = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
constexpr char kQuantity[] = "io.k8s.apimachinery.pkg.api.resource.Quantity";
constexpr char kTime[] = "io.k8s.apimachinery.pkg.apis.meta.v1.Time";
constexpr char kMicroTime[] = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime";
constexpr char kStatus[] = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
constexpr char kListMeta[] = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";
constexpr char kKubernetesVersion[] = "v1.32.0";

// The named string types the schema uses as primitives.
json ScalarDefinitions() {
  return {
      {kIntOrString, {{"description", "A value that is either an integer or a string (a port number or name, a count or a percentage)."},
                      {"type", "string"}, {"format", "int-or-string"}}},
      {kQuantity, {{"description", "A fixed-point number with a suffix: 500m, 1Gi, 2, 1e3."}, {"type", "string"}}},
      {kTime, {{"description", "An RFC 3339 time in UTC, to the second."}, {"type", "string"}, {"format", "date-time"}}},
      {kMicroTime, {{"description", "An RFC 3339 time in UTC, to the microsecond."}, {"type", "string"}, {"format", "date-time"}}},
      {kStatus, {{"description", "The result of a call that returns no object, or an error."},
                 {"type", "object"},
                 {"properties", {{"apiVersion", {{"type", "string"}}}, {"kind", {{"type", "string"}}},
                                 {"metadata", {{"type", "object"}}}, {"status", {{"type", "string"}}},
                                 {"message", {{"type", "string"}}}, {"reason", {{"type", "string"}}},
                                 {"details", {{"type", "object"}}}, {"code", {{"type", "integer"}, {"format", "int32"}}}}},
                 {"x-kubernetes-group-version-kind", json::array({{{"group", ""}, {"kind", "Status"}, {"version", "v1"}}})}}},
  };
}

struct Dialect {
  std::string ref_prefix;  // "#/definitions/" or "#/components/schemas/"
  bool v3 = false;
};

json Ref(const std::string& name, const Dialect& d) { return {{"$ref", d.ref_prefix + name}}; }

json TypeSchema(const TypeRef& t, const Dialect& d, std::set<std::string>& used) {
  using K = TypeRef::Kind;
  switch (t.kind) {
    case K::kString: return {{"type", "string"}};
    case K::kInt32: return {{"type", "integer"}, {"format", "int32"}};
    case K::kInt64: return {{"type", "integer"}, {"format", "int64"}};
    case K::kNumber: return {{"type", "number"}, {"format", "double"}};
    case K::kBoolean: return {{"type", "boolean"}};
    case K::kBytes: return {{"type", "string"}, {"format", "byte"}};
    case K::kIntOrString: used.insert(kIntOrString); return Ref(kIntOrString, d);
    case K::kQuantity: used.insert(kQuantity); return Ref(kQuantity, d);
    case K::kTime: used.insert(kTime); return Ref(kTime, d);
    case K::kMicroTime: used.insert(kMicroTime); return Ref(kMicroTime, d);
    case K::kFreeForm: return {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
    case K::kRef: used.insert(t.def->name); return Ref(t.def->name, d);
    case K::kList: return {{"type", "array"}, {"items", TypeSchema(*t.element, d, used)}};
    case K::kMap: return {{"type", "object"}, {"additionalProperties", TypeSchema(*t.element, d, used)}};
  }
  return json::object();
}

json FieldSchema(const Field& f, const Dialect& d, std::set<std::string>& used) {
  json s = TypeSchema(f.type, d, used);
  if (s.contains("$ref")) {
    // A description beside $ref: v3 wraps the reference in allOf, as kube-apiserver does.
    if (d.v3) s = {{"allOf", json::array({s})}};
  }
  if (!f.description.empty()) s["description"] = f.description;
  if (!f.patch_strategy.empty()) s["x-kubernetes-patch-strategy"] = f.patch_strategy;
  if (!f.patch_merge_key.empty()) s["x-kubernetes-patch-merge-key"] = f.patch_merge_key;
  if (f.type.kind == TypeRef::Kind::kList) {
    s["x-kubernetes-list-type"] = f.list_type.empty() ? "atomic" : f.list_type;
    if (f.list_type == "map") s["x-kubernetes-list-map-keys"] = f.list_map_keys;
  }
  if (f.map_type == "atomic") s["x-kubernetes-map-type"] = "atomic";
  return s;
}

json DefinitionSchema(const Definition& def, const Dialect& d, std::set<std::string>& used) {
  json s = {{"description", def.description}, {"type", "object"}};
  json props = json::object();
  json required = json::array();
  for (const auto& f : def.fields) {
    props[f.name] = FieldSchema(f, d, used);
    if (f.required) required.push_back(f.name);
  }
  s["properties"] = std::move(props);
  if (!required.empty()) s["required"] = std::move(required);
  return s;
}

json Gvk(const std::string& group, const std::string& version, const std::string& kind) {
  return json::array({{{"group", group}, {"kind", kind}, {"version", version}}});
}

std::string GroupVersionPath(const std::string& group, const std::string& version) {
  return group.empty() ? "api/" + version : "apis/" + group + "/" + version;
}

// Query parameters kubectl looks for before using them.
json QueryParam(const char* name, const char* description, const Dialect& d) {
  json p = {{"name", name}, {"in", "query"}, {"description", description}, {"uniqueItems", true}};
  if (d.v3) {
    p["schema"] = {{"type", "string"}, {"uniqueItems", true}};
  } else {
    p["type"] = "string";
  }
  return p;
}

json WriteParams(const Dialect& d, bool with_force) {
  json params = json::array({
      QueryParam("dryRun", "When present (All), the request is validated and answered but nothing is persisted.", d),
      QueryParam("fieldManager", "The name of the actor making the change, for managedFields.", d),
      QueryParam("fieldValidation", "Ignore, Warn or Strict: what to do with unknown or duplicate fields.", d),
  });
  if (with_force) {
    json force = QueryParam("force", "Server-side apply: take ownership of conflicting fields.", d);
    if (d.v3) force["schema"] = {{"type", "boolean"}, {"uniqueItems", true}};
    else force["type"] = "boolean";
    params.push_back(force);
  }
  return params;
}

json Response(const std::string& schema_name, const Dialect& d) {
  if (d.v3) {
    return {{"200", {{"description", "OK"},
                     {"content", {{"application/json", {{"schema", Ref(schema_name, d)}}}}}}}};
  }
  return {{"200", {{"description", "OK"}, {"schema", Ref(schema_name, d)}}}};
}

json Operation(const std::string& action, const std::string& op_id, const json& gvk, const std::string& response,
               const Dialect& d, json params = json::array()) {
  json op = {{"operationId", op_id},
             {"x-kubernetes-action", action},
             {"x-kubernetes-group-version-kind", gvk[0]},
             {"responses", Response(response, d)}};
  if (!params.empty()) op["parameters"] = std::move(params);
  if (action == "patch") {
    static const json kPatchTypes = json::array({"application/json-patch+json", "application/merge-patch+json",
                                                 "application/strategic-merge-patch+json",
                                                 "application/apply-patch+yaml"});
    if (d.v3) {
      json content = json::object();
      for (const auto& t : kPatchTypes) content[t.get<std::string>()] = {{"schema", {{"type", "object"}}}};
      op["requestBody"] = {{"content", content}, {"required", true}};
    } else {
      op["consumes"] = kPatchTypes;
    }
  } else if (action == "post" || action == "put") {
    if (d.v3) {
      op["requestBody"] = {{"content", {{"application/json", {{"schema", Ref(response, d)}}}}}, {"required", true}};
    } else {
      op["consumes"] = json::array({"application/json", "application/yaml"});
    }
  }
  if (!d.v3) op["produces"] = json::array({"application/json", "application/yaml"});
  return op;
}

std::string Camel(const std::string& s) {
  std::string out;
  bool up = true;
  for (char c : s) {
    if (c == '.' || c == '-' || c == '/') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

// The paths of one kind (collection, item, subresources).
void AddPaths(const KindInfo& k, const Dialect& d, json& paths) {
  std::string base = "/" + GroupVersionPath(k.group, k.version);
  std::string ns_base = k.namespaced ? base + "/namespaces/{namespace}/" + k.resource : base + "/" + k.resource;
  std::string def_name = DefinitionName(k.group, k.version, k.kind);
  std::string list_name = DefinitionName(k.group, k.version, k.list_kind);
  json gvk = Gvk(k.group, k.version, k.kind);
  std::string suffix = Camel(k.group.empty() ? "core" : k.group) + Camel(k.version) + (k.namespaced ? "Namespaced" : "") + k.kind;
  json name_param = {{"name", "name"}, {"in", "path"}, {"required", true}, {"description", "name of the " + k.kind}};
  json ns_param = {{"name", "namespace"}, {"in", "path"}, {"required", true}, {"description", "object name and auth scope"}};
  if (d.v3) {
    name_param["schema"] = {{"type", "string"}};
    ns_param["schema"] = {{"type", "string"}};
  } else {
    name_param["type"] = "string";
    ns_param["type"] = "string";
  }
  json collection_params = k.namespaced ? json::array({ns_param}) : json::array();
  json item_params = collection_params;
  item_params.push_back(name_param);

  paths[ns_base] = {{"parameters", collection_params},
                    {"get", Operation("list", "list" + suffix, gvk, list_name, d)},
                    {"post", Operation("post", "create" + suffix, gvk, def_name, d, WriteParams(d, false))},
                    {"delete", Operation("deletecollection", "deleteCollection" + suffix, gvk, kStatus, d)}};
  paths[ns_base + "/{name}"] = {{"parameters", item_params},
                                {"get", Operation("get", "read" + suffix, gvk, def_name, d)},
                                {"put", Operation("put", "replace" + suffix, gvk, def_name, d, WriteParams(d, false))},
                                {"patch", Operation("patch", "patch" + suffix, gvk, def_name, d, WriteParams(d, true))},
                                {"delete", Operation("delete", "delete" + suffix, gvk, kStatus, d, json::array({QueryParam("dryRun", "When present (All), nothing is persisted.", d)}))}};
  if (k.namespaced) {
    paths[base + "/" + k.resource] = {{"get", Operation("list", "list" + Camel(k.group.empty() ? "core" : k.group) + Camel(k.version) + k.kind + "ForAllNamespaces", gvk, list_name, d)}};
  }
  for (const auto& sub : k.subresources) {
    if (sub != "status" && sub != "scale") continue;
    std::string response = sub == "scale" ? "io.k8s.api.autoscaling.v1.Scale" : def_name;
    json sub_gvk = sub == "scale" ? Gvk("autoscaling", "v1", "Scale") : gvk;
    std::string s = Camel(sub);
    paths[ns_base + "/{name}/" + sub] = {{"parameters", item_params},
                                         {"get", Operation("get", "read" + suffix + s, sub_gvk, response, d)},
                                         {"put", Operation("put", "replace" + suffix + s, sub_gvk, response, d, WriteParams(d, false))},
                                         {"patch", Operation("patch", "patch" + suffix + s, sub_gvk, response, d, WriteParams(d, true))}};
  }
}

// Schemas for `names` and everything they refer to.
json SchemaClosure(std::set<std::string> names, const Dialect& d, const std::map<std::string, json>& extra) {
  json out = json::object();
  json scalars = ScalarDefinitions();
  std::set<std::string> done;
  while (!names.empty()) {
    std::string name = *names.begin();
    names.erase(names.begin());
    if (!done.insert(name).second) continue;
    std::set<std::string> used;
    if (auto it = extra.find(name); it != extra.end()) {
      out[name] = it->second;
      for (const auto& ref : {std::string(kListMeta)}) used.insert(ref);
      const json& items = it->second["properties"]["items"]["items"];
      if (items.contains("$ref")) used.insert(items["$ref"].get<std::string>().substr(d.ref_prefix.size()));
    } else if (scalars.contains(name)) {
      out[name] = scalars[name];
    } else if (const Definition* def = FindDefinition(name)) {
      out[name] = DefinitionSchema(*def, d, used);
    }
    for (const auto& u : used) {
      if (!done.count(u)) names.insert(u);
    }
  }
  // Kinds carry their group-version-kind.
  for (const auto& k : AllKinds()) {
    std::string name = DefinitionName(k.group, k.version, k.kind);
    if (out.contains(name)) out[name]["x-kubernetes-group-version-kind"] = Gvk(k.group, k.version, k.kind);
  }
  if (out.contains("io.k8s.api.autoscaling.v1.Scale")) {
    out["io.k8s.api.autoscaling.v1.Scale"]["x-kubernetes-group-version-kind"] = Gvk("autoscaling", "v1", "Scale");
  }
  return out;
}

json ListMetaProperty(const Dialect& d) {
  json ref = Ref(kListMeta, d);
  json s = d.v3 ? json{{"allOf", json::array({ref})}} : ref;
  s["description"] = "Standard list metadata.";
  return s;
}

// XList definitions: apiVersion, kind, metadata (ListMeta), items.
std::map<std::string, json> ListDefinitions(const Dialect& d) {
  std::map<std::string, json> out;
  for (const auto& k : AllKinds()) {
    std::string item = DefinitionName(k.group, k.version, k.kind);
    out[DefinitionName(k.group, k.version, k.list_kind)] = {
        {"description", k.list_kind + " is a list of " + k.kind + " objects."},
        {"type", "object"},
        {"required", json::array({"items"})},
        {"properties",
         {{"apiVersion", {{"type", "string"}, {"description", "Versioned schema of this list."}}},
          {"kind", {{"type", "string"}, {"description", "Kind of this list."}}},
          {"metadata", ListMetaProperty(d)},
          {"items", {{"type", "array"}, {"description", "The objects.", }, {"items", Ref(item, d)}}}}},
        {"x-kubernetes-group-version-kind", Gvk(k.group, k.version, k.list_kind)}};
  }
  return out;
}

json BuildV2() {
  Dialect d{"#/definitions/", false};
  std::map<std::string, json> lists = ListDefinitions(d);
  std::set<std::string> roots = {kStatus, "io.k8s.api.autoscaling.v1.Scale"};
  json paths = json::object();
  for (const auto& k : AllKinds()) {
    roots.insert(DefinitionName(k.group, k.version, k.kind));
    roots.insert(DefinitionName(k.group, k.version, k.list_kind));
    AddPaths(k, d, paths);
  }
  return {{"swagger", "2.0"},
          {"info", {{"title", "Kubernetes"}, {"version", kKubernetesVersion}}},
          {"paths", paths},
          {"definitions", SchemaClosure(roots, d, lists)}};
}

json BuildV3(const std::string& group, const std::string& version) {
  Dialect d{"#/components/schemas/", true};
  std::map<std::string, json> lists = ListDefinitions(d);
  std::set<std::string> roots = {kStatus};
  json paths = json::object();
  bool any = false;
  for (const auto& k : AllKinds()) {
    if (k.group != group || k.version != version) continue;
    any = true;
    roots.insert(DefinitionName(k.group, k.version, k.kind));
    roots.insert(DefinitionName(k.group, k.version, k.list_kind));
    for (const auto& s : k.subresources) {
      if (s == "scale") roots.insert("io.k8s.api.autoscaling.v1.Scale");
    }
    AddPaths(k, d, paths);
  }
  if (!any) return nullptr;
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", kKubernetesVersion}}},
          {"paths", paths},
          {"components", {{"schemas", SchemaClosure(roots, d, lists)}}}};
}

std::string Hash(const json& doc) {
  // FNV-1a over the canonical text, twice with different offsets: 128 bits,
  // enough to tell documents apart for caching.
  std::string text = doc.dump();
  uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
  for (unsigned char c : text) {
    a = (a ^ c) * 0x100000001b3ULL;
    b = (b ^ c) * 0x100000001b3ULL;
  }
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llX%016llX", static_cast<unsigned long long>(a), static_cast<unsigned long long>(b));
  return buf;
}

struct V3Docs {
  std::map<std::string, json> docs;  // "api/v1" -> document
  std::map<std::string, std::string> hashes;
  json index;
};

const V3Docs& AllV3() {
  static const V3Docs kDocs = [] {
    V3Docs out;
    out.index = {{"paths", json::object()}};
    for (const auto& k : AllKinds()) {
      std::string gv = GroupVersionPath(k.group, k.version);
      if (out.docs.count(gv)) continue;
      out.docs[gv] = BuildV3(k.group, k.version);
      out.hashes[gv] = Hash(out.docs[gv]);
      out.index["paths"][gv] = {{"serverRelativeURL", "/openapi/v3/" + gv + "?hash=" + out.hashes[gv]}};
    }
    return out;
  }();
  return kDocs;
}

}  // namespace

const json& OpenApiV2() {
  static const json kDoc = BuildV2();
  return kDoc;
}

const json& OpenApiV3Paths() { return AllV3().index; }

const json& OpenApiV3(std::string_view group, std::string_view version) {
  static const json kNull;
  auto it = AllV3().docs.find(GroupVersionPath(std::string(group), std::string(version)));
  return it == AllV3().docs.end() ? kNull : it->second;
}

std::string OpenApiV3Hash(std::string_view group, std::string_view version) {
  auto it = AllV3().hashes.find(GroupVersionPath(std::string(group), std::string(version)));
  return it == AllV3().hashes.end() ? "" : it->second;
}

}  // namespace berth::k8s::kinds
