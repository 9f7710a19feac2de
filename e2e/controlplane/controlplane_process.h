// Test support: a test PKI (make_test_pki.sh), berth-controlplane started on
// 127.0.0.1 with a free port under a temporary root, kubeconfigs for its
// users, and kubectl run against it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::e2e {

struct ControlPlaneOptions {
  std::string root;         // temporary directory (PKI in root/pki)
  std::string store_url;    // default sqlite://<root>/cp.db
  std::vector<std::string> extra_flags;
};

class ControlPlaneProcess {
 public:
  // Writes the PKI if root/pki is missing, then starts the binary and waits
  // until /readyz answers.
  static absl::StatusOr<std::unique_ptr<ControlPlaneProcess>> Start(const ControlPlaneOptions& options);
  ~ControlPlaneProcess();

  // SIGTERM and wait (SIGKILL after 10 s).
  void Stop();
  absl::Status Restart();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string server() const;
  const std::string& pki() const { return pki_; }
  // A kubeconfig for the client certificate `user` ("admin", "node1", ...),
  // signed by `ca_dir`'s files (defaults to the cluster CA).
  absl::StatusOr<std::string> Kubeconfig(const std::string& user);
  std::string LogTail() const;

 private:
  absl::Status Spawn();
  ControlPlaneOptions options_;
  std::string pki_, log_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// The berth-controlplane binary (BERTH_CONTROLPLANE_PATH).
std::string ControlPlaneBinary();

// kubectl --kubeconfig K args...; the output (stdout and stderr), or an
// error holding it when kubectl exits non-zero.
absl::StatusOr<std::string> Kubectl(const std::string& kubeconfig, const std::vector<std::string>& args,
                                    absl::Duration timeout = absl::Seconds(60));

}  // namespace berth::e2e
