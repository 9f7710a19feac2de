// Test support: a fresh store of a named backend under its own temporary
// root ("sqlite": a file there; "etcd": an EtcdProcess there), removed with
// everything in it when the object goes.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "controlplane/store/store.h"
#include "controlplane/store/testing/etcd_process.h"

namespace berth::store {

class TestBackend {
 public:
  // Unimplemented (the caller skips) when the backend's server is absent.
  static absl::StatusOr<std::unique_ptr<TestBackend>> Start(const std::string& backend);
  ~TestBackend();

  Store* store() { return store_.get(); }
  const std::string& root() const { return root_; }
  testing::EtcdProcess* etcd() { return etcd_.get(); }
  // Closes and reopens the store on the same data.
  absl::Status Reopen();

 private:
  std::string backend_, root_;
  std::unique_ptr<testing::EtcdProcess> etcd_;
  std::unique_ptr<Store> store_;
};

}  // namespace berth::store
