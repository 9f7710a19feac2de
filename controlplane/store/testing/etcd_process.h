// Test support: one etcd member (Debian's /usr/bin/etcd) on loopback with
// free ports and a data dir under the test's temporary root. It is killed
// when the object goes, and (PR_SET_PDEATHSIG) when the test process dies.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

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

 private:
  EtcdProcess() = default;
  pid_t pid_ = -1;
  std::string client_endpoint_, peer_url_, name_, data_dir_, log_path_;
};

// A TCP port on 127.0.0.1 that nothing listens on right now.
absl::StatusOr<int> FreeLoopbackPort();

}  // namespace berth::store::testing
