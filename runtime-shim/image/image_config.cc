#include "runtime-shim/image/image_config.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"
#include "runtime-shim/image/digest.h"

namespace berth::image {
namespace {

using json = nlohmann::json;

absl::Status StringList(const json& obj, const char* key, std::vector<std::string>& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_array()) return absl::InvalidArgumentError(absl::StrCat("image config: config.", key, ": not a list"));
  for (const json& v : *it) {
    if (!v.is_string()) return absl::InvalidArgumentError(absl::StrCat("image config: config.", key, ": not a string list"));
    out.push_back(v.get<std::string>());
  }
  return absl::OkStatus();
}

std::string String(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

absl::StatusOr<ImageConfig> ParseImageConfig(absl::string_view text, Image& image) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return absl::InvalidArgumentError("image config: not a JSON object");
  ImageConfig out;
  out.architecture = String(doc, "architecture");
  out.os = String(doc, "os");
  auto config = doc.find("config");
  if (config != doc.end() && config->is_object()) {
    image.user = String(*config, "User");
    image.working_dir = String(*config, "WorkingDir");
    image.stop_signal = String(*config, "StopSignal");
    RETURN_IF_ERROR(StringList(*config, "Entrypoint", image.entrypoint));
    RETURN_IF_ERROR(StringList(*config, "Cmd", image.cmd));
    RETURN_IF_ERROR(StringList(*config, "Env", image.env));
    auto labels = config->find("Labels");
    if (labels != config->end() && labels->is_object()) {
      for (auto& [k, v] : labels->items()) {
        if (v.is_string()) image.labels[k] = v.get<std::string>();
      }
    }
  }
  auto rootfs = doc.find("rootfs");
  if (rootfs == doc.end() || !rootfs->is_object() || !rootfs->contains("diff_ids") ||
      !(*rootfs)["diff_ids"].is_array()) {
    return absl::InvalidArgumentError("image config: rootfs.diff_ids: missing or not a list");
  }
  const json& diff_ids = (*rootfs)["diff_ids"];
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    std::string field = absl::StrCat("image config: rootfs.diff_ids[", i, "]");
    if (!diff_ids[i].is_string()) return absl::InvalidArgumentError(absl::StrCat(field, ": not a string"));
    RETURN_IF_ERROR(DigestHex(diff_ids[i].get<std::string>(), field).status());
    out.diff_ids.push_back(diff_ids[i].get<std::string>());
  }
  return out;
}

}  // namespace berth::image
