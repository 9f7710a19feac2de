// Controller: one reconcile loop (kube's controller pattern). Informer
// handlers turn object changes into keys on the controller's WorkQueue; the
// ControllerRunner's workers take keys and call Sync, which reads the
// informers' caches, compares what is wanted with what exists and writes
// through the ApiClient. A Sync error retries the key with back-off; OK
// forgets its failures.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "controlplane/controllers/work_queue.h"

namespace berth::controllers {

class Controller {
 public:
  virtual ~Controller() = default;
  // "replicaset", "deployment", ...: the name --controllers selects.
  virtual std::string Name() const = 0;
  // Reconciles one object ("namespace/name"); an object that is gone is OK.
  virtual absl::Status Sync(const std::string& key) = 0;
  WorkQueue& queue() { return queue_; }

 protected:
  WorkQueue queue_;
};

}  // namespace berth::controllers
