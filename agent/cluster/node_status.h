// The Node object berth-agent registers and keeps current, as the kubelet
// builds it: labels (kubernetes.io/hostname, os, arch), capacity and
// allocatable (cpu, memory, pods, ephemeral-storage and the device plugins'
// resources), addresses (InternalIP, Hostname), nodeInfo and the conditions
// Ready / MemoryPressure / DiskPressure / PIDPressure. Building is pure
// (NodeFacts in, JSON out) so tests can check every field; ReadNodeFacts
// reads the host.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace berth::agent::cluster {

struct NodeFacts {
  std::string node_name;
  std::string hostname;
  std::string internal_ip;  // empty: no InternalIP address
  std::string os = "linux";
  std::string arch;         // GOARCH spelling: amd64, arm64
  // Resources in the API's quantity form ("4", "16318032Ki", "110").
  std::map<std::string, std::string> capacity;
  std::map<std::string, std::string> allocatable;
  // nodeInfo.
  std::string machine_id, system_uuid, boot_id, kernel_version, os_image;
  std::string container_runtime_version;  // "berth://0.1.0"
  std::string kubelet_version;
  // Pressure, as the kubelet's eviction signals see it.
  bool ready = true;
  std::string not_ready_message;
  bool memory_pressure = false;
  bool disk_pressure = false;
  bool pid_pressure = false;
};

// What ReadNodeFacts needs besides the host.
struct NodeFactsSource {
  std::string node_name;
  std::string node_ip;    // --node-ip; empty: the first global IPv4 address
  std::string state_dir;  // its filesystem is the node's ephemeral storage
  int64_t max_pods = 110;
  // The device plugins' resources: name -> {capacity, allocatable}.
  std::map<std::string, std::pair<int64_t, int64_t>> extended;
  std::string runtime_version;  // "berth://0.1.0"
  std::string kubelet_version;
  bool healthy = true;
};

// The host's facts: /proc/meminfo, sysconf, statvfs of the state dir,
// getifaddrs, uname, /etc/os-release, machine-id, boot_id, and the
// pressure thresholds (memory.available < 100Mi, nodefs.available < 10%,
// pid.available < 10% of pid_max, the kubelet's hard eviction defaults).
NodeFacts ReadNodeFacts(const NodeFactsSource& source);

// The Node for registration: metadata (name, labels) and status.
nlohmann::json NodeObject(const NodeFacts& facts, absl::Time now);

// The Node's status; each condition's lastTransitionTime is kept from
// `previous` (a status as NodeStatus returned) when its status is the same.
nlohmann::json NodeStatus(const NodeFacts& facts, absl::Time now, const nlohmann::json& previous);

// Whether two statuses differ in more than the conditions' heartbeat times
// (what decides an update before the 5 minute report).
bool NodeStatusChanged(const nlohmann::json& a, const nlohmann::json& b);

// RFC 3339 in seconds ("2026-12-07T10:00:00Z") and in microseconds (a Lease's MicroTime).
std::string ApiTime(absl::Time t);
std::string ApiMicroTime(absl::Time t);

}  // namespace berth::agent::cluster
