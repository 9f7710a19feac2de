// The node as the device manager sees it, for the agent's HTTP endpoints:
// GET /node (a core/v1 Node with status.capacity and status.allocatable, each
// extended resource beside the node's cpu, memory and pods), and the devices
// each pod holds as an annotation on the pods of GET /pods. WithDeviceEndpoints
// adds both to the agent's HTTP handler.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/devices/device_manager.h"
#include "agent/server/http_server.h"
#include "api/k8s/pod.h"
#include "nlohmann/json.hpp"

namespace berth::agent::devices {

// Pod annotation: {"<container>": {"<resource>": ["id", ...]}} as JSON.
inline constexpr char kAllocatedAnnotation[] = "devices.berth.dev/allocated";
// Node annotation: {"<resource>": "connected" | "disconnected"} as JSON.
inline constexpr char kPluginsAnnotation[] = "devices.berth.dev/plugins";

// `base`: the node's own resources (cpu, memory, pods), the same in capacity and allocatable.
nlohmann::json NodeJson(const std::string& node_name, const std::map<std::string, std::string>& base,
                        DeviceManager& devices);

// The node's cpu count, memory (MemTotal, in Ki) and `max_pods`.
std::map<std::string, std::string> NodeBaseResources(int64_t max_pods);

// Adds kAllocatedAnnotation to each pod holding devices in a v1 PodList JSON
// (the body of GET /pods); other text is returned as is.
std::string AnnotatePodListJson(DeviceManager& devices, const std::string& pod_list);

// `inner` (the agent's endpoints) plus GET /node, with the pods of GET /pods
// annotated; `devices` null: `inner` unchanged.
HttpHandler WithDeviceEndpoints(HttpHandler inner, const std::string& node_name, int64_t max_pods,
                                DeviceManager* devices);

}  // namespace berth::agent::devices
