#include "api/k8s/kinds/meta_validation.h"

#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/k8s/validation.h"

namespace berth::k8s::kinds {
namespace {

constexpr char kDNS1035Fmt[] = "[a-z]([-a-z0-9]*[a-z0-9])?";
constexpr char kDNS1035Msg[] =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

const nlohmann::json& Member(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string StringMember(const nlohmann::json& obj, const char* key) {
  const nlohmann::json& v = Member(obj, key);
  return v.is_string() ? v.get<std::string>() : "";
}

void Each(std::vector<FieldError>& out, const std::string& field, const std::string& value,
          const std::vector<std::string>& msgs) {
  for (const auto& m : msgs) out.push_back(Invalid(field, value, m));
}

void ValidateStringMap(const nlohmann::json& m, const std::string& field, bool labels,
                       std::vector<FieldError>& out) {
  if (m.is_null()) return;
  if (!m.is_object()) {
    out.push_back(Invalid(field, m, "must be a map of string keys to string values"));
    return;
  }
  size_t total = 0;
  for (auto it = m.begin(); it != m.end(); ++it) {
    const std::string& k = it.key();
    if (!it->is_string()) {
      out.push_back(Invalid(field + "[" + k + "]", *it, "must be a string"));
      continue;
    }
    const std::string v = it->get<std::string>();
    if (labels) {
      Each(out, field, k, IsQualifiedName(k));
      Each(out, field, v, IsValidLabelValue(v));
    } else {
      std::string lower = k;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      Each(out, field, k, IsQualifiedName(lower));
      total += k.size() + v.size();
    }
  }
  if (total > 256 * 1024) {
    out.push_back({"FieldValueTooLong", field, field + ": Too long: may not be more than 262144 bytes"});
  }
}

void ValidateOwnerReferences(const nlohmann::json& refs, std::vector<FieldError>& out) {
  if (refs.is_null()) return;
  const std::string base = "metadata.ownerReferences";
  if (!refs.is_array()) {
    out.push_back(Invalid(base, refs, "must be a list"));
    return;
  }
  int controllers = 0;
  for (size_t i = 0; i < refs.size(); ++i) {
    const nlohmann::json& r = refs[i];
    std::string p = absl::StrCat(base, "[", i, "]");
    std::string api_version = StringMember(r, "apiVersion");
    if (api_version.empty()) out.push_back(Invalid(p + ".apiVersion", api_version, "version must not be empty"));
    if (StringMember(r, "kind").empty()) out.push_back(Invalid(p + ".kind", "", "kind must not be empty"));
    if (StringMember(r, "name").empty()) out.push_back(Invalid(p + ".name", "", "name must not be empty"));
    if (StringMember(r, "uid").empty()) out.push_back(Invalid(p + ".uid", "", "uid must not be empty"));
    const nlohmann::json& controller = Member(r, "controller");
    if (controller.is_boolean() && controller.get<bool>()) ++controllers;
  }
  if (controllers > 1) {
    out.push_back(Invalid(base, refs, "Only one reference can have Controller set to true"));
  }
}

void ValidateFinalizers(const nlohmann::json& finalizers, std::vector<FieldError>& out) {
  if (finalizers.is_null()) return;
  const std::string base = "metadata.finalizers";
  if (!finalizers.is_array()) {
    out.push_back(Invalid(base, finalizers, "must be a list of strings"));
    return;
  }
  for (size_t i = 0; i < finalizers.size(); ++i) {
    std::string p = absl::StrCat(base, "[", i, "]");
    if (!finalizers[i].is_string()) {
      out.push_back(Invalid(p, finalizers[i], "must be a string"));
      continue;
    }
    std::string f = finalizers[i].get<std::string>();
    Each(out, p, f, IsQualifiedName(f));
  }
}

}  // namespace

std::string RenderValue(const nlohmann::json& value) {
  if (value.is_string()) {
    std::string out = "\"";
    for (char c : value.get_ref<const std::string&>()) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  }
  if (value.is_null()) return "null";
  if (value.is_number() || value.is_boolean()) return value.dump();
  // Go's %#v of a composite is unreadable; the JSON is what a client can use.
  return value.dump();
}

FieldError Required(const std::string& field, const std::string& detail) {
  std::string msg = "Required value";
  if (!detail.empty()) msg += ": " + detail;
  return {"FieldValueRequired", field, msg};
}

FieldError Invalid(const std::string& field, const nlohmann::json& value, const std::string& detail) {
  std::string msg = "Invalid value: " + RenderValue(value);
  if (!detail.empty()) msg += ": " + detail;
  return {"FieldValueInvalid", field, msg};
}

FieldError NotSupported(const std::string& field, const nlohmann::json& value,
                        const std::vector<std::string>& supported) {
  std::vector<std::string> q;
  for (const auto& s : supported) q.push_back(RenderValue(s));
  return {"FieldValueNotSupported", field,
          "Unsupported value: " + RenderValue(value) + ": supported values: " + absl::StrJoin(q, ", ")};
}

FieldError Forbidden(const std::string& field, const std::string& detail) {
  return {"FieldValueForbidden", field, "Forbidden: " + detail};
}

FieldError Duplicate(const std::string& field, const nlohmann::json& value) {
  return {"FieldValueDuplicate", field, "Duplicate value: " + RenderValue(value)};
}

std::vector<std::string> IsDNS1035Label(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back("must be no more than 63 characters");
  static const std::regex kRe(kDNS1035Fmt);
  if (!std::regex_match(value, kRe)) errs.push_back(kDNS1035Msg);
  return errs;
}

std::vector<std::string> NameErrors(NameRule rule, const std::string& name, bool prefix) {
  std::string value = name;
  // A generateName prefix gets a random suffix: a trailing '-' is fine there.
  if (prefix && !value.empty() && value.back() == '-') value.pop_back();
  if (prefix && value.empty()) return {};
  switch (rule) {
    case NameRule::kDNS1123Subdomain:
      return IsDNS1123Subdomain(value);
    case NameRule::kDNS1123Label:
      return IsDNS1123Label(value);
    case NameRule::kDNS1035Label:
      return IsDNS1035Label(value);
    case NameRule::kPathSegment: {
      if (value == "." || value == "..") return {"may not be '" + value + "'"};
      for (const char* bad : {"/", "%"}) {
        if (value.find(bad) != std::string::npos) return {std::string("may not contain '") + bad + "'"};
      }
      return {};
    }
  }
  return {};
}

std::vector<FieldError> ValidateMetadata(const nlohmann::json& obj, const nlohmann::json* old,
                                         NameRule rule, bool namespaced) {
  std::vector<FieldError> out;
  const nlohmann::json& meta = Member(obj, "metadata");
  if (!meta.is_null() && !meta.is_object()) {
    out.push_back(Invalid("metadata", meta, "must be an object"));
    return out;
  }
  std::string name = StringMember(meta, "name");
  std::string generate_name = StringMember(meta, "generateName");
  if (!generate_name.empty()) Each(out, "metadata.generateName", generate_name, NameErrors(rule, generate_name, true));
  // The REST layer makes a name from generateName before validating; either
  // one is enough here.
  if (name.empty()) {
    if (generate_name.empty()) out.push_back(Required("metadata.name", "name or generateName is required"));
  } else {
    Each(out, "metadata.name", name, NameErrors(rule, name));
  }
  std::string ns = StringMember(meta, "namespace");
  if (namespaced) {
    if (ns.empty()) {
      out.push_back(Required("metadata.namespace"));
    } else {
      Each(out, "metadata.namespace", ns, IsDNS1123Label(ns));
    }
  } else if (!ns.empty()) {
    out.push_back(Forbidden("metadata.namespace", "not allowed on this type"));
  }
  const nlohmann::json& generation = Member(meta, "generation");
  if (generation.is_number_integer() && generation.get<int64_t>() < 0) {
    out.push_back(Invalid("metadata.generation", generation, "must be greater than or equal to 0"));
  }
  ValidateStringMap(Member(meta, "labels"), "metadata.labels", true, out);
  ValidateStringMap(Member(meta, "annotations"), "metadata.annotations", false, out);
  ValidateOwnerReferences(Member(meta, "ownerReferences"), out);
  ValidateFinalizers(Member(meta, "finalizers"), out);

  if (old != nullptr) {
    const nlohmann::json& old_meta = Member(*old, "metadata");
    for (const char* key : {"name", "namespace", "uid", "creationTimestamp"}) {
      const nlohmann::json& now_value = Member(meta, key);
      const nlohmann::json& was = Member(old_meta, key);
      // An update that leaves the field out keeps the stored value (the REST
      // layer copies it); only a different value is a change.
      if (now_value.is_null() || now_value == was) continue;
      out.push_back(Invalid(std::string("metadata.") + key, now_value, "field is immutable"));
    }
  }
  return out;
}

}  // namespace berth::k8s::kinds
