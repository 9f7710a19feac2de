// berth-controlplane's command line: `serve` flags (kube-apiserver's names)
// and the `snapshot save|restore FILE --store URL` subcommands.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/apiserver/api_server.h"

namespace berth::controlplane {

struct ControlPlaneFlags {
  enum class Command { kServe, kSnapshotSave, kSnapshotRestore, kHelp };
  Command command = Command::kServe;
  std::string store_url = "sqlite:///var/lib/berth/cp.db";
  std::string snapshot_file;
  std::string etcd_data_dir;  // snapshot restore into etcd: the new member's data dir
  apiserver::ApiServerOptions server;
  std::string log_level = "info";
  // --scheduler: run the scheduler (leader-elected) in this process.
  bool scheduler = true;
  // --leader-elect: take the kube-system Leases before scheduling (as kube-scheduler).
  bool leader_elect = true;
  // --controllers: "true" (all), "false" (none) or a comma list (replicaset,deployment).
  std::string controllers = "true";
};

// Parses `--name value` and `--name=value`; unknown or malformed flags are
// InvalidArgument naming them.
absl::StatusOr<ControlPlaneFlags> ParseControlPlaneFlags(const std::vector<std::string>& args);

std::string ControlPlaneUsage();

}  // namespace berth::controlplane
