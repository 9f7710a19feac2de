// Server-side metadata for objects in their JSON wire shape: uids, times,
// generateName, labels, the spec-changed test that bumps generation.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace berth::apiserver {

// A random RFC 4122 version 4 UUID.
std::string NewUid();
// "2026-12-07T16:30:00Z" (RFC 3339, seconds, as metav1.Time writes it).
std::string NowRfc3339();
std::string FormatRfc3339(int64_t unix_seconds);
// generateName + 5 random characters from the API's alphabet.
std::string GenerateName(const std::string& base);

// metadata.labels as a map (non-string values skipped).
std::map<std::string, std::string> Labels(const nlohmann::json& obj);
// metadata.<field> as a string, or "".
std::string MetaString(const nlohmann::json& obj, const char* field);

// Whether anything besides metadata and status differs (the spec changed,
// so generation goes up).
bool SpecChanged(const nlohmann::json& old_obj, const nlohmann::json& new_obj);

// The object without its resourceVersion and managedFields timestamps, to
// tell a write that changes nothing.
nlohmann::json Comparable(const nlohmann::json& obj);

// DNS-1123 subdomain (most names) and label (namespaces): "" when valid,
// else the API's message.
std::string Dns1123SubdomainError(const std::string& value);
std::string Dns1123LabelError(const std::string& value);

}  // namespace berth::apiserver
