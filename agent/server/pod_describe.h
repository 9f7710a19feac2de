// `berth-agent describe POD`: what `kubectl describe pod` prints, from a pod
// (as /pods serves it) and its events (as /events?pod=NS/NAME&format=json
// serves them): Name, Namespace, Priority, Node, Start Time, Labels,
// Annotations, Status, IPs, (Init) Containers with image, ports, command,
// state and last state, ready, restart count, resources, probes,
// environment and mounts; Conditions; Volumes; QoS Class; Node-Selectors;
// Tolerations; Events. Times in `zone` (kubectl uses the local zone).
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "agent/server/events_json.h"
#include "api/k8s/pod.h"

namespace berth::agent {

std::string DescribePod(const k8s::Pod& pod, const std::vector<EventRecord>& events, absl::Time now,
                        absl::TimeZone zone);

// kubectl's probe line: "http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3".
std::string DescribeProbe(const k8s::Probe& probe);

}  // namespace berth::agent
