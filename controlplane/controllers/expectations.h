// Expectations (kube's UIDTrackingControllerExpectations): after a
// controller asks for N creates or for the deletion of some pods (by uid)
// for an owner, it does not act on that owner again
// until its informer has seen them (or they failed, or kExpectationsTimeout
// passed), so a sync running before the watch caught up does not create or
// delete twice. Thread-safe; keyed by the owner's work-queue key.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "absl/time/time.h"

namespace berth::controllers {

inline constexpr absl::Duration kExpectationsTimeout = absl::Minutes(5);

class Expectations {
 public:
  // Sets what `key` waits for (replacing what it waited for before).
  void ExpectCreations(const std::string& key, int creates);
  void ExpectDeletions(const std::string& key, std::set<std::string> uids);
  // One create seen by the informer, or one that failed.
  void CreationObserved(const std::string& key);
  // The pod `uid` seen deleted (or marked for deletion), or its delete
  // failed; seeing it twice is harmless.
  void DeletionObserved(const std::string& key, const std::string& uid);
  // Nothing pending, never set, or set longer ago than the timeout.
  bool Satisfied(const std::string& key) const;
  void Forget(const std::string& key);

 private:
  struct Pending {
    int creates = 0;
    std::set<std::string> deletes;
    absl::Time set_at;
  };
  mutable std::mutex mu_;
  std::map<std::string, Pending> pending_;
};

}  // namespace berth::controllers
