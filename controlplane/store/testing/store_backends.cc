#include "controlplane/store/testing/store_backends.h"

#include <stdlib.h>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "controlplane/store/etcd_store.h"
#include "controlplane/store/sqlite_store.h"

namespace berth::store {

absl::StatusOr<std::unique_ptr<TestBackend>> TestBackend::Start(const std::string& backend) {
  if (backend != "sqlite" && backend != "etcd") {
    return absl::InvalidArgumentError(absl::StrCat("unknown test backend \"", backend, "\""));
  }
  std::string tmpl = "/tmp/berth-store-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return ErrnoError("mkdtemp");
  auto b = std::make_unique<TestBackend>();
  b->backend_ = backend;
  b->root_ = tmpl;
  if (backend == "etcd") {
    ASSIGN_OR_RETURN(b->etcd_, testing::EtcdProcess::Start(b->root_ + "/etcd"));
  }
  RETURN_IF_ERROR(b->Reopen());
  return b;
}

absl::Status TestBackend::Reopen() {
  store_.reset();
  if (backend_ == "sqlite") {
    SqliteStoreOptions opts;
    opts.path = root_ + "/store.db";
    opts.compaction_interval = absl::ZeroDuration();
    ASSIGN_OR_RETURN(store_, SqliteStore::Open(opts));
  } else {
    EtcdStoreOptions opts;
    opts.endpoints = {etcd_->client_endpoint()};
    ASSIGN_OR_RETURN(store_, EtcdStore::Open(opts));
  }
  return absl::OkStatus();
}

TestBackend::~TestBackend() {
  store_.reset();
  etcd_.reset();
  RemoveAll(root_).IgnoreError();  // the etcd data dir and its log too
}

}  // namespace berth::store
