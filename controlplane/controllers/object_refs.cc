#include "controlplane/controllers/object_refs.h"

#include "absl/strings/str_cat.h"

namespace berth::controllers {

using nlohmann::json;

namespace {
std::string MetaString(const json& obj, const char* field) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return "";
  auto it = meta->find(field);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}
}  // namespace

std::string KeyOf(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : absl::StrCat(ns, "/", name);
}

std::string KeyOf(const json& obj) { return KeyOf(NamespaceOf(obj), NameOf(obj)); }

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  size_t slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

std::string NameOf(const json& obj) { return MetaString(obj, "name"); }
std::string NamespaceOf(const json& obj) { return MetaString(obj, "namespace"); }
std::string UidOf(const json& obj) { return MetaString(obj, "uid"); }
std::string ResourceVersionOf(const json& obj) { return MetaString(obj, "resourceVersion"); }
bool IsBeingDeleted(const json& obj) { return !MetaString(obj, "deletionTimestamp").empty(); }

scheduler::Labels LabelsOf(const json& obj) {
  scheduler::Labels labels;
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return labels;
  auto it = meta->find("labels");
  if (it == meta->end() || !it->is_object()) return labels;
  for (const auto& [k, v] : it->items()) {
    if (v.is_string()) labels.emplace(k, v.get<std::string>());
  }
  return labels;
}

std::optional<json> ControllerRefOf(const json& obj) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return std::nullopt;
  auto refs = meta->find("ownerReferences");
  if (refs == meta->end() || !refs->is_array()) return std::nullopt;
  for (const auto& ref : *refs) {
    if (ref.is_object() && ref.value("controller", false)) return ref;
  }
  return std::nullopt;
}

json NewControllerRef(const json& owner, const std::string& api_version, const std::string& kind) {
  return {{"apiVersion", api_version}, {"kind", kind},         {"name", NameOf(owner)},
          {"uid", UidOf(owner)},       {"controller", true}, {"blockOwnerDeletion", true}};
}

std::vector<json> InNamespace(std::vector<json> all, const std::string& ns) {
  std::vector<json> out;
  for (json& obj : all) {
    if (NamespaceOf(obj) == ns) out.push_back(std::move(obj));
  }
  return out;
}

absl::Time ParseApiTime(const json& value) {
  if (!value.is_string()) return absl::InfinitePast();
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, value.get<std::string>(), &t, &err)) return absl::InfinitePast();
  return t;
}

std::string FormatApiTime(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

}  // namespace berth::controllers
