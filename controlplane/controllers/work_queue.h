// WorkQueue: the controllers' queue of object keys ("namespace/name"), as
// client-go's rate-limited workqueue behaves: a key queued twice is there
// once; a key being processed that is added again is processed again after
// Done (never by two workers at once); AddAfter and AddRateLimited (per-key
// exponential back-off, reset by Forget) hold a key until its time. Workers
// block in Get on a condition variable until a key is due or ShutDown; no
// polling.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "absl/time/time.h"

namespace berth::controllers {

struct WorkQueueOptions {
  absl::Duration base_delay = absl::Milliseconds(5);  // first retry
  absl::Duration max_delay = absl::Seconds(300);      // back-off cap
};

class WorkQueue {
 public:
  explicit WorkQueue(WorkQueueOptions options = {});
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Add(const std::string& key);
  // Adds `key` once `delay` has passed (an earlier pending time wins).
  void AddAfter(const std::string& key, absl::Duration delay);
  // Adds `key` after its back-off: base_delay * 2^(failures so far), capped.
  void AddRateLimited(const std::string& key);
  // Forgets `key`'s failures (its next AddRateLimited waits base_delay).
  void Forget(const std::string& key);
  int Failures(const std::string& key) const;

  // The next key to process (mark it Done afterwards), or nullopt once shut
  // down. Blocks until a key is ready.
  std::optional<std::string> Get();
  void Done(const std::string& key);

  // Wakes every Get (which then returns nullopt); later Adds are dropped.
  void ShutDown();
  // Keys ready now (not counting delayed ones or ones being processed).
  size_t Len() const;

 private:
  // Under mu_: queues `key` unless it is already queued.
  void AddLocked(const std::string& key);
  void AddAfterLocked(const std::string& key, absl::Time when);
  // Under mu_: moves delayed keys whose time has come into the queue.
  void PromoteDueLocked(absl::Time now);

  const WorkQueueOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;       // queued or to be queued again after Done
  std::set<std::string> processing_;  // handed out by Get, not yet Done
  std::multimap<absl::Time, std::string> delayed_;
  std::map<std::string, absl::Time> delayed_until_;  // key -> its time in delayed_
  std::map<std::string, int> failures_;
  bool shut_down_ = false;
};

}  // namespace berth::controllers
