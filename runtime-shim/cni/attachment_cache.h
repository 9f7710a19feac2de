// The on-disk record of one network attachment (what ADD was given and
// returned), so DEL and GC work after the config changed or the agent
// restarted. One JSON file per attachment, written atomically:
//   <cache dir>/<network name>-<container id>-<ifname>.json
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace berth::cni {

struct CachedAttachment {
  std::string network_name;
  std::string container_id;
  std::string ifname;
  std::string netns;
  std::vector<std::pair<std::string, std::string>> args;  // CNI_ARGS
  nlohmann::json capability_args = nlohmann::json::object();
  nlohmann::json config;  // the network list used for ADD, as a conflist
  nlohmann::json result;  // the final ADD result
};

std::string AttachmentCachePath(const std::string& cache_dir, const CachedAttachment& attachment);

absl::Status WriteCachedAttachment(const std::string& cache_dir, const CachedAttachment& attachment);

// Parses one cache file's content; `path` names it in errors.
absl::StatusOr<CachedAttachment> ParseCachedAttachment(const std::string& data,
                                                       const std::string& path);

// Every readable attachment in `cache_dir` with its path; unreadable files are
// logged and skipped. A missing dir is empty.
std::vector<std::pair<std::string, CachedAttachment>> ListCachedAttachments(
    const std::string& cache_dir);

}  // namespace berth::cni
