#include "controlplane/apiserver/table.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace berth::apiserver {

using nlohmann::json;

MediaType NegotiateResponse(absl::string_view accept) {
  if (absl::StripAsciiWhitespace(accept).empty()) return MediaType::kJson;
  for (absl::string_view choice : absl::StrSplit(accept, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(choice, ';');
    std::string type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
    std::string as, g, v;
    for (size_t i = 1; i < parts.size(); ++i) {
      absl::string_view p = absl::StripAsciiWhitespace(parts[i]);
      size_t eq = p.find('=');
      if (eq == absl::string_view::npos) continue;
      absl::string_view key = p.substr(0, eq), value = p.substr(eq + 1);
      if (key == "as") as = std::string(value);
      if (key == "g") g = std::string(value);
      if (key == "v") v = std::string(value);
    }
    if (as == "Table") {
      if (g == "meta.k8s.io" && v == "v1" && (type == "application/json" || type == "*/*")) return MediaType::kTable;
      continue;  // v1beta1 or protobuf tables: try the next choice
    }
    if (!as.empty()) continue;  // PartialObjectMetadata and other forms
    if (type == "application/json" || type == "*/*" || type == "application/*") return MediaType::kJson;
    if (type == "application/yaml") return MediaType::kYaml;
  }
  return MediaType::kUnsupported;
}

bool ValidIncludeObject(absl::string_view value) {
  return value.empty() || value == "Object" || value == "Metadata" || value == "None";
}

json ToTable(const k8s::kinds::KindInfo& kind, const std::vector<const json*>& objects,
             absl::string_view include_object, const json& list_meta) {
  json columns = json::array();
  bool default_columns = kind.columns.empty() || !kind.row_cells;
  if (default_columns) {
    columns.push_back({{"name", "Name"}, {"type", "string"}, {"format", "name"},
                       {"description", "Name must be unique within a namespace."}, {"priority", 0}});
    columns.push_back({{"name", "Created At"}, {"type", "date"}, {"format", ""},
                       {"description", "CreationTimestamp is the time the object was created."},
                       {"priority", 0}});
  } else {
    for (const auto& c : kind.columns) {
      columns.push_back({{"name", c.name}, {"type", c.type}, {"format", c.format},
                         {"description", c.description}, {"priority", c.priority}});
    }
  }
  json rows = json::array();
  std::string api_version = kind.group.empty() ? kind.version : kind.group + "/" + kind.version;
  for (const json* obj : objects) {
    json row;
    if (default_columns) {
      const json& meta = obj->value("metadata", json::object());
      row["cells"] = {meta.value("name", ""), meta.value("creationTimestamp", "")};
    } else {
      row["cells"] = kind.row_cells(*obj);
    }
    if (include_object == "Object") {
      json full = *obj;
      full["kind"] = kind.kind;
      full["apiVersion"] = api_version;
      row["object"] = std::move(full);
    } else if (include_object != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", obj->value("metadata", json::object())}};
    }
    rows.push_back(std::move(row));
  }
  return {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", list_meta},
          {"columnDefinitions", columns}, {"rows", rows}};
}

}  // namespace berth::apiserver
