#include "runtime-shim/image/registry/manifest.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "runtime-shim/image/digest.h"
#include "runtime-shim/image/image_archive.h"

namespace berth::image::registry {
namespace {

using nlohmann::json;

absl::StatusOr<std::string> StringField(const json& obj, const char* name, const std::string& where, bool required) {
  auto it = obj.find(name);
  if (it == obj.end()) {
    if (required) return absl::InvalidArgumentError(absl::StrCat(where, ": missing field '", name, "'"));
    return std::string();
  }
  if (!it->is_string()) return absl::InvalidArgumentError(absl::StrCat(where, ": field '", name, "' is not a string"));
  return it->get<std::string>();
}

absl::StatusOr<Descriptor> ParseDescriptor(const json& obj, const std::string& where) {
  if (!obj.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, " is not an object"));
  Descriptor d;
  ASSIGN_OR_RETURN(d.media_type, StringField(obj, "mediaType", where, false));
  ASSIGN_OR_RETURN(d.digest, StringField(obj, "digest", where, true));
  RETURN_IF_ERROR(DigestHex(d.digest, absl::StrCat(where, ".digest")).status());
  auto size = obj.find("size");
  if (size == obj.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": field 'size' is missing or not a non-negative integer"));
  }
  d.size = size->get<int64_t>();
  auto platform = obj.find("platform");
  if (platform != obj.end()) {
    if (!platform->is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ".platform is not an object"));
    std::string pw = absl::StrCat(where, ".platform");
    ASSIGN_OR_RETURN(d.platform.os, StringField(*platform, "os", pw, false));
    ASSIGN_OR_RETURN(d.platform.architecture, StringField(*platform, "architecture", pw, false));
    ASSIGN_OR_RETURN(d.platform.variant, StringField(*platform, "variant", pw, false));
  }
  return d;
}

std::string DefaultVariant(const std::string& arch) { return arch == "arm64" ? "v8" : ""; }

}  // namespace

std::string ManifestAccept() {
  return absl::StrCat(kOciIndex, ", ", kOciManifest, ", ", kDockerManifestList, ", ", kDockerManifest);
}

std::string Platform::String() const {
  std::string s = absl::StrCat(os, "/", architecture);
  if (!variant.empty()) absl::StrAppend(&s, "/", variant);
  return s;
}

absl::StatusOr<Manifest> ParseManifest(absl::string_view body, absl::string_view content_type) {
  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError("manifest is not a JSON object");
  }
  Manifest m;
  ASSIGN_OR_RETURN(m.media_type, StringField(doc, "mediaType", "manifest", false));
  if (m.media_type.empty()) {
    std::string ct(content_type.substr(0, content_type.find(';')));
    if (ct == kOciIndex || ct == kOciManifest || ct == kDockerManifest || ct == kDockerManifestList) {
      m.media_type = ct;
    } else if (doc.contains("manifests")) {
      m.media_type = kOciIndex;
    } else if (doc.contains("layers") && doc.contains("config")) {
      m.media_type = kOciManifest;
    }
  }
  if (m.media_type == kOciIndex || m.media_type == kDockerManifestList) {
    m.is_index = true;
    auto list = doc.find("manifests");
    if (list == doc.end() || !list->is_array()) {
      return absl::InvalidArgumentError("manifest index: field 'manifests' is missing or not an array");
    }
    for (size_t i = 0; i < list->size(); ++i) {
      ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor((*list)[i], absl::StrCat("manifests[", i, "]")));
      m.manifests.push_back(std::move(d));
    }
    return m;
  }
  if (m.media_type == kOciManifest || m.media_type == kDockerManifest) {
    auto config = doc.find("config");
    if (config == doc.end()) return absl::InvalidArgumentError("manifest: missing field 'config'");
    ASSIGN_OR_RETURN(m.config, ParseDescriptor(*config, "config"));
    auto layers = doc.find("layers");
    if (layers == doc.end() || !layers->is_array()) {
      return absl::InvalidArgumentError("manifest: field 'layers' is missing or not an array");
    }
    for (size_t i = 0; i < layers->size(); ++i) {
      ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor((*layers)[i], absl::StrCat("layers[", i, "]")));
      m.layers.push_back(std::move(d));
    }
    return m;
  }
  if (doc.contains("schemaVersion") && doc["schemaVersion"] == 1) {
    return absl::UnimplementedError("Docker schema 1 manifests are not supported");
  }
  return absl::UnimplementedError(absl::StrCat("unsupported manifest media type '", m.media_type, "'"));
}

Platform HostPlatform() {
  Platform p;
  p.os = "linux";
  p.architecture = HostArchitecture();
  p.variant = DefaultVariant(p.architecture);
  return p;
}

absl::StatusOr<Descriptor> SelectPlatform(const Manifest& index, const Platform& want) {
  const Descriptor* fallback = nullptr;
  std::vector<std::string> available;
  for (const Descriptor& d : index.manifests) {
    available.push_back(d.platform.String());
    if (d.platform.os != want.os || d.platform.architecture != want.architecture) continue;
    if (d.platform.variant == want.variant) return d;
    std::string def = DefaultVariant(want.architecture);
    std::string theirs = d.platform.variant.empty() ? def : d.platform.variant;
    std::string ours = want.variant.empty() ? def : want.variant;
    if (theirs == ours && fallback == nullptr) fallback = &d;
  }
  if (fallback != nullptr) return *fallback;
  return absl::NotFoundError(absl::StrCat("no manifest for platform ", want.String(), "; the index has: ",
                                          available.empty() ? "nothing" : absl::StrJoin(available, ", ")));
}

}  // namespace berth::image::registry
