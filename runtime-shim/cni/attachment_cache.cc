#include "runtime-shim/cni/attachment_cache.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace berth::cni {

std::string AttachmentCachePath(const std::string& cache_dir, const CachedAttachment& attachment) {
  return absl::StrCat(cache_dir, "/", attachment.network_name, "-", attachment.container_id, "-",
                      attachment.ifname, ".json");
}

absl::Status WriteCachedAttachment(const std::string& cache_dir, const CachedAttachment& attachment) {
  nlohmann::json args = nlohmann::json::array();
  for (const auto& [k, v] : attachment.args) args.push_back({k, v});
  nlohmann::json json = {
      {"kind", "berthCniAttachmentV1"},
      {"networkName", attachment.network_name},
      {"containerId", attachment.container_id},
      {"ifName", attachment.ifname},
      {"netns", attachment.netns},
      {"cniArgs", args},
      {"capabilityArgs", attachment.capability_args},
      {"config", attachment.config},
      {"result", attachment.result},
  };
  RETURN_IF_ERROR(MkdirAll(cache_dir, 0700));
  return AtomicWriteFile(AttachmentCachePath(cache_dir, attachment), json.dump(), 0600);
}

absl::StatusOr<CachedAttachment> ParseCachedAttachment(const std::string& data,
                                                       const std::string& path) {
  nlohmann::json json = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::DataLossError(absl::StrCat("CNI cache ", path, ": malformed JSON"));
  }
  CachedAttachment out;
  try {
    out.network_name = json.at("networkName").get<std::string>();
    out.container_id = json.at("containerId").get<std::string>();
    out.ifname = json.at("ifName").get<std::string>();
    out.netns = json.value("netns", "");
    for (const auto& pair : json.value("cniArgs", nlohmann::json::array())) {
      out.args.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
    }
    out.capability_args = json.value("capabilityArgs", nlohmann::json::object());
    out.config = json.at("config");
    out.result = json.value("result", nlohmann::json());
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat("CNI cache ", path, ": ", e.what()));
  }
  return out;
}

std::vector<std::pair<std::string, CachedAttachment>> ListCachedAttachments(
    const std::string& cache_dir) {
  std::vector<std::pair<std::string, CachedAttachment>> out;
  auto names = ListDir(cache_dir);
  if (!names.ok()) return out;
  for (const auto& name : *names) {
    if (!absl::EndsWith(name, ".json")) continue;
    std::string path = absl::StrCat(cache_dir, "/", name);
    auto data = ReadFile(path);
    if (!data.ok()) continue;  // removed meanwhile
    auto attachment = ParseCachedAttachment(*data, path);
    if (!attachment.ok()) {
      BERTH_LOG(Warning) << "skipping CNI cache file" << Kv("error", attachment.status().ToString());
      continue;
    }
    out.emplace_back(path, std::move(*attachment));
  }
  return out;
}

}  // namespace berth::cni
