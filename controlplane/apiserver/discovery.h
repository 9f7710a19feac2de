// Discovery documents from the kind registry: /api (APIVersions), /apis
// (APIGroupList), /api/v1 and /apis/<group>/<version> (APIResourceList with
// verbs, short names, categories and subresources as "pods/status").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/k8s/kinds/kind_registry.h"

namespace berth::apiserver {

// Resources the server itself serves beside the registered kinds
// (selfsubjectaccessreviews), in discovery's shape.
struct ExtraResource {
  std::string group, version;
  nlohmann::json resource;  // one APIResource
};

class Discovery {
 public:
  Discovery(const std::vector<k8s::kinds::KindInfo>& kinds, std::vector<ExtraResource> extra);

  nlohmann::json CoreVersions(const std::string& server_address) const;
  nlohmann::json Groups() const;
  // nullopt when the group/version is not served.
  std::optional<nlohmann::json> Resources(const std::string& group, const std::string& version) const;

 private:
  const std::vector<k8s::kinds::KindInfo>& kinds_;
  std::vector<ExtraResource> extra_;
  std::vector<std::pair<std::string, std::vector<std::string>>> groups_;  // in first-seen order
};

}  // namespace berth::apiserver
