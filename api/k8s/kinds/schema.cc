#include "api/k8s/kinds/schema.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "api/k8s/kinds/schema_text.h"

namespace berth::k8s::kinds {
namespace {

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "berth kinds schema: %s\n", what.c_str());
  std::abort();
}

// A field's type before references are resolved.
struct PendingType {
  TypeRef* target;
  std::string name;     // unqualified or full definition name
  std::string package;  // package of the definition that uses it
};

class SchemaParser {
 public:
  void Parse(std::string_view std_text) {
    absl::string_view text(std_text.data(), std_text.size());
    std::string package;
    Definition* current = nullptr;
    for (absl::string_view raw : absl::StrSplit(text, '\n')) {
      absl::string_view line = absl::StripTrailingAsciiWhitespace(raw);
      if (line.empty() || absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "#")) continue;
      if (absl::ConsumePrefix(&line, "package ")) {
        package = std::string(line);
        continue;
      }
      if (line[0] != ' ') {
        size_t colon = line.find(':');
        if (colon == absl::string_view::npos) Fail(absl::StrCat("definition line without ':': ", line));
        std::string short_name(line.substr(0, colon));
        std::string full = package + "." + short_name;
        auto [it, fresh] = defs_.emplace(full, Definition{});
        if (!fresh) Fail("duplicate definition " + full);
        current = &it->second;
        current->name = full;
        current->short_name = short_name;
        absl::string_view description = absl::StripAsciiWhitespace(line.substr(colon + 1));
        // "@kind": a top-level kind, with the type and object metadata fields.
        if (absl::ConsumePrefix(&description, "@kind ")) {
          ParseField("apiVersion string Versioned schema of this object, such as v1 or apps/v1.", *current, package);
          ParseField("kind string Kind of this object, such as Pod.", *current, package);
          ParseField("metadata ObjectMeta Standard object metadata.", *current, package);
        }
        current->description = std::string(description);
        continue;
      }
      if (current == nullptr) Fail(absl::StrCat("field before any definition: ", line));
      ParseField(absl::StripLeadingAsciiWhitespace(line), *current, package);
    }
  }

  std::map<std::string, Definition> Finish() {
    // Fields are stored inside defs_ (a std::map: stable addresses), so the
    // pending TypeRefs can be resolved in place.
    std::map<std::string, std::vector<std::string>> by_short;
    for (const auto& [full, def] : defs_) by_short[def.short_name].push_back(full);
    for (auto& p : pending_) {
      std::string full;
      if (p.name.find('.') != std::string::npos) {
        full = p.name;
      } else if (defs_.count(p.package + "." + p.name)) {
        full = p.package + "." + p.name;
      } else if (by_short[p.name].size() == 1) {
        full = by_short[p.name][0];
      } else {
        Fail(absl::StrCat("type ", p.name, " (used in package ", p.package, ") is unknown or ambiguous"));
      }
      auto it = defs_.find(full);
      if (it == defs_.end()) Fail("unknown type " + full);
      p.target->def = &it->second;
    }
    return std::move(defs_);
  }

 private:
  void ParseType(absl::string_view text, TypeRef& out, const std::string& package) {
    using K = TypeRef::Kind;
    if (absl::ConsumePrefix(&text, "[]")) {
      out.kind = K::kList;
      out.element = std::make_shared<TypeRef>();
      ParseType(text, *out.element, package);
      return;
    }
    if (absl::ConsumePrefix(&text, "map[]")) {
      out.kind = K::kMap;
      out.element = std::make_shared<TypeRef>();
      ParseType(text, *out.element, package);
      return;
    }
    static const std::map<absl::string_view, K> kPrims = {
        {"string", K::kString}, {"int32", K::kInt32}, {"int64", K::kInt64}, {"number", K::kNumber},
        {"boolean", K::kBoolean}, {"bytes", K::kBytes}, {"IntOrString", K::kIntOrString},
        {"Quantity", K::kQuantity}, {"Time", K::kTime}, {"MicroTime", K::kMicroTime},
        {"object", K::kFreeForm}};
    if (auto it = kPrims.find(text); it != kPrims.end()) {
      out.kind = it->second;
      return;
    }
    out.kind = K::kRef;
    pending_.push_back({&out, std::string(text), package});
  }

  void ParseField(absl::string_view line, Definition& def, const std::string& package) {
    std::vector<absl::string_view> words = absl::StrSplit(line, absl::MaxSplits(' ', 1));
    Field f;
    f.name = std::string(words[0]);
    absl::string_view rest = words.size() > 1 ? words[1] : "";
    size_t sp = rest.find(' ');
    absl::string_view type = rest.substr(0, sp);
    rest = sp == absl::string_view::npos ? "" : rest.substr(sp + 1);
    if (type.empty()) Fail(absl::StrCat(def.name, ".", f.name, ": no type"));
    if (absl::ConsumeSuffix(&type, "!")) f.required = true;
    // Attributes, then the description.
    while (absl::StartsWith(rest, "@")) {
      size_t end = rest.find(' ');
      absl::string_view attr = rest.substr(1, end == absl::string_view::npos ? absl::string_view::npos : end - 1);
      rest = end == absl::string_view::npos ? "" : rest.substr(end + 1);
      if (absl::ConsumePrefix(&attr, "merge=")) {
        f.patch_strategy = "merge";
        f.patch_merge_key = std::string(attr);
      } else if (attr == "retainKeys") {
        f.patch_strategy = f.patch_strategy.empty() ? "retainKeys" : f.patch_strategy + ",retainKeys";
      } else if (attr == "replace") {
        f.patch_strategy = "replace";
      } else if (absl::ConsumePrefix(&attr, "list=")) {
        f.list_type = std::string(attr);
      } else if (absl::ConsumePrefix(&attr, "keys=")) {
        f.list_map_keys = absl::StrSplit(attr, ',');
      } else if (absl::ConsumePrefix(&attr, "map=")) {
        f.map_type = std::string(attr);
      } else {
        Fail(absl::StrCat(def.name, ".", f.name, ": unknown attribute @", attr));
      }
    }
    f.description = std::string(rest);
    if (f.list_type == "map" && f.list_map_keys.empty()) {
      if (f.patch_merge_key.empty()) Fail(absl::StrCat(def.name, ".", f.name, ": @list=map needs keys"));
      f.list_map_keys = {f.patch_merge_key};
    }
    if (!f.patch_merge_key.empty() && f.list_type.empty()) {
      f.list_type = "map";
      if (f.list_map_keys.empty()) f.list_map_keys = {f.patch_merge_key};
    }
    def.fields.push_back(std::move(f));
    // Types are parsed once every definition is complete (ParseFieldTypes),
    // when no fields vector grows any more and their addresses are final.
    pending_fields_.push_back({&def, def.fields.size() - 1, std::string(type), package});
  }

 public:
  // Types are parsed once every field of every definition is in place.
  void ParseFieldTypes() {
    for (auto& pf : pending_fields_) ParseType(pf.type, pf.def->fields[pf.index].type, pf.package);
  }

 private:
  struct PendingField {
    Definition* def;
    size_t index;
    std::string type;
    std::string package;
  };
  std::map<std::string, Definition> defs_;
  std::vector<PendingType> pending_;
  std::vector<PendingField> pending_fields_;
};

std::map<std::string, Definition> BuildDefinitions() {
  SchemaParser parser;
  for (std::string_view text : {SchemaTextMeta(), SchemaTextPod(), SchemaTextCore(),
                                SchemaTextWorkloads(), SchemaTextOther()}) {
    parser.Parse(text);
  }
  parser.ParseFieldTypes();
  return parser.Finish();
}

std::string Child(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

std::string TypeName(const nlohmann::json& j) {
  if (j.is_number_integer()) return "integer";
  if (j.is_number()) return "number";
  return j.type_name();
}

// Walks `value` against `type`, reporting unknown fields and type mismatches.
struct Walker {
  std::vector<std::string>* unknown = nullptr;
  std::vector<std::string>* type_errors = nullptr;

  void Mismatch(const std::string& path, const char* want, const nlohmann::json& got) {
    if (type_errors) type_errors->push_back(absl::StrCat(path, ": expected ", want, ", got ", TypeName(got)));
  }

  void Value(const nlohmann::json& v, const TypeRef& type, const std::string& path) {
    using K = TypeRef::Kind;
    if (v.is_null()) return;  // null means unset everywhere in the API
    switch (type.kind) {
      case K::kString: case K::kBytes: case K::kTime: case K::kMicroTime:
        if (!v.is_string()) Mismatch(path, "string", v);
        return;
      case K::kInt32: case K::kInt64:
        if (!v.is_number_integer()) Mismatch(path, "integer", v);
        return;
      case K::kNumber:
        if (!v.is_number()) Mismatch(path, "number", v);
        return;
      case K::kBoolean:
        if (!v.is_boolean()) Mismatch(path, "boolean", v);
        return;
      case K::kIntOrString:
        if (!v.is_string() && !v.is_number_integer()) Mismatch(path, "integer or string", v);
        return;
      case K::kQuantity:
        if (!v.is_string() && !v.is_number()) Mismatch(path, "quantity (string or number)", v);
        return;
      case K::kFreeForm:
        return;
      case K::kList:
        if (!v.is_array()) return Mismatch(path, "array", v);
        for (size_t i = 0; i < v.size(); ++i) Value(v[i], *type.element, absl::StrCat(path, "[", i, "]"));
        return;
      case K::kMap:
        if (!v.is_object()) return Mismatch(path, "object", v);
        for (auto it = v.begin(); it != v.end(); ++it) {
          Value(*it, *type.element, absl::StrCat(path, "[", it.key(), "]"));
        }
        return;
      case K::kRef:
        Object(v, *type.def, path);
        return;
    }
  }

  void Object(const nlohmann::json& v, const Definition& def, const std::string& path) {
    if (!v.is_object()) return Mismatch(path.empty() ? std::string("<root>") : path, "object", v);
    for (auto it = v.begin(); it != v.end(); ++it) {
      const Field* f = def.Find(it.key());
      if (f == nullptr) {
        if (unknown) unknown->push_back(Child(path, it.key()));
        continue;
      }
      Value(*it, f->type, Child(path, it.key()));
    }
  }
};

}  // namespace

const Field* Definition::Find(std::string_view field) const {
  for (const auto& f : fields) {
    if (f.name == field) return &f;
  }
  return nullptr;
}

const std::map<std::string, Definition>& Definitions() {
  static const std::map<std::string, Definition> kDefs = BuildDefinitions();
  return kDefs;
}

const Definition* FindDefinition(std::string_view full_name) {
  auto it = Definitions().find(std::string(full_name));
  return it == Definitions().end() ? nullptr : &it->second;
}

std::string DefinitionName(std::string_view group, std::string_view version, std::string_view kind) {
  std::string pkg = group.empty() ? "core" : std::string(group);
  if (absl::EndsWith(pkg, ".k8s.io")) pkg = pkg.substr(0, pkg.size() - 7);
  return "io.k8s.api." + pkg + "." + std::string(version) + "." + std::string(kind);
}

const Definition* KindDefinition(std::string_view group, std::string_view version, std::string_view kind) {
  return FindDefinition(DefinitionName(group, version, kind));
}

std::vector<std::string> UnknownFields(const nlohmann::json& obj, const Definition& def) {
  std::vector<std::string> out;
  Walker w;
  w.unknown = &out;
  w.Object(obj, def, "");
  return out;
}

std::vector<std::string> TypeErrors(const nlohmann::json& obj, const Definition& def) {
  std::vector<std::string> out;
  Walker w;
  w.type_errors = &out;
  w.Object(obj, def, "");
  return out;
}

const Definition* ElementDefinition(const TypeRef& type) {
  if (type.kind == TypeRef::Kind::kRef) return type.def;
  if ((type.kind == TypeRef::Kind::kList || type.kind == TypeRef::Kind::kMap) && type.element) {
    return ElementDefinition(*type.element);
  }
  return nullptr;
}

}  // namespace berth::k8s::kinds
