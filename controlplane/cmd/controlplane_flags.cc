#include "controlplane/cmd/controlplane_flags.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace berth::controlplane {

std::string ControlPlaneUsage() {
  return R"(usage:
  berth-controlplane [serve] --tls-cert-file F --tls-private-key-file F [--client-ca-file F]
      [--secure-port 6443] [--bind-address 127.0.0.1] [--store sqlite:///var/lib/berth/cp.db|etcd://h:p,...]
      [--token-auth-file F] [--encryption-provider-config F] [--v info|debug]
      [--scheduler=true|false]     run the scheduler in this process (default true)
      [--leader-elect=true|false]  schedule only while holding the Lease kube-system/kube-scheduler (default true)
      [--controllers=true|false|NAME,...]  the controllers (replicaset, deployment, job, garbagecollector) this
                                   process runs while holding the Lease kube-system/kube-controller-manager
                                   (default true: all)
  berth-controlplane snapshot save FILE --store URL
  berth-controlplane snapshot restore FILE --store URL [--etcd-data-dir DIR]
)";
}

absl::StatusOr<ControlPlaneFlags> ParseControlPlaneFlags(const std::vector<std::string>& args) {
  ControlPlaneFlags flags;
  flags.server.https.bind_address = "0.0.0.0";
  size_t i = 0;
  std::vector<std::string> positional;
  if (i < args.size() && args[i] == "serve") ++i;
  if (i < args.size() && args[i] == "snapshot") {
    if (i + 2 >= args.size()) {
      return absl::InvalidArgumentError("snapshot: want `snapshot save FILE` or `snapshot restore FILE`");
    }
    if (args[i + 1] == "save") {
      flags.command = ControlPlaneFlags::Command::kSnapshotSave;
    } else if (args[i + 1] == "restore") {
      flags.command = ControlPlaneFlags::Command::kSnapshotRestore;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("snapshot: unknown action \"", args[i + 1], "\" (want save or restore)"));
    }
    flags.snapshot_file = args[i + 2];
    i += 3;
  }
  for (; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "-h" || arg == "--help" || arg == "help") {
      flags.command = ControlPlaneFlags::Command::kHelp;
      return flags;
    }
    if (!absl::StartsWith(arg, "--")) return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\""));
    std::string name = arg.substr(2), value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else {
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      value = args[++i];
    }
    auto& https = flags.server.https;
    if (name == "store") {
      flags.store_url = value;
    } else if (name == "tls-cert-file") {
      https.cert_file = value;
    } else if (name == "tls-private-key-file") {
      https.key_file = value;
    } else if (name == "client-ca-file") {
      https.client_ca_file = value;
    } else if (name == "bind-address") {
      https.bind_address = value;
    } else if (name == "secure-port") {
      if (!absl::SimpleAtoi(value, &https.port) || https.port < 0 || https.port > 65535) {
        return absl::InvalidArgumentError(absl::StrCat("--secure-port: \"", value, "\" is not a port (0-65535)"));
      }
    } else if (name == "token-auth-file") {
      flags.server.token_auth_file = value;
    } else if (name == "encryption-provider-config") {
      flags.server.encryption_provider_config = value;
    } else if (name == "etcd-data-dir") {
      flags.etcd_data_dir = value;
    } else if (name == "controllers") {
      flags.controllers = value;  // names are checked when the controller manager starts
    } else if (name == "scheduler" || name == "leader-elect") {
      if (value != "true" && value != "false") {
        return absl::InvalidArgumentError(absl::StrCat("--", name, ": \"", value, "\" is not true or false"));
      }
      (name == "scheduler" ? flags.scheduler : flags.leader_elect) = value == "true";
    } else if (name == "v") {
      if (value != "debug" && value != "info" && value != "warning" && value != "error") {
        return absl::InvalidArgumentError(absl::StrCat("--v: \"", value, "\" is not debug, info, warning or error"));
      }
      flags.log_level = value;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
  }
  if (flags.command == ControlPlaneFlags::Command::kServe) {
    if (flags.server.https.cert_file.empty()) return absl::InvalidArgumentError("--tls-cert-file is required");
    if (flags.server.https.key_file.empty()) return absl::InvalidArgumentError("--tls-private-key-file is required");
  }
  return flags;
}

}  // namespace berth::controlplane
