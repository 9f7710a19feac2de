// The agent's events as a v1 EventList (GET /events?format=json): identical
// events about one object (type, reason, message) folded into one with a
// count, first and last timestamps, as the kubelet's event recorder
// aggregates them; and back again for `berth-agent describe`.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/pod/events.h"
#include <nlohmann/json.hpp>

namespace berth::agent {

// One aggregated event, as describe shows it.
struct EventRecord {
  std::string type;       // Normal, Warning
  std::string reason;
  std::string message;
  std::string kind;       // Pod, File
  std::string namespace_;
  std::string name;       // the pod's name, or the file's path
  std::string source;     // kubelet
  absl::Time first;
  absl::Time last;
  int count = 1;
};

// `events` oldest first; the result sorted by last time.
std::vector<EventRecord> AggregateEvents(const std::vector<Event>& events);
nlohmann::json EventListToJson(const std::vector<EventRecord>& events, const std::string& node_name);
absl::StatusOr<std::vector<EventRecord>> EventListFromJson(const std::string& json);

// The recorder's object name for a pod: "pod/<namespace>/<name>".
std::string PodEventObject(const std::string& namespace_, const std::string& name);

}  // namespace berth::agent
