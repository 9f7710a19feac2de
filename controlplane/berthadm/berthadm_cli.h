// The berthadm command line: its flags (kubeadm's names) and commands, one
// function per command, shared by berthadm_main.cc (dispatch),
// init_commands.cc (init and its phases) and token_commands.cc.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/berthadm/bootstrap_token.h"
#include "controlplane/client/http_api_client.h"
#include "controlplane/client/kubeconfig_loader.h"

namespace berth::berthadm {

// This host's name in lower case (kubeadm's default node name).
std::string NodeNameDefault();

struct Flags {
  std::string cert_dir = "/etc/kubernetes/pki";
  std::string kubeconfig_dir = "/etc/kubernetes";
  std::string advertise_address;
  std::string extra_sans;
  std::string service_cidr = "10.96.0.0/12";
  std::string dns_domain = "cluster.local";
  std::string node_name = NodeNameDefault();
  std::string endpoint;
  std::string token;
  std::string ca_hash;
  std::string ignore_preflight_errors;
  std::string cri_socket = "unix:///run/berth/berth.sock";
  std::string bind_port = "6443";
  std::string image_import_dir = "/var/lib/berth/images/import";
  std::string controlplane_binary;
  std::string controlplane_data_dir = "/var/lib/berth/controlplane";
  std::string kubeconfig = "/etc/kubernetes/admin.conf";
  std::string ttl = "24h";
  std::string token_ttl = "24h";
  std::string description;
  std::string timeout = "4m";
  bool print_join_command = false;
  bool skip_ca = false;
  bool help = false;
  std::vector<std::string> positional;
};

absl::Status ParseBerthadmFlags(const std::vector<std::string>& args, Flags* f);

// Prints "berthadm: <message>" to stderr; returns the exit status 1.
int Fail(const std::string& message);

// A client for the API as the kubeconfig says, and what it says.
struct Api {
  client::KubeconfigCredentials credentials;
  std::unique_ptr<client::HttpApiClient> client;
};

absl::StatusOr<Api> ConnectApi(const Flags& f);

// A Go-style duration flag ("24h", "0": never expires).
absl::StatusOr<absl::Duration> ParseTtl(const std::string& flag, const std::string& value);
// The token given (checked), or a new one when `given` is empty.
absl::StatusOr<BootstrapToken> TokenToUse(const std::string& given);

// init and its phases (init_commands.cc).
int Init(const Flags& f);
int Preflight(const Flags& f);
int CertsAll(const Flags& f);
int KubeconfigAll(const Flags& f);
int CertsRenewAll(const Flags& f);
int ControlPlaneAll(const Flags& f);
int BootstrapTokenPhase(const Flags& f);

// reset (reset_command.cc).
int Reset(const Flags& f);

// token create / list / delete (token_commands.cc).
int TokenCreate(const Flags& f);
int TokenList(const Flags& f);
int TokenDelete(const Flags& f);

}  // namespace berth::berthadm
