#include "runtime-shim/cri/container_events.h"

namespace berth {

std::optional<::runtime::v1::ContainerEventResponse> ContainerEvents::Subscription::Next(
    absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
               [&] { return closed_ || !queue_.empty(); });
  if (queue_.empty()) return std::nullopt;
  auto event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

std::shared_ptr<ContainerEvents::Subscription> ContainerEvents::Subscribe() {
  auto sub = std::make_shared<Subscription>();
  std::lock_guard<std::mutex> lock(mu_);
  subs_.insert(sub);
  return sub;
}

void ContainerEvents::Unsubscribe(const std::shared_ptr<Subscription>& sub) {
  std::lock_guard<std::mutex> lock(mu_);
  subs_.erase(sub);
}

void ContainerEvents::Publish(const ::runtime::v1::ContainerEventResponse& event) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& sub : subs_) {
    std::lock_guard<std::mutex> sub_lock(sub->mu_);
    if (sub->queue_.size() >= kMaxQueued) sub->queue_.pop_front();
    sub->queue_.push_back(event);
    sub->cv_.notify_one();
  }
}

void ContainerEvents::CloseAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& sub : subs_) {
    std::lock_guard<std::mutex> sub_lock(sub->mu_);
    sub->closed_ = true;
    sub->cv_.notify_all();
  }
}

}  // namespace berth
