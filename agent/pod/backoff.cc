#include "absl/time/clock.h"
#include "agent/pod/backoff.h"

#include <algorithm>

namespace berth::agent {

bool Backoff::IsInBackOffSince(const std::string& key, absl::Time event_time, absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  if (event_time - it->second.last_update > 2 * max_) return false;  // expired: starts over
  return now - event_time < it->second.delay;
}

absl::Duration Backoff::Next(const std::string& key, absl::Time event_time, absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || event_time - it->second.last_update > 2 * max_) {
    entries_[key] = Entry{base_, now};
    return base_;
  }
  it->second.delay = std::min(it->second.delay * 2, max_);
  it->second.last_update = now;
  return it->second.delay;
}

absl::Duration Backoff::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? absl::ZeroDuration() : it->second.delay;
}

void Backoff::Reset(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(key);
}

void Backoff::GC(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now - it->second.last_update > 2 * max_) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace berth::agent
