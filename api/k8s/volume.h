// core/v1 Volume with the sources berth reads (hostPath, emptyDir, configMap,
// secret, projected); every other source is kept as raw JSON so it round-trips.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/k8s/quantity.h"

namespace berth::k8s {

// Keys of a JSON object that no declared field claimed, kept verbatim.
struct RawFields {
  std::map<std::string, nlohmann::json> fields;
  bool operator==(const RawFields&) const = default;
};

struct HostPathVolumeSource {
  std::string path;
  std::optional<std::string> type;  // "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice
  bool operator==(const HostPathVolumeSource&) const = default;
};

struct EmptyDirVolumeSource {
  std::string medium;  // "" or Memory
  std::optional<Quantity> sizeLimit;
  bool operator==(const EmptyDirVolumeSource&) const = default;
};

struct KeyToPath {
  std::string key;
  std::string path;
  std::optional<int32_t> mode;
  bool operator==(const KeyToPath&) const = default;
};

struct ConfigMapVolumeSource {
  std::string name;
  std::vector<KeyToPath> items;
  std::optional<int32_t> defaultMode;
  std::optional<bool> optional;
  bool operator==(const ConfigMapVolumeSource&) const = default;
};

struct SecretVolumeSource {
  std::string secretName;
  std::vector<KeyToPath> items;
  std::optional<int32_t> defaultMode;
  std::optional<bool> optional;
  bool operator==(const SecretVolumeSource&) const = default;
};

struct ProjectedVolumeSource {
  std::vector<nlohmann::json> sources;  // raw VolumeProjection objects
  std::optional<int32_t> defaultMode;
  bool operator==(const ProjectedVolumeSource&) const = default;
};

struct Volume {
  std::string name;
  std::optional<HostPathVolumeSource> hostPath;
  std::optional<EmptyDirVolumeSource> emptyDir;
  std::optional<ConfigMapVolumeSource> configMap;
  std::optional<SecretVolumeSource> secret;
  std::optional<ProjectedVolumeSource> projected;
  // Any other source ("persistentVolumeClaim", "csi", "nfs", "downwardAPI", ...), by key.
  RawFields otherSources;
  // How many sources are set, the raw ones included.
  int SourceCount() const;
  bool operator==(const Volume&) const = default;
};

}  // namespace berth::k8s
