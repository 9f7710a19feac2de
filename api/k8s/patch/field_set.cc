#include "api/k8s/patch/field_set.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace berth::k8s::patch {
namespace {

using json = nlohmann::json;
using kinds::Definition;
using kinds::Field;
using kinds::TypeRef;

void Collect(const json& v, const TypeRef* type, const Field* field, FieldPath& path, FieldSet& out);

void CollectObject(const json& obj, const Definition* def, FieldPath& path, FieldSet& out) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const Field* f = def ? def->Find(it.key()) : nullptr;
    path.push_back("f:" + it.key());
    Collect(*it, f ? &f->type : nullptr, f, path, out);
    path.pop_back();
  }
}

json KeyOf(const json& element, const std::vector<std::string>& keys) {
  json k = json::object();
  for (const auto& key : keys) {
    if (element.is_object() && element.contains(key)) k[key] = element[key];
  }
  return k;
}

void Collect(const json& v, const TypeRef* type, const Field* field, FieldPath& path, FieldSet& out) {
  using K = TypeRef::Kind;
  if (type == nullptr || v.is_null()) {
    // Unknown to the schema: a struct-like object is walked, anything else a leaf.
    if (v.is_object() && !v.empty() && type == nullptr && field == nullptr) {
      CollectObject(v, nullptr, path, out);
    } else {
      out.insert(path);
    }
    return;
  }
  switch (type->kind) {
    case K::kRef:
      if (!v.is_object() || v.empty()) {
        out.insert(path);
      } else {
        CollectObject(v, type->def, path, out);
      }
      return;
    case K::kMap:
      if (!v.is_object() || v.empty() || (field && field->map_type == "atomic")) {
        out.insert(path);
        return;
      }
      {
        FieldPath dot = path;
        dot.push_back(".");
        out.insert(dot);
        for (auto it = v.begin(); it != v.end(); ++it) {
          path.push_back("f:" + it.key());
          Collect(*it, type->element.get(), nullptr, path, out);
          path.pop_back();
        }
      }
      return;
    case K::kList: {
      std::string list_type = field ? field->list_type : "";
      if (!v.is_array() || v.empty() || list_type.empty() || list_type == "atomic") {
        out.insert(path);
        return;
      }
      for (const auto& e : v) {
        if (list_type == "set") {
          path.push_back("v:" + e.dump());
          out.insert(path);
        } else {
          path.push_back("k:" + KeyOf(e, field->list_map_keys).dump());
          FieldPath dot = path;
          dot.push_back(".");
          out.insert(dot);
          if (e.is_object()) CollectObject(e, kinds::ElementDefinition(*type->element), path, out);
        }
        path.pop_back();
      }
      return;
    }
    default:
      out.insert(path);
      return;
  }
}

bool Stripped(const FieldPath& p) {
  if (p.empty()) return false;
  if (p[0] == "f:apiVersion" || p[0] == "f:kind" || p[0] == "f:status") return true;
  if (p[0] == "f:metadata" && p.size() >= 2) {
    static const std::set<std::string> kServerOwned = {
        "f:name", "f:namespace", "f:uid", "f:resourceVersion", "f:generation", "f:creationTimestamp",
        "f:managedFields", "f:selfLink", "f:deletionTimestamp", "f:deletionGracePeriodSeconds"};
    return kServerOwned.count(p[1]) > 0;
  }
  return p.size() == 1 && p[0] == "f:metadata";
}

// Finds the list element whose key fields equal `key`.
json* FindElement(json& list, const json& key) {
  if (!list.is_array()) return nullptr;
  for (auto& e : list) {
    if (!e.is_object()) continue;
    bool match = true;
    for (auto it = key.begin(); it != key.end(); ++it) match = match && e.contains(it.key()) && e[it.key()] == *it;
    if (match) return &e;
  }
  return nullptr;
}

}  // namespace

FieldSet FieldSetOf(const json& obj, const Definition* def) {
  FieldSet all;
  FieldPath path;
  if (obj.is_object()) CollectObject(obj, def, path, all);
  FieldSet out;
  for (const auto& p : all) {
    if (!Stripped(p)) out.insert(p);
  }
  return out;
}

json ToFieldsV1(const FieldSet& set) {
  json tree = json::object();
  for (const auto& p : set) {
    json* node = &tree;
    for (const auto& pe : p) {
      json& child = (*node)[pe];
      if (!child.is_object()) child = json::object();
      node = &child;
    }
  }
  return tree;
}

namespace {
void Leaves(const json& node, FieldPath& path, FieldSet& out) {
  if (!node.is_object() || node.empty()) {
    if (!path.empty()) out.insert(path);
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    path.push_back(it.key());
    Leaves(*it, path, out);
    path.pop_back();
  }
}
}  // namespace

FieldSet FromFieldsV1(const json& tree) {
  FieldSet out;
  FieldPath path;
  Leaves(tree, path, out);
  return out;
}

const json* ValueAt(const json& obj, const FieldPath& path) {
  const json* cur = &obj;
  for (const auto& pe : path) {
    if (pe == ".") return cur;
    if (absl::StartsWith(pe, "f:")) {
      if (!cur->is_object()) return nullptr;
      auto it = cur->find(pe.substr(2));
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (absl::StartsWith(pe, "k:")) {
      json key = json::parse(pe.substr(2), nullptr, false);
      cur = FindElement(const_cast<json&>(*cur), key);
      if (cur == nullptr) return nullptr;
    } else if (absl::StartsWith(pe, "v:")) {
      json value = json::parse(pe.substr(2), nullptr, false);
      if (!cur->is_array()) return nullptr;
      const json* found = nullptr;
      for (const auto& e : *cur) {
        if (e == value) found = &e;
      }
      if (found == nullptr) return nullptr;
      cur = found;
    } else {
      return nullptr;
    }
  }
  return cur;
}

bool RemoveAt(json& obj, const FieldPath& path) {
  if (path.empty()) return false;
  FieldPath target = path;
  if (target.back() == ".") target.pop_back();  // the element itself
  if (target.empty()) return false;
  FieldPath parent_path(target.begin(), target.end() - 1);
  json* parent = const_cast<json*>(ValueAt(obj, parent_path));
  if (parent == nullptr) return false;
  const std::string& last = target.back();
  if (absl::StartsWith(last, "f:")) {
    return parent->is_object() && parent->erase(last.substr(2)) > 0;
  }
  if (!parent->is_array()) return false;
  json key = json::parse(last.substr(2), nullptr, false);
  for (size_t i = 0; i < parent->size(); ++i) {
    json& e = (*parent)[i];
    bool match;
    if (absl::StartsWith(last, "v:")) {
      match = e == key;
    } else {
      match = e.is_object();
      for (auto it = key.begin(); match && it != key.end(); ++it) match = e.contains(it.key()) && e[it.key()] == *it;
    }
    if (match) {
      parent->erase(i);
      return true;
    }
  }
  return false;
}

std::string PathString(const FieldPath& path) {
  std::string out;
  for (const auto& pe : path) {
    if (pe == ".") continue;
    if (absl::StartsWith(pe, "f:")) {
      out += "." + pe.substr(2);
    } else if (absl::StartsWith(pe, "k:")) {
      json key = json::parse(pe.substr(2), nullptr, false);
      std::vector<std::string> parts;
      if (key.is_object()) {
        for (auto it = key.begin(); it != key.end(); ++it) parts.push_back(it.key() + "=" + it->dump());
      }
      out += "[" + absl::StrJoin(parts, ",") + "]";
    } else if (absl::StartsWith(pe, "v:")) {
      out += "[=" + pe.substr(2) + "]";
    }
  }
  return out;
}

bool HasPrefix(const FieldPath& path, const FieldPath& prefix) {
  return path.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

}  // namespace berth::k8s::patch
