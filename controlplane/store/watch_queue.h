// The pending events of one watcher: backends push, the reader waits in
// Next. Bounded: a reader that falls more than `max_pending` events behind
// is ended with ResourceExhausted instead of growing without bound (the API
// server's watch cache ends slow watchers the same way).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/store/store.h"

namespace berth::store {

class WatchQueue {
 public:
  explicit WatchQueue(size_t max_pending) : max_pending_(max_pending > 0 ? max_pending : 1) {}

  // Appends an event. Returns false (and drops it) once the queue is closed;
  // closes it with ResourceExhausted when the reader is too far behind.
  bool Push(EventPtr event);

  // Ends the watch with `reason` once the pending events are read; the first
  // reason wins.
  void Close(absl::Status reason);
  bool closed() const;

  // Waits for events, the close, or the deadline. Pending events come before
  // the close reason.
  absl::StatusOr<std::vector<EventPtr>> Next(absl::Time deadline);

  // Revision of the last event pushed (0 if none).
  int64_t last_revision() const;

 private:
  const size_t max_pending_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<EventPtr> pending_;
  absl::Status closed_ = absl::OkStatus();
  bool is_closed_ = false;
  int64_t last_revision_ = 0;
};

}  // namespace berth::store
