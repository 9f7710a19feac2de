// Server-side apply and managedFields bookkeeping for other writes.
#include <map>

#include "absl/strings/str_cat.h"
#include "api/k8s/kinds/schema.h"
#include "api/k8s/patch/field_set.h"
#include "api/k8s/patch/patch.h"
#include "common/time.h"

namespace berth::k8s::patch {
namespace {

using json = nlohmann::json;
using kinds::Definition;
using kinds::Field;
using kinds::TypeRef;

json MergeValue(const json& live, const json& applied, const TypeRef* type, const Field* field);

json MergeStruct(json live, const json& applied, const Definition* def) {
  if (!live.is_object()) live = json::object();
  for (auto it = applied.begin(); it != applied.end(); ++it) {
    // status is merged too: the API server keeps the stored status for the
    // main resource and takes only status from an apply to /status.
    if (it.key() == "managedFields") continue;
    const Field* f = def ? def->Find(it.key()) : nullptr;
    auto existing = live.find(it.key());
    if (existing == live.end() || it->is_null()) {
      live[it.key()] = *it;
    } else {
      *existing = MergeValue(*existing, *it, f ? &f->type : nullptr, f);
    }
  }
  return live;
}

json MergeValue(const json& live, const json& applied, const TypeRef* type, const Field* field) {
  using K = TypeRef::Kind;
  if (type == nullptr) {
    if (live.is_object() && applied.is_object() && field == nullptr) return MergeStruct(live, applied, nullptr);
    return applied;
  }
  if (type->kind == K::kRef && live.is_object() && applied.is_object()) {
    return MergeStruct(live, applied, type->def);
  }
  if (type->kind == K::kMap && live.is_object() && applied.is_object() && !(field && field->map_type == "atomic")) {
    json out = live;
    for (auto it = applied.begin(); it != applied.end(); ++it) {
      auto existing = out.find(it.key());
      out[it.key()] = existing == out.end() ? *it : MergeValue(*existing, *it, type->element.get(), nullptr);
    }
    return out;
  }
  if (type->kind == K::kList && live.is_array() && applied.is_array() && field != nullptr) {
    if (field->list_type == "set") {
      json out = live;
      for (const auto& v : applied) {
        bool present = false;
        for (const auto& o : out) present = present || o == v;
        if (!present) out.push_back(v);
      }
      return out;
    }
    if (field->list_type == "map") {
      json out = live;
      const Definition* element = kinds::ElementDefinition(*type->element);
      for (const auto& v : applied) {
        bool merged = false;
        for (auto& o : out) {
          bool match = o.is_object() && v.is_object();
          for (const auto& key : field->list_map_keys) {
            match = match && o.value(key, json()) == v.value(key, json());
          }
          if (match) {
            o = MergeStruct(o, v, element);
            merged = true;
            break;
          }
        }
        if (!merged) out.push_back(v);
      }
      return out;
    }
  }
  return applied;
}

std::string NowRfc3339Seconds() {
  std::string t = FormatRfc3339Nano(NowUnixNanos());
  return t.substr(0, 19) + "Z";
}

std::string ApiVersion(const kinds::KindInfo& kind) {
  return kind.group.empty() ? kind.version : kind.group + "/" + kind.version;
}

json Entry(std::string_view manager, const char* operation, const FieldSet& set, const kinds::KindInfo& kind) {
  return {{"manager", std::string(manager)}, {"operation", operation}, {"apiVersion", ApiVersion(kind)},
          {"time", NowRfc3339Seconds()}, {"fieldsType", "FieldsV1"}, {"fieldsV1", ToFieldsV1(set)}};
}

json ManagedFields(const json& obj) {
  if (obj.is_object() && obj.contains("metadata") && obj["metadata"].is_object() &&
      obj["metadata"].contains("managedFields") && obj["metadata"]["managedFields"].is_array()) {
    return obj["metadata"]["managedFields"];
  }
  return json::array();
}

void SetManagedFields(json& obj, json entries) {
  json kept = json::array();
  for (auto& e : entries) {
    if (e.contains("fieldsV1") && e["fieldsV1"].is_object() && !e["fieldsV1"].empty()) kept.push_back(std::move(e));
  }
  if (kept.empty()) {
    if (obj.contains("metadata") && obj["metadata"].is_object()) obj["metadata"].erase("managedFields");
    return;
  }
  obj["metadata"]["managedFields"] = std::move(kept);
}

bool IsEntry(const json& e, std::string_view manager, const char* operation) {
  return e.value("manager", "") == manager && e.value("operation", "") == operation &&
         e.value("subresource", "") == "";
}

}  // namespace

absl::StatusOr<ApplyResult> ServerSideApply(const json& live, const json& applied, std::string_view field_manager,
                                            bool force, const kinds::KindInfo& kind) {
  if (!applied.is_object()) return absl::InvalidArgumentError("apply configuration must be an object");
  if (field_manager.empty()) {
    return absl::InvalidArgumentError("fieldManager is required for apply requests");
  }
  if (applied.value("apiVersion", "") != ApiVersion(kind) || applied.value("kind", "") != kind.kind) {
    return absl::InvalidArgumentError(absl::StrCat("apply configuration must have apiVersion \"", ApiVersion(kind),
                                                   "\" and kind \"", kind.kind, "\""));
  }
  const Definition* def = kinds::KindDefinition(kind.group, kind.version, kind.kind);
  FieldSet applied_set = FieldSetOf(applied, def);
  json base = live.is_null() ? json::object() : live;
  json entries = ManagedFields(base);

  // Conflicts: another manager owns a field this apply sets to a different value.
  ApplyResult result;
  FieldSet conflicting;
  for (const auto& e : entries) {
    if (e.value("manager", "") == field_manager) continue;
    for (const auto& p : FromFieldsV1(e.value("fieldsV1", json::object()))) {
      if (!applied_set.count(p) || p.back() == ".") continue;
      const json* want = ValueAt(applied, p);
      const json* have = ValueAt(base, p);
      if (want != nullptr && (have == nullptr || *have != *want)) {
        result.conflicts.push_back({e.value("manager", ""), PathString(p)});
        conflicting.insert(p);
      }
    }
  }
  if (!result.conflicts.empty() && !force) {
    result.object = base;
    return result;
  }
  result.conflicts.clear();

  // Forced: the other managers lose the conflicting fields.
  FieldSet others;
  FieldSet previous;
  json new_entries = json::array();
  for (auto e : entries) {
    FieldSet owned = FromFieldsV1(e.value("fieldsV1", json::object()));
    if (IsEntry(e, field_manager, "Apply")) {
      previous = owned;
      continue;
    }
    for (const auto& p : conflicting) owned.erase(p);
    others.insert(owned.begin(), owned.end());
    e["fieldsV1"] = ToFieldsV1(owned);
    new_entries.push_back(std::move(e));
  }

  // Fields this manager applied before and no longer sets, owned by nobody
  // else, are removed. Sorted order puts a list element's "." before its
  // fields, so the element goes whole (its key fields still match).
  json merged = base;
  std::vector<FieldPath> dropped;
  for (const auto& p : previous) {
    if (applied_set.count(p)) continue;
    bool shared = false;
    FieldPath owner_path = p;
    if (owner_path.back() == ".") owner_path.pop_back();
    for (const auto& o : others) shared = shared || HasPrefix(o, owner_path);
    for (const auto& a : applied_set) shared = shared || HasPrefix(a, owner_path);
    if (!shared) dropped.push_back(p);
  }
  for (const auto& p : dropped) RemoveAt(merged, p);

  merged = MergeStruct(merged, applied, def);
  new_entries.push_back(Entry(field_manager, "Apply", applied_set, kind));
  SetManagedFields(merged, std::move(new_entries));
  result.object = std::move(merged);
  return result;
}

void RecordUpdateManager(const json* old_obj, json& new_obj, std::string_view field_manager,
                         const kinds::KindInfo& kind) {
  if (field_manager.empty() || !new_obj.is_object()) return;
  const Definition* def = kinds::KindDefinition(kind.group, kind.version, kind.kind);
  FieldSet now = FieldSetOf(new_obj, def);
  FieldSet changed, removed;
  json entries;
  if (old_obj == nullptr || old_obj->is_null()) {
    changed = std::move(now);
    entries = ManagedFields(new_obj);
  } else {
    FieldSet before = FieldSetOf(*old_obj, def);
    for (const auto& p : now) {
      const json* was = ValueAt(*old_obj, p);
      const json* is = ValueAt(new_obj, p);
      if (p.back() == ".") {
        if (was == nullptr) changed.insert(p);
      } else if (was == nullptr || is == nullptr || *was != *is) {
        changed.insert(p);
      }
    }
    for (const auto& p : before) {
      if (!now.count(p)) removed.insert(p);
    }
    entries = ManagedFields(*old_obj);
  }
  if (changed.empty() && removed.empty()) {
    SetManagedFields(new_obj, entries);
    return;
  }
  json out = json::array();
  FieldSet mine;
  for (auto e : entries) {
    FieldSet owned = FromFieldsV1(e.value("fieldsV1", json::object()));
    if (IsEntry(e, field_manager, "Update")) {
      mine = owned;
      continue;
    }
    // Updates take changed fields over from their owners without conflict.
    for (const auto& p : changed) owned.erase(p);
    for (const auto& p : removed) owned.erase(p);
    e["fieldsV1"] = ToFieldsV1(owned);
    out.push_back(std::move(e));
  }
  for (const auto& p : removed) mine.erase(p);
  if (mine.empty()) {
    mine = std::move(changed);
  } else {
    mine.insert(changed.begin(), changed.end());
  }
  out.push_back(Entry(field_manager, "Update", mine, kind));
  SetManagedFields(new_obj, std::move(out));
}

}  // namespace berth::k8s::patch
