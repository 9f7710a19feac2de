#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/flags.h"
#include "common/status_macros.h"
#include "controlplane/berthadm/berthadm_cli.h"

namespace berth::berthadm {

std::string NodeNameDefault() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "localhost";
  return absl::AsciiStrToLower(host);
}

absl::Status ParseBerthadmFlags(const std::vector<std::string>& args, Flags* f) {
  return ParseFlags(args, FlagSet{.values = {{"cert-dir", &f->cert_dir},
                                             {"kubeconfig-dir", &f->kubeconfig_dir},
                                             {"apiserver-advertise-address", &f->advertise_address},
                                             {"apiserver-cert-extra-sans", &f->extra_sans},
                                             {"service-cidr", &f->service_cidr},
                                             {"service-dns-domain", &f->dns_domain},
                                             {"node-name", &f->node_name},
                                             {"control-plane-endpoint", &f->endpoint},
                                             {"token", &f->token},
                                             {"discovery-token-ca-cert-hash", &f->ca_hash},
                                             {"ignore-preflight-errors", &f->ignore_preflight_errors},
                                             {"cri-socket", &f->cri_socket},
                                             {"apiserver-bind-port", &f->bind_port},
                                             {"image-import-dir", &f->image_import_dir},
                                             {"controlplane-binary", &f->controlplane_binary},
                                             {"controlplane-data-dir", &f->controlplane_data_dir},
                                             {"kubeconfig", &f->kubeconfig},
                                             {"ttl", &f->ttl},
                                             {"token-ttl", &f->token_ttl},
                                             {"description", &f->description},
                                             {"timeout", &f->timeout}},
                                  .switches = {{"discovery-token-unsafe-skip-ca-verification", &f->skip_ca},
                                               {"print-join-command", &f->print_join_command},
                                               {"help", &f->help}},
                                  .positional = &f->positional});
}

int Fail(const std::string& message) {
  std::cerr << "berthadm: " << message << "\n";
  return 1;
}

absl::StatusOr<Api> ConnectApi(const Flags& f) {
  Api api;
  ASSIGN_OR_RETURN(api.credentials, client::LoadKubeconfig(f.kubeconfig));
  ASSIGN_OR_RETURN(api.client, client::HttpApiClient::Create(api.credentials));
  return api;
}

absl::StatusOr<absl::Duration> ParseTtl(const std::string& flag, const std::string& value) {
  absl::Duration ttl;
  if (!absl::ParseDuration(value, &ttl) || ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": \"", value, "\" is not a duration such as 24h (0: never expires)"));
  }
  return ttl;
}

// The token from the flag or the positional argument, or a new one.
absl::StatusOr<BootstrapToken> TokenToUse(const std::string& given) {
  return given.empty() ? GenerateBootstrapToken() : ParseBootstrapToken(given);
}

}  // namespace berth::berthadm
