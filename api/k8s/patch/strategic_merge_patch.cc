// Strategic merge patch (application/strategic-merge-patch+json), driven by
// the kind's schema: lists with a patch merge key merge element by element,
// lists with strategy "merge" and no key are unions, other lists are
// replaced. Directives: $patch (replace, merge, delete), $retainKeys,
// $setElementOrder/<list>, $deleteFromPrimitiveList/<list>.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/k8s/kinds/schema.h"
#include "api/k8s/patch/patch.h"

namespace berth::k8s::patch {
namespace {

using json = nlohmann::json;
using kinds::Definition;
using kinds::Field;

constexpr char kPatchDirective[] = "$patch";
constexpr char kRetainKeys[] = "$retainKeys";
constexpr char kSetOrderPrefix[] = "$setElementOrder/";
constexpr char kDeleteFromPrefix[] = "$deleteFromPrimitiveList/";

absl::StatusOr<json> MergeObject(json original, const json& patch, const Definition* def, const std::string& path);

// A patch value with its directives removed, for a key the original lacks.
json StripDirectives(const json& v, const Field* field) {
  if (v.is_object()) {
    json out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& k = it.key();
      if (absl::StartsWith(k, "$")) continue;
      const Definition* def = field ? kinds::ElementDefinition(field->type) : nullptr;
      const Field* child = def ? def->Find(k) : nullptr;
      if (it->is_null()) continue;
      out[k] = StripDirectives(*it, child);
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& e : v) {
      if (e.is_object() && e.contains(kPatchDirective)) {
        if (e[kPatchDirective] == "delete") continue;
        if (e[kPatchDirective] == "replace" && e.size() == 1) continue;
      }
      out.push_back(StripDirectives(e, field));
    }
    return out;
  }
  return v;
}

const json* FindByKey(const json& list, const std::string& key, const json& value, size_t* index) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i].is_object() && list[i].contains(key) && list[i][key] == value) {
      if (index) *index = i;
      return &list[i];
    }
  }
  return nullptr;
}

// Orders `merged` as `order` lists (elements or their merge keys); elements
// the order does not name keep their relative place after the named ones.
json ApplyOrder(const json& merged, const json& order, const std::string& key) {
  json out = json::array();
  std::vector<bool> used(merged.size(), false);
  for (const auto& o : order) {
    for (size_t i = 0; i < merged.size(); ++i) {
      if (used[i]) continue;
      bool same = key.empty() ? merged[i] == o
                              : (o.is_object() && o.contains(key) && merged[i].is_object() &&
                                 merged[i].contains(key) && merged[i][key] == o[key]);
      if (same) {
        out.push_back(merged[i]);
        used[i] = true;
        break;
      }
    }
  }
  for (size_t i = 0; i < merged.size(); ++i) {
    if (!used[i]) out.push_back(merged[i]);
  }
  return out;
}

absl::StatusOr<json> MergeList(json original, const json& patch, const Field& field, const std::string& path) {
  bool merge = absl::StrContains(field.patch_strategy, "merge");
  if (!merge) return StripDirectives(patch, &field);
  const std::string& key = field.patch_merge_key;
  if (!original.is_array()) original = json::array();
  if (key.empty()) {
    // A set of scalars: union, keeping the original order.
    for (const auto& v : patch) {
      if (v.is_object() && v.contains(kPatchDirective)) {
        if (v[kPatchDirective] == "replace") return StripDirectives(patch, &field);
        continue;
      }
      bool present = false;
      for (const auto& o : original) present = present || o == v;
      if (!present) original.push_back(v);
    }
    return original;
  }
  const Definition* element = kinds::ElementDefinition(field.type);
  // {"$patch": "replace"} anywhere in the list: the list becomes the patch's.
  for (const auto& v : patch) {
    if (v.is_object() && v.contains(kPatchDirective) && v[kPatchDirective] == "replace") {
      return StripDirectives(patch, &field);
    }
  }
  for (size_t i = 0; i < patch.size(); ++i) {
    const json& v = patch[i];
    std::string item_path = absl::StrCat(path, "[", i, "]");
    if (!v.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(item_path, ": expected an object in a list merged by \"", key, "\""));
    }
    if (!v.contains(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat(item_path, ": map does not contain declared merge key: ", key));
    }
    size_t index = 0;
    const json* existing = FindByKey(original, key, v[key], &index);
    std::string directive = v.contains(kPatchDirective) && v[kPatchDirective].is_string()
                                ? v[kPatchDirective].get<std::string>() : "";
    if (directive == "delete") {
      while ((existing = FindByKey(original, key, v[key], &index)) != nullptr) {
        original.erase(original.begin() + static_cast<std::ptrdiff_t>(index));
      }
      continue;
    }
    if (existing == nullptr) {
      original.push_back(StripDirectives(v, &field));
      continue;
    }
    auto merged = MergeObject(*existing, v, element, item_path);
    if (!merged.ok()) return merged.status();
    original[index] = std::move(*merged);
  }
  return original;
}

absl::StatusOr<json> MergeObject(json original, const json& patch, const Definition* def, const std::string& path) {
  if (!patch.is_object()) return patch;
  if (auto d = patch.find(kPatchDirective); d != patch.end()) {
    if (*d == "replace") {
      json out = StripDirectives(patch, nullptr);
      return out;
    }
    if (*d == "delete") return json();  // the caller removes the key
    if (*d != "merge") {
      return absl::InvalidArgumentError(absl::StrCat(path.empty() ? "" : path + ": ", "unknown $patch directive ", d->dump()));
    }
  }
  if (!original.is_object()) original = json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& k = it.key();
    if (k == kPatchDirective || k == kRetainKeys || absl::StartsWith(k, kSetOrderPrefix)) continue;
    std::string child_path = path.empty() ? k : path + "." + k;
    if (absl::StartsWith(k, kDeleteFromPrefix)) {
      std::string list = k.substr(sizeof(kDeleteFromPrefix) - 1);
      if (original.contains(list) && original[list].is_array() && it->is_array()) {
        json kept = json::array();
        for (const auto& v : original[list]) {
          bool drop = false;
          for (const auto& d : *it) drop = drop || d == v;
          if (!drop) kept.push_back(v);
        }
        original[list] = std::move(kept);
      }
      continue;
    }
    if (it->is_null()) {
      original.erase(k);
      continue;
    }
    const Field* field = def ? def->Find(k) : nullptr;
    auto existing = original.find(k);
    if (existing == original.end() || existing->is_null()) {
      json v = StripDirectives(*it, field);
      if (it->is_object() && it->contains(kPatchDirective) && (*it)[kPatchDirective] == "delete") continue;
      original[k] = std::move(v);
      continue;
    }
    if (it->is_array() && field != nullptr && field->type.kind == kinds::TypeRef::Kind::kList) {
      auto merged = MergeList(*existing, *it, *field, child_path);
      if (!merged.ok()) return merged.status();
      *existing = std::move(*merged);
    } else if (it->is_object() && existing->is_object()) {
      const Definition* child_def = field ? kinds::ElementDefinition(field->type) : nullptr;
      bool atomic_map = field && field->map_type == "atomic";
      if (atomic_map) {
        *existing = StripDirectives(*it, field);
        continue;
      }
      // A map (map[]T) merges value by value; $patch replace/delete apply to it whole.
      if (field && field->type.kind == kinds::TypeRef::Kind::kMap) {
        if (auto d = it->find(kPatchDirective); d != it->end()) {
          if (*d == "replace") {
            *existing = StripDirectives(*it, field);
            continue;
          }
          if (*d == "delete") {
            original.erase(k);
            continue;
          }
        }
        for (auto v = it->begin(); v != it->end(); ++v) {
          if (absl::StartsWith(v.key(), "$")) continue;
          if (v->is_null()) {
            existing->erase(v.key());
          } else if (existing->contains(v.key()) && v->is_object()) {
            auto merged = MergeObject((*existing)[v.key()], *v, child_def, child_path + "." + v.key());
            if (!merged.ok()) return merged.status();
            (*existing)[v.key()] = std::move(*merged);
          } else {
            (*existing)[v.key()] = StripDirectives(*v, nullptr);
          }
        }
        continue;
      }
      auto merged = MergeObject(*existing, *it, child_def, child_path);
      if (!merged.ok()) return merged.status();
      if (merged->is_null()) {
        original.erase(k);
      } else {
        *existing = std::move(*merged);
      }
    } else {
      *existing = StripDirectives(*it, field);
    }
  }
  // $setElementOrder/<list>: the order of the merged list.
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (!absl::StartsWith(it.key(), kSetOrderPrefix) || !it->is_array()) continue;
    std::string list = it.key().substr(sizeof(kSetOrderPrefix) - 1);
    if (!original.contains(list) || !original[list].is_array()) continue;
    const Field* field = def ? def->Find(list) : nullptr;
    original[list] = ApplyOrder(original[list], *it, field ? field->patch_merge_key : "");
  }
  // $retainKeys: fields not named are cleared (a union type switching member).
  if (auto r = patch.find(kRetainKeys); r != patch.end()) {
    if (!r->is_array()) return absl::InvalidArgumentError(absl::StrCat(path, ": $retainKeys must be a list"));
    for (auto it = original.begin(); it != original.end();) {
      bool keep = false;
      for (const auto& name : *r) keep = keep || name == it.key();
      if (keep) {
        ++it;
      } else {
        it = original.erase(it);
      }
    }
  }
  return original;
}

}  // namespace

absl::StatusOr<json> ApplyStrategicMergePatch(const json& doc, const json& patch, const kinds::KindInfo& kind) {
  if (!patch.is_object()) {
    return absl::InvalidArgumentError("strategic merge patch must be a JSON object, got " + std::string(patch.type_name()));
  }
  const Definition* def = kinds::KindDefinition(kind.group, kind.version, kind.kind);
  auto merged = MergeObject(doc, patch, def, "");
  if (!merged.ok()) return merged.status();
  if (merged->is_null()) return absl::InvalidArgumentError("strategic merge patch may not delete the whole object");
  return merged;
}

}  // namespace berth::k8s::patch
