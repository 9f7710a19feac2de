// What berth-agent serves on its healthz address (127.0.0.1:10248):
//   GET /healthz   "ok" once the kubelet runs
//   GET /pods      a v1 PodList of the agent's pods with their status (the kubelet's read-only /pods)
//   GET /events    one event a line; ?pod=NAMESPACE/NAME keeps that pod's;
//                  ?format=json gives a v1 EventList (aggregated, with counts)
//   GET /metrics   Prometheus text format 0.0.4 (agent/metrics)
// The sources are callbacks so that this folder needs no Kubelet.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/pod/events.h"
#include "agent/server/http_server.h"
#include "api/k8s/pod.h"

namespace berth::agent {

struct AgentEndpointSources {
  std::string node_name;
  std::function<bool()> healthy;
  std::function<std::vector<k8s::Pod>()> pods;
  // Events about `object` ("" for all), oldest first.
  std::function<std::vector<Event>(const std::string& object)> events;
  std::function<std::string()> metrics;  // unset: no /metrics
};

HttpResponse ServeAgentEndpoint(const AgentEndpointSources& sources, const std::string& target);

// The query of a request target, percent-decoded ("/x?a=1&b=%2F" -> {a: 1, b: /}).
std::map<std::string, std::string> ParseQuery(const std::string& target);

}  // namespace berth::agent
