// downwardAPI volumes: the files a DownwardAPIVolumeSource asks for, from
// the pod's metadata (fieldRef: metadata.name, metadata.namespace,
// metadata.uid, metadata.labels, metadata.annotations, and one label or
// annotation as metadata.labels['key']) and a container's resources
// (resourceFieldRef: limits/requests of cpu, memory, ephemeral-storage,
// hugepages-*, divided by the divisor and rounded up; an unset limit is the
// node's allocatable amount), as the kubelet writes them. Label and
// annotation maps are `key="value"` lines, sorted, values quoted as Go's %q.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "agent/volume/atomic_dir_writer.h"
#include "api/k8s/pod.h"

namespace berth::agent::volume {

// What a container gets when it sets no limit.
struct NodeAllocatable {
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  int64_t ephemeral_storage_bytes = 0;
  // This machine: online CPUs and MemTotal; ephemeral storage from statvfs of `dir`.
  static NodeAllocatable FromHost(const std::string& dir);
};

// The payload of the raw `downwardAPI` source of volume `field`
// ("spec.volumes[2].downwardAPI"); errors name the item's field and value.
absl::StatusOr<Payload> DownwardApiPayload(const nlohmann::json& source, const k8s::Pod& pod,
                                           const NodeAllocatable& node, const std::string& field);

// The value of `resource` ("limits.cpu") of `container` in units of
// `divisor` (empty = "1"), as the kubelet computes it for downward API.
absl::StatusOr<std::string> ContainerResourceValue(const std::string& resource, const std::string& divisor,
                                                   const k8s::Container& container, const NodeAllocatable& node);

// Go's strconv.Quote: "..." with \" \\ \n \t \xNN and \uNNNN escapes.
std::string GoQuote(const std::string& s);

// `key="value"` lines, keys sorted, no trailing newline.
std::string FormatMap(const std::map<std::string, std::string>& m);

}  // namespace berth::agent::volume
