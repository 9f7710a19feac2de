#include "api/k8s/codec.h"

#include <cmath>
#include <cerrno>
#include <cstdlib>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace berth::k8s {
namespace codec_internal {

std::string TypeName(const nlohmann::json& j) {
  if (j.is_number_integer()) return "integer";
  if (j.is_number_float()) return "number";
  return j.type_name();
}

std::string Child(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

void DecodeQuantity(const nlohmann::json& j, Quantity& out, const std::string& path,
                    DecodeState& st) {
  std::string text;
  if (j.is_string()) {
    text = j.get<std::string>();
  } else if (j.is_number()) {
    text = j.dump();
  } else {
    st.errors.push_back(path + ": expected quantity (string or number), got " + TypeName(j));
    return;
  }
  auto q = Quantity::Parse(text);
  if (!q.ok()) {
    st.errors.push_back(path + ": " + std::string(q.status().message()));
    return;
  }
  out = *q;
}

void DecodeIntOrString(const nlohmann::json& j, IntOrString& out, const std::string& path,
                       DecodeState& st) {
  if (j.is_string()) {
    out = IntOrString::Str(j.get<std::string>());
  } else if (j.is_number_integer()) {
    int32_t v = 0;
    DecodeInt(j, v, path, st);
    out = IntOrString::Int(v);
  } else {
    st.errors.push_back(path + ": expected integer or string, got " + TypeName(j));
  }
}

absl::Status Finish(const DecodeState& st) {
  if (!st.errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(st.errors, "; "));
  if (!st.unknown.empty()) {
    std::vector<std::string> parts;
    for (const auto& u : st.unknown) parts.push_back(absl::StrCat("unknown field \"", u, "\""));
    return absl::InvalidArgumentError(
        absl::StrCat("strict decoding error: ", absl::StrJoin(parts, ", ")));
  }
  return absl::OkStatus();
}

}  // namespace codec_internal

nlohmann::json PodToJson(const Pod& pod) {
  Pod copy = pod;
  copy.typeMeta = TypeMeta{"v1", "Pod"};
  return ToJson(copy);
}

std::string EncodePodJson(const Pod& pod, int indent) { return PodToJson(pod).dump(indent); }

std::string EncodePodYaml(const Pod& pod) { return JsonToYaml(PodToJson(pod)); }

absl::StatusOr<Pod> PodFromJson(const nlohmann::json& j, const DecodeOptions& options) {
  if (!j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a JSON object, got ", codec_internal::TypeName(j)));
  }
  auto field = [&](const char* name) -> std::string {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  std::string api_version = field("apiVersion"), kind = field("kind");
  if (kind.empty()) return absl::InvalidArgumentError("Object 'Kind' is missing");
  if (api_version.empty()) return absl::InvalidArgumentError("Object 'apiVersion' is missing");
  if (api_version != "v1" || kind != "Pod") {
    return absl::InvalidArgumentError(absl::StrCat("apiVersion \"", api_version, "\" kind \"", kind,
                                                   "\" is not a Pod (want apiVersion \"v1\" kind \"Pod\")"));
  }
  Pod pod;
  RETURN_IF_ERROR(FromJson(j, &pod, options));
  return pod;
}

absl::StatusOr<Pod> DecodePodJson(std::string_view data, const DecodeOptions& options) {
  nlohmann::json j = nlohmann::json::parse(data.begin(), data.end(), nullptr, false);
  if (j.is_discarded()) return absl::InvalidArgumentError("malformed JSON");
  return PodFromJson(j, options);
}

namespace {

bool AllOf(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsOctal(char c) { return c >= '0' && c <= '7'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// YAML 1.2 core float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsFloat(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  size_t i = 0, int_digits = 0, frac_digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::string_view e = s.substr(i + 1);
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) e.remove_prefix(1);
    return AllOf(e, IsDigit);
  }
  return i == s.size();
}

nlohmann::json ResolvePlainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::string_view unsigned_part = s;
  if (s[0] == '+' || s[0] == '-') unsigned_part.remove_prefix(1);
  if (AllOf(unsigned_part, IsDigit)) {
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0) return static_cast<int64_t>(v);
    return std::strtod(s.c_str(), nullptr);
  }
  if (s.rfind("0o", 0) == 0 && AllOf(std::string_view(s).substr(2), IsOctal)) return static_cast<int64_t>(std::strtoll(s.c_str() + 2, nullptr, 8));
  if (s.rfind("0x", 0) == 0 && AllOf(std::string_view(s).substr(2), IsHex)) return static_cast<int64_t>(std::strtoll(s.c_str() + 2, nullptr, 16));
  if (IsFloat(s)) return std::strtod(s.c_str(), nullptr);
  // .inf and .nan have no JSON form: kept as strings.
  return s;
}

absl::StatusOr<nlohmann::json> NodeToJson(const YAML::Node& node, const std::string& path) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nlohmann::json();
    case YAML::NodeType::Scalar:
      if (node.Tag() == "?") return ResolvePlainScalar(node.Scalar());
      if (node.Tag() == "tag:yaml.org,2002:int" || node.Tag() == "!!int") {
        return ResolvePlainScalar(node.Scalar());
      }
      return node.Scalar();
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (size_t i = 0; i < node.size(); ++i) {
        ASSIGN_OR_RETURN(auto v, NodeToJson(node[i], absl::StrCat(path, "[", i, "]")));
        a.push_back(std::move(v));
      }
      return a;
    }
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!it->first.IsScalar()) {
          return absl::InvalidArgumentError(absl::StrCat(path, ": map keys must be strings"));
        }
        std::string key = it->first.Scalar();
        ASSIGN_OR_RETURN(auto v, NodeToJson(it->second, path.empty() ? key : path + "." + key));
        o[key] = std::move(v);
      }
      return o;
    }
  }
  return nlohmann::json();
}

void EmitJson(YAML::Emitter& out, const nlohmann::json& j) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out << YAML::Key;
      if (ResolvePlainScalar(it.key()).is_string() && !it.key().empty()) out << it.key();
      else out << YAML::DoubleQuoted << it.key();
      out << YAML::Value;
      EmitJson(out, it.value());
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& e : j) EmitJson(out, e);
    out << YAML::EndSeq;
  } else if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s.empty() || !ResolvePlainScalar(s).is_string()) out << YAML::DoubleQuoted << s;
    else out << s;
  } else if (j.is_null()) {
    out << YAML::Null;
  } else {
    out << j.dump();
  }
}

}  // namespace

absl::StatusOr<std::vector<nlohmann::json>> YamlToJson(std::string_view data) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(data));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("malformed YAML: ", e.what()));
  }
  std::vector<nlohmann::json> out;
  for (const auto& d : docs) {
    ASSIGN_OR_RETURN(auto j, NodeToJson(d, ""));
    if (!j.is_null()) out.push_back(std::move(j));
  }
  return out;
}

std::string JsonToYaml(const nlohmann::json& j) {
  YAML::Emitter out;
  EmitJson(out, j);
  return std::string(out.c_str()) + "\n";
}

absl::StatusOr<std::vector<Pod>> DecodePods(std::string_view data, const DecodeOptions& options) {
  std::vector<nlohmann::json> docs;
  size_t first = data.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && data[first] == '{') {
    nlohmann::json j = nlohmann::json::parse(data.begin(), data.end(), nullptr, false);
    if (j.is_discarded()) return absl::InvalidArgumentError("malformed JSON");
    docs.push_back(std::move(j));
  } else {
    ASSIGN_OR_RETURN(docs, YamlToJson(data));
  }
  std::vector<Pod> pods;
  for (size_t d = 0; d < docs.size(); ++d) {
    const auto& j = docs[d];
    std::string where = absl::StrCat("document ", d);
    if (j.is_object() && j.value("kind", "") == "List") {
      std::string av = j.value("apiVersion", "");
      if (av != "v1") {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": apiVersion \"", av, "\" kind \"List\" is not a v1 List"));
      }
      auto items = j.find("items");
      if (items == j.end() || items->is_null()) continue;
      if (!items->is_array()) return absl::InvalidArgumentError(absl::StrCat(where, ": items: expected array"));
      for (size_t i = 0; i < items->size(); ++i) {
        auto pod = PodFromJson((*items)[i], options);
        if (!pod.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": items[", i, "]: ", pod.status().message()));
        }
        pods.push_back(*std::move(pod));
      }
      continue;
    }
    auto pod = PodFromJson(j, options);
    if (!pod.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", pod.status().message()));
    pods.push_back(*std::move(pod));
  }
  return pods;
}

}  // namespace berth::k8s
