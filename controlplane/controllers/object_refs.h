// What the controller loops ask of any object's JSON: its work-queue key
// ("namespace/name", or "name" when cluster-scoped), its labels, its
// controller ownerReference, a new controller reference to an owner, and
// timestamps as the API writes them (RFC 3339).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "controlplane/scheduler/label_selector.h"
#include "nlohmann/json.hpp"

namespace berth::controllers {

std::string KeyOf(const nlohmann::json& obj);
std::string KeyOf(const std::string& ns, const std::string& name);
// {namespace, name}; a key without '/' is a cluster-scoped name.
std::pair<std::string, std::string> SplitKey(const std::string& key);

std::string NameOf(const nlohmann::json& obj);
std::string NamespaceOf(const nlohmann::json& obj);
std::string UidOf(const nlohmann::json& obj);
std::string ResourceVersionOf(const nlohmann::json& obj);
bool IsBeingDeleted(const nlohmann::json& obj);
scheduler::Labels LabelsOf(const nlohmann::json& obj);

// metadata.ownerReferences' entry with controller: true, if any.
std::optional<nlohmann::json> ControllerRefOf(const nlohmann::json& obj);
// An ownerReference to `owner` with controller and blockOwnerDeletion set.
nlohmann::json NewControllerRef(const nlohmann::json& owner, const std::string& api_version, const std::string& kind);

// The objects of `all` in namespace `ns`.
std::vector<nlohmann::json> InNamespace(std::vector<nlohmann::json> all, const std::string& ns);

// "2026-12-07T23:40:00Z"; absl::InfinitePast() when absent or unparsable.
absl::Time ParseApiTime(const nlohmann::json& value);
std::string FormatApiTime(absl::Time t);

}  // namespace berth::controllers
