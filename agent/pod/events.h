// EventRecorder: the agent's events (Normal/Warning, reason, message, about a
// pod or a manifest file), logged as they happen and kept in a bounded ring
// for /events and describe.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace berth::agent {

struct Event {
  absl::Time time;
  std::string type;    // Normal, Warning
  std::string object;  // "pod/<ns>/<name>" or "file/<path>"
  std::string reason;  // Pulled, Created, Started, Killing, BackOff, Failed, ...
  std::string message;
};

class EventRecorder {
 public:
  explicit EventRecorder(size_t capacity = 2000) : capacity_(capacity) {}
  void Record(const std::string& type, const std::string& object, const std::string& reason,
              const std::string& message);
  // Events about `object` ("" for all), oldest first.
  std::vector<Event> List(const std::string& object = "") const;

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  std::deque<Event> events_;
};

}  // namespace berth::agent
