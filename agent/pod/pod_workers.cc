#include "absl/time/clock.h"
#include "agent/pod/pod_workers.h"

namespace berth::agent {

PodWorkers::PodWorkers(int threads, Work work) : work_(std::move(work)) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  timer_ = std::thread([this] { TimerLoop(); });
}

PodWorkers::~PodWorkers() { Stop(); }

void PodWorkers::Enqueue(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  if (running_.count(uid)) {
    again_.insert(uid);
    return;
  }
  if (queued_.insert(uid).second) {
    queue_.push_back(uid);
    cv_.notify_one();
  }
}

void PodWorkers::EnqueueAfter(const std::string& uid, absl::Duration delay) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  absl::Time when = absl::Now() + delay;
  // One timer per pod is enough: keep the earliest.
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second != uid) continue;
    if (it->first <= when) return;
    timers_.erase(it);
    break;
  }
  timers_.emplace(when, uid);
  timer_cv_.notify_all();
}

void PodWorkers::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::string uid = queue_.front();
    queue_.pop_front();
    queued_.erase(uid);
    running_.insert(uid);
    lock.unlock();
    work_(uid);
    lock.lock();
    running_.erase(uid);
    if (again_.erase(uid) && !stopping_ && queued_.insert(uid).second) {
      queue_.push_back(uid);
      cv_.notify_one();
    }
    cv_.notify_all();
  }
}

void PodWorkers::TimerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      timer_cv_.wait(lock);
      continue;
    }
    absl::Time first = timers_.begin()->first;
    absl::Time now = absl::Now();
    if (first > now) {
      timer_cv_.wait_for(lock, absl::ToChronoNanoseconds(first - now));
      continue;
    }
    std::string uid = timers_.begin()->second;
    timers_.erase(timers_.begin());
    lock.unlock();
    Enqueue(uid);
    lock.lock();
  }
}

void PodWorkers::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
    timer_cv_.notify_all();
  }
  for (auto& t : threads_) t.join();
  timer_.join();
}

bool PodWorkers::Idle() {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.empty() && running_.empty();
}

}  // namespace berth::agent
