// ContainerEvents: fan-out of CRI container events to GetContainerEvents
// streams. Each subscriber has a bounded queue; a slow one loses the oldest.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "absl/time/time.h"
#include "api/cri/api.pb.h"

namespace berth {

class ContainerEvents {
 public:
  class Subscription {
   public:
    // Waits up to `timeout` for the next event; nullopt on timeout or close.
    std::optional<::runtime::v1::ContainerEventResponse> Next(absl::Duration timeout);

   private:
    friend class ContainerEvents;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<::runtime::v1::ContainerEventResponse> queue_;
    bool closed_ = false;
  };

  std::shared_ptr<Subscription> Subscribe();
  void Unsubscribe(const std::shared_ptr<Subscription>& sub);
  void Publish(const ::runtime::v1::ContainerEventResponse& event);
  void CloseAll();

 private:
  static constexpr size_t kMaxQueued = 1024;
  std::mutex mu_;
  std::set<std::shared_ptr<Subscription>> subs_;
};

}  // namespace berth
