// Test support: one etcd member (Debian's /usr/bin/etcd) on loopback with
// free ports and a data dir under the test's temporary root. It is killed
// when the object goes, and (PR_SET_PDEATHSIG) when the test process dies.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::store::testing {

inline constexpr char kEtcdBinary[] = "/usr/bin/etcd";

class EtcdProcess {
 public:
  // Starts etcd with its data in `data_dir` (created if missing) and waits
  // until it serves. Unimplemented when /usr/bin/etcd is absent.
  static absl::StatusOr<std::unique_ptr<EtcdProcess>> Start(const std::string& data_dir,
                                                            const std::string& name = "berth-test");
  ~EtcdProcess();

  // "127.0.0.1:PORT"
  const std::string& client_endpoint() const { return client_endpoint_; }
  const std::string& peer_url() const { return peer_url_; }
  const std::string& name() const { return name_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }

  // SIGTERM, then SIGKILL after 10 s; idempotent.
  void Stop();

  // A cluster of `members` etcd processes on loopback (data dirs
  // <root>/etcd-0, ...), started together; returns once every member
  // serves and sees a leader.
  static absl::StatusOr<std::vector<std::unique_ptr<EtcdProcess>>> StartCluster(
      const std::string& root, int members);

 private:
  EtcdProcess() = default;
  // Forks and execs one member; does not wait for it.
  static absl::StatusOr<std::unique_ptr<EtcdProcess>> Spawn(const std::string& data_dir,
                                                            const std::string& name,
                                                            int client_port, int peer_port,
                                                            const std::string& initial_cluster);
  // Waits until it serves with a leader, or fails with its log's tail.
  absl::Status WaitServing(absl::Time deadline);
  pid_t pid_ = -1;
  std::string client_endpoint_, peer_url_, name_, data_dir_, log_path_;
};

// A TCP port on 127.0.0.1 that nothing listens on right now.
absl::StatusOr<int> FreeLoopbackPort();

}  // namespace berth::store::testing
