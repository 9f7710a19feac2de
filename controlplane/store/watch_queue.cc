#include "controlplane/store/watch_queue.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace berth::store {

bool WatchQueue::Push(EventPtr event) {
  bool wake = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (is_closed_) return false;
    // The reader only waits while the queue is empty: a push onto a
    // non-empty queue need not wake it again.
    wake = pending_.empty();
    if (pending_.size() >= max_pending_) {
      is_closed_ = true;
      closed_ = absl::ResourceExhaustedError(absl::StrCat(
          "watch fell ", pending_.size(), " events behind (limit ", max_pending_,
          "); resume from revision ", pending_.front()->revision));
      pending_.clear();
    } else {
      last_revision_ = event->revision;
      pending_.push_back(std::move(event));
    }
    if (is_closed_) wake = true;
  }
  if (wake) cv_.notify_all();
  return true;
}

void WatchQueue::Close(absl::Status reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (is_closed_) return;
    is_closed_ = true;
    closed_ = std::move(reason);
  }
  cv_.notify_all();
}

bool WatchQueue::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return is_closed_;
}

int64_t WatchQueue::last_revision() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_revision_;
}

absl::StatusOr<std::vector<EventPtr>> WatchQueue::Next(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  auto ready = [&] { return !pending_.empty() || is_closed_; };
  if (deadline == absl::InfiniteFuture()) {
    cv_.wait(lock, ready);
  } else {
    cv_.wait_until(lock, absl::ToChronoTime(deadline), ready);
  }
  if (!pending_.empty()) {
    std::vector<EventPtr> out(std::make_move_iterator(pending_.begin()),
                              std::make_move_iterator(pending_.end()));
    pending_.clear();
    return out;
  }
  if (is_closed_) return closed_;
  return std::vector<EventPtr>{};
}

}  // namespace berth::store
