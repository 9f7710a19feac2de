#include "controlplane/controllers/expectations.h"

#include "absl/time/clock.h"

namespace berth::controllers {

void Expectations::ExpectCreations(const std::string& key, int creates) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_[key] = Pending{creates, {}, absl::Now()};
}

void Expectations::ExpectDeletions(const std::string& key, std::set<std::string> uids) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_[key] = Pending{0, std::move(uids), absl::Now()};
}

void Expectations::CreationObserved(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(key);
  if (it != pending_.end() && it->second.creates > 0) --it->second.creates;
}

void Expectations::DeletionObserved(const std::string& key, const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(key);
  if (it != pending_.end()) it->second.deletes.erase(uid);
}

bool Expectations::Satisfied(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(key);
  if (it == pending_.end()) return true;
  const Pending& p = it->second;
  return (p.creates <= 0 && p.deletes.empty()) || absl::Now() - p.set_at > kExpectationsTimeout;
}

void Expectations::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_.erase(key);
}

}  // namespace berth::controllers
