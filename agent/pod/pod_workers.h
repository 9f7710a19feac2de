// PodWorkers: one serialized worker per pod UID on a small thread pool. A
// pod's work runs on one thread at a time; updates that arrive while it runs
// coalesce into one more run. EnqueueAfter schedules a run (backoff expiry,
// periodic resync) on a timer.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"

namespace berth::agent {

class PodWorkers {
 public:
  using Work = std::function<void(const std::string& uid)>;

  PodWorkers(int threads, Work work);
  ~PodWorkers();

  void Enqueue(const std::string& uid);
  void EnqueueAfter(const std::string& uid, absl::Duration delay);
  // Stops the threads after the runs in progress; queued work is dropped.
  void Stop();
  // True when nothing is queued or running (tests).
  bool Idle();

 private:
  void Loop();
  void TimerLoop();

  Work work_;
  std::mutex mu_;
  std::condition_variable cv_, timer_cv_;
  std::deque<std::string> queue_;
  std::set<std::string> queued_, running_, again_;
  std::multimap<absl::Time, std::string> timers_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::thread timer_;
};

}  // namespace berth::agent
