// Backoff: the kubelet's per-key exponential back-off (flowcontrol.Backoff),
// used for CrashLoopBackOff and ImagePullBackOff. A key's delay starts at
// `base`, doubles on each Next() up to `max`, and starts over when the event
// (a container's finish) comes more than 2 x max after the last Next().
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "absl/time/time.h"

namespace berth::agent {

class Backoff {
 public:
  Backoff(absl::Duration base, absl::Duration max) : base_(base), max_(max) {}

  // Whether `key` is still backing off from an event at `event_time`
  // (now < event_time + current delay).
  bool IsInBackOffSince(const std::string& key, absl::Time event_time, absl::Time now);
  // Records an attempt at `now` for the event at `event_time`; returns the new delay.
  absl::Duration Next(const std::string& key, absl::Time event_time, absl::Time now);
  // The current delay of `key` (zero when it has none).
  absl::Duration Get(const std::string& key);
  void Reset(const std::string& key);
  // Forgets keys idle for more than 2 x max.
  void GC(absl::Time now);

 private:
  struct Entry {
    absl::Duration delay;
    absl::Time last_update;
  };
  absl::Duration base_, max_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace berth::agent
