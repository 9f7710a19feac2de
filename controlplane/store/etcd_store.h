// The store on etcd v3 over gRPC, for more than one control-plane host.
// etcd's revision is the store revision. Create is a Txn that puts only when
// the key's create_revision is 0; Update and conditional Delete are Txns on
// its mod_revision; a failed compare reads the key back to say why (gone,
// or at which revision). Watches share one bidirectional Watch stream,
// each with a watch_id the client picks, and deliver prev values.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "api/etcd/rpc.grpc.pb.h"
#include "controlplane/store/store.h"

namespace berth::store {

struct EtcdStoreOptions {
  // "host:port" of each member; IPv4 literals are tried in order (gRPC
  // pick_first), a host name is resolved by DNS.
  std::vector<std::string> endpoints;
  absl::Duration request_timeout = absl::Seconds(10);
  // Wait this long for the first connection at Open.
  absl::Duration connect_timeout = absl::Seconds(10);
  size_t watch_queue_limit = 100000;
};

class EtcdWatchStream;

class EtcdStore : public Store {
 public:
  static absl::StatusOr<std::unique_ptr<EtcdStore>> Open(const EtcdStoreOptions& options);
  ~EtcdStore() override;

  absl::StatusOr<KeyValue> Get(const std::string& key) override;
  absl::StatusOr<ListResult> List(const std::string& prefix, const ListOptions& options) override;
  absl::StatusOr<int64_t> Create(const std::string& key, const std::string& value) override;
  absl::StatusOr<int64_t> Update(const std::string& key, const std::string& value,
                                 int64_t expected_mod_revision) override;
  absl::StatusOr<DeleteResult> Delete(const std::string& key,
                                      std::optional<int64_t> expected_mod_revision = std::nullopt) override;
  absl::StatusOr<std::unique_ptr<Watcher>> Watch(const std::string& prefix,
                                                 const WatchOptions& options) override;
  absl::Status Compact(int64_t revision) override;
  absl::StatusOr<int64_t> CurrentRevision() override;
  // etcd does not report it: found by bisecting for the oldest readable revision.
  absl::StatusOr<int64_t> CompactedRevision() override;
  // Maintenance.Snapshot into `path` (atomically renamed), after checking
  // the SHA-256 etcd appends to the stream.
  absl::Status Snapshot(const std::string& path) override;

  // Maintenance.Status: the server's version and database size.
  absl::StatusOr<etcdserverpb::StatusResponse> Status();

 private:
  explicit EtcdStore(EtcdStoreOptions options) : options_(std::move(options)) {}
  void SetDeadline(grpc::ClientContext& ctx) const;
  absl::StatusOr<std::shared_ptr<EtcdWatchStream>> WatchStream();

  EtcdStoreOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
  std::mutex stream_mu_;
  std::shared_ptr<EtcdWatchStream> stream_;
};

// Where and as what member a restored etcd starts.
struct EtcdRestoreOptions {
  std::string data_dir;      // must not exist yet
  std::string name = "default";
  std::string initial_cluster;  // "name=http://127.0.0.1:2380"
  std::string initial_advertise_peer_urls;  // "http://127.0.0.1:2380"
  std::string etcdctl = "/usr/bin/etcdctl";
};

// Restores a Snapshot() file into a new data directory with
// `etcdctl snapshot restore` (Debian package etcd-client); etcd has no
// restore of its own in 3.4. FailedPrecondition when etcdctl is missing.
absl::Status RestoreEtcdSnapshot(const std::string& snapshot_path,
                                 const EtcdRestoreOptions& options);

}  // namespace berth::store
