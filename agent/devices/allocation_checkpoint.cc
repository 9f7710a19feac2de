#include "agent/devices/allocation_checkpoint.h"

#include <cerrno>
#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "nlohmann/json.hpp"

namespace berth::agent::devices {
namespace {

// FNV-1a, 32 bits, over the compact JSON of "Data".
uint32_t Checksum(const std::string& data) {
  uint32_t h = 2166136261u;
  for (unsigned char c : data) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

absl::Status Bad(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("device checkpoint: ", field, ": ", why));
}

}  // namespace

std::string EncodeCheckpoint(const DeviceCheckpoint& checkpoint) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : checkpoint.entries) {
    std::string resp;
    e.response.SerializeToString(&resp);
    entries.push_back({{"PodUID", e.pod_uid},
                       {"ContainerName", e.container_name},
                       {"ResourceName", e.resource_name},
                       {"DeviceIDs", {{"-1", e.device_ids}}},
                       {"AllocResp", absl::Base64Escape(resp)}});
  }
  nlohmann::json registered = nlohmann::json::object();
  for (const auto& [resource, ids] : checkpoint.registered_devices) registered[resource] = ids;
  nlohmann::json data = {{"PodDeviceEntries", entries}, {"RegisteredDevices", registered}};
  nlohmann::json out = {{"Data", data}, {"Checksum", Checksum(data.dump())}};
  return out.dump();
}

absl::StatusOr<DeviceCheckpoint> DecodeCheckpoint(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Bad("file", "not a JSON object");
  if (!j.contains("Data") || !j["Data"].is_object()) return Bad("Data", "missing or not an object");
  if (!j.contains("Checksum") || !j["Checksum"].is_number_unsigned()) return Bad("Checksum", "missing");
  const nlohmann::json& data = j["Data"];
  if (j["Checksum"].get<uint64_t>() != Checksum(data.dump())) {
    return absl::DataLossError("device checkpoint: Checksum does not match Data (the file is corrupt)");
  }
  DeviceCheckpoint out;
  if (data.contains("PodDeviceEntries") && !data["PodDeviceEntries"].is_null()) {
    const auto& list = data["PodDeviceEntries"];
    if (!list.is_array()) return Bad("Data.PodDeviceEntries", "not a list");
    for (size_t i = 0; i < list.size(); ++i) {
      const auto& e = list[i];
      std::string field = absl::StrCat("Data.PodDeviceEntries[", i, "]");
      if (!e.is_object()) return Bad(field, "not an object");
      PodDevicesEntry entry;
      for (auto [key, dest] : {std::pair<const char*, std::string*>{"PodUID", &entry.pod_uid},
                               {"ContainerName", &entry.container_name},
                               {"ResourceName", &entry.resource_name}}) {
        if (!e.contains(key) || !e[key].is_string() || e[key].get<std::string>().empty()) {
          return Bad(absl::StrCat(field, ".", key), "missing");
        }
        *dest = e[key].get<std::string>();
      }
      if (e.contains("DeviceIDs") && e["DeviceIDs"].is_object()) {
        for (const auto& [numa, ids] : e["DeviceIDs"].items()) {
          if (!ids.is_array()) return Bad(absl::StrCat(field, ".DeviceIDs.", numa), "not a list");
          for (const auto& id : ids) {
            if (!id.is_string()) return Bad(absl::StrCat(field, ".DeviceIDs.", numa), "not a list of strings");
            entry.device_ids.push_back(id.get<std::string>());
          }
        }
      }
      if (e.contains("AllocResp") && e["AllocResp"].is_string()) {
        std::string raw;
        if (!absl::Base64Unescape(e["AllocResp"].get<std::string>(), &raw) ||
            !entry.response.ParseFromString(raw)) {
          return Bad(absl::StrCat(field, ".AllocResp"), "not a base64 ContainerAllocateResponse");
        }
      }
      out.entries.push_back(std::move(entry));
    }
  }
  if (data.contains("RegisteredDevices") && data["RegisteredDevices"].is_object()) {
    for (const auto& [resource, ids] : data["RegisteredDevices"].items()) {
      if (!ids.is_array()) return Bad(absl::StrCat("Data.RegisteredDevices.", resource), "not a list");
      auto& dest = out.registered_devices[resource];
      for (const auto& id : ids) {
        if (id.is_string()) dest.push_back(id.get<std::string>());
      }
    }
  }
  return out;
}

absl::Status WriteCheckpoint(const std::string& path, const DeviceCheckpoint& checkpoint) {
  return AtomicWriteFile(path, EncodeCheckpoint(checkpoint), 0644, true);
}

absl::StatusOr<DeviceCheckpoint> ReadCheckpoint(const std::string& path) {
  if (!PathExists(path)) return DeviceCheckpoint{};
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  auto decoded = DecodeCheckpoint(*text);
  if (!decoded.ok()) return Annotate(decoded.status(), path);
  return decoded;
}

}  // namespace berth::agent::devices
