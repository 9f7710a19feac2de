// Helpers for Table rows (what kubectl's printers compute): ages, joined
// lists, label selectors as strings, JSON lookups that tolerate missing fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::k8s::kinds {

// Seconds since the Unix epoch of an RFC 3339 time ("2024-01-02T03:04:05Z",
// fractions and numeric offsets allowed); nullopt when malformed.
std::optional<int64_t> ParseRfc3339(std::string_view text);

// duration.HumanDuration: "45s", "5m3s", "3h10m", "2d4h", "3y20d".
std::string HumanDuration(int64_t seconds);

// The AGE cell: time since `timestamp` at `now_unix` ("<unknown>" when unset).
std::string AgeSince(const nlohmann::json& timestamp, int64_t now_unix);
// The same at the wall clock's now.
std::string Age(const nlohmann::json& timestamp);

// obj at a dotted path ("status.phase"), or null.
const nlohmann::json& At(const nlohmann::json& obj, std::string_view dotted_path);
std::string StringAt(const nlohmann::json& obj, std::string_view dotted_path);
int64_t IntAt(const nlohmann::json& obj, std::string_view dotted_path);

// "<none>" when empty, else the values joined by ",".
std::string JoinOrNone(const std::vector<std::string>& values);

// metav1.LabelSelector as text: "app=web,tier in (a,b)" ("<none>" when empty).
std::string FormatLabelSelector(const nlohmann::json& selector);

// spec.template.spec.containers names and images (CONTAINERS / IMAGES).
std::string ContainerNames(const nlohmann::json& pod_spec);
std::string ContainerImages(const nlohmann::json& pod_spec);

}  // namespace berth::k8s::kinds
