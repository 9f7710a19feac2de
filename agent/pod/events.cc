#include "agent/pod/events.h"

#include "absl/time/clock.h"

#include "common/logging.h"

namespace berth::agent {

void EventRecorder::Record(const std::string& type, const std::string& object, const std::string& reason,
                           const std::string& message) {
  if (type == "Warning") {
    BERTH_LOG(Warning) << "event" << Kv("object", object) << Kv("reason", reason) << Kv("message", message);
  } else {
    BERTH_LOG(Info) << "event" << Kv("object", object) << Kv("reason", reason) << Kv("message", message);
  }
  std::lock_guard<std::mutex> lock(mu_);
  events_.push_back(Event{absl::Now(), type, object, reason, message});
  while (events_.size() > capacity_) events_.pop_front();
}

std::vector<Event> EventRecorder::List(const std::string& object) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Event> out;
  for (const auto& e : events_) {
    if (object.empty() || e.object == object) out.push_back(e);
  }
  return out;
}

}  // namespace berth::agent
