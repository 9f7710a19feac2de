// berthadm: bring up and join berth clusters as kubeadm does (see README.md).
// This slice has the offline phases and join's discovery:
//   berthadm token generate
//   berthadm token create [TOKEN] [--ttl 24h] [--description D] [--print-join-command] [--kubeconfig F]
//   berthadm token list | delete ID|TOKEN... [--kubeconfig F]
//   berthadm init phase bootstrap-token [--token T] [--token-ttl 24h] [--kubeconfig F]
//   berthadm init phase preflight [--ignore-preflight-errors A,B|all] [--cri-socket unix:///PATH]
//   berthadm init phase certs all [--cert-dir DIR] [--apiserver-advertise-address IP]
//       [--apiserver-cert-extra-sans A,B] [--service-cidr CIDR] [--node-name NAME]
//   berthadm init phase control-plane all [--apiserver-advertise-address IP] [--apiserver-bind-port 6443]
//       [--kubeconfig-dir DIR] [--image-import-dir DIR] [--controlplane-binary PATH]
//   berthadm init phase kubeconfig all --control-plane-endpoint HOST:PORT
//       [--cert-dir DIR] [--kubeconfig-dir DIR] [--node-name NAME]
//   berthadm certs check-expiration [--cert-dir DIR]
//   berthadm discover HOST:PORT --token T --discovery-token-ca-cert-hash sha256:H
//       [--discovery-token-unsafe-skip-ca-verification]
#include <climits>
#include <cstring>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/flags.h"
#include "common/fs.h"
#include "controlplane/berthadm/bootstrap_token.h"
#include "controlplane/berthadm/cluster_info.h"
#include "controlplane/berthadm/control_plane_pod.h"
#include "controlplane/berthadm/kubeconfig.h"
#include "controlplane/berthadm/pki.h"
#include "controlplane/berthadm/preflight.h"
#include "controlplane/berthadm/ca_pin.h"
#include "controlplane/berthadm/token_operations.h"
#include "controlplane/client/http_api_client.h"
#include "controlplane/client/kubeconfig_loader.h"
#include "common/status_macros.h"
#include "runtime-shim/image/digest.h"
#include "runtime-shim/image/registry/http_transport.h"
#include "api/k8s/codec.h"

namespace berth::berthadm {
namespace {

constexpr char kUsage[] = R"(berthadm: bring up and join berth clusters (kubeadm's commands and flags)

  berthadm token generate
  berthadm token create [TOKEN] [--ttl 24h] [--description D] [--print-join-command]
      [--kubeconfig /etc/kubernetes/admin.conf]
  berthadm token list [--kubeconfig F]
  berthadm token delete ID|TOKEN... [--kubeconfig F]
  berthadm init phase bootstrap-token [--token T] [--token-ttl 24h] [--kubeconfig F]
  berthadm init phase preflight [--ignore-preflight-errors A,B|all] [--cri-socket unix:///run/berth/berth.sock]
  berthadm init phase certs all [--cert-dir DIR] [--apiserver-advertise-address IP]
      [--apiserver-cert-extra-sans A,B] [--service-cidr CIDR] [--service-dns-domain D] [--node-name NAME]
  berthadm init phase control-plane all [--apiserver-advertise-address IP] [--apiserver-bind-port 6443]
      [--cert-dir DIR] [--kubeconfig-dir DIR] [--image-import-dir /var/lib/berth/images/import]
      [--controlplane-binary PATH] [--controlplane-data-dir /var/lib/berth/controlplane]
  berthadm init phase kubeconfig all --control-plane-endpoint HOST:PORT
      [--cert-dir DIR] [--kubeconfig-dir DIR] [--node-name NAME]
  berthadm certs check-expiration [--cert-dir DIR]
  berthadm discover HOST:PORT --token T --discovery-token-ca-cert-hash sha256:H
      [--discovery-token-unsafe-skip-ca-verification]
)";

int Fail(const std::string& message) {
  std::cerr << "berthadm: " << message << "\n";
  return 1;
}

std::string NodeNameDefault() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "localhost";
  return absl::AsciiStrToLower(host);
}

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
  bool print_join_command = false;
  bool skip_ca = false;
  bool help = false;
  std::vector<std::string> positional;
};

absl::Status Parse(const std::vector<std::string>& args, Flags* f) {
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
                                             {"description", &f->description}},
                                  .switches = {{"discovery-token-unsafe-skip-ca-verification", &f->skip_ca},
                                               {"print-join-command", &f->print_join_command},
                                               {"help", &f->help}},
                                  .positional = &f->positional});
}

ClusterPkiOptions PkiOptions(const Flags& f) {
  ClusterPkiOptions o;
  o.dir = f.cert_dir;
  o.node_name = f.node_name;
  o.advertise_address = f.advertise_address;
  o.service_cidr = f.service_cidr;
  o.dns_domain = f.dns_domain;
  o.extra_sans = absl::StrSplit(f.extra_sans, ',', absl::SkipEmpty());
  return o;
}

int Preflight(const Flags& f) {
  auto ignored = ParseIgnoredPreflightErrors(f.ignore_preflight_errors);
  if (!ignored.ok()) return Fail(std::string(ignored.status().message()));
  PreflightHost host;
  host.cert_dir = f.cert_dir;
  host.kubeconfig_dir = f.kubeconfig_dir;
  host.manifests_dir = f.kubeconfig_dir + "/manifests";
  host.cri_socket = std::string(absl::StripPrefix(f.cri_socket, "unix://"));
  std::cout << "[preflight] Running pre-flight checks\n";
  PreflightReport report = RunPreflight(InitPreflightChecks(), host, *ignored);
  std::cout << report.Text();
  return report.HasErrors() ? 1 : 0;
}

// berth-controlplane next to this binary (installed side by side) or one
// level up (the build tree: controlplane/berthadm/berthadm).
std::string DefaultControlPlaneBinary() {
  char self[PATH_MAX] = {};
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "berth-controlplane";
  std::string dir(self, static_cast<size_t>(n));
  dir = dir.substr(0, dir.rfind('/'));
  for (const std::string& candidate : {dir + "/berth-controlplane", dir + "/../berth-controlplane"}) {
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "berth-controlplane";
}

// The control plane's image (into the agent's import dir) and its static pod manifest.
int ControlPlaneAll(const Flags& f) {
  int port = 0;
  if (!absl::SimpleAtoi(f.bind_port, &port) || port <= 0 || port > 65535) {
    return Fail(absl::StrCat("--apiserver-bind-port: \"", f.bind_port, "\" is not a port"));
  }
  if (f.advertise_address.empty()) return Fail("--apiserver-advertise-address is required (the probes' address)");
  std::string binary = f.controlplane_binary.empty() ? DefaultControlPlaneBinary() : f.controlplane_binary;
  auto digest = image::Sha256File(binary);
  if (!digest.ok()) return Fail(absl::StrCat("--controlplane-binary ", binary, ": ", digest.status().message()));
  std::string name = absl::StrCat("localhost/berth/controlplane:h-", digest->substr(7, 12));
  auto spec = HostBinaryImageSpec(name, {binary});
  if (!spec.ok()) return Fail(std::string(spec.status().message()));
  if (absl::Status s = MkdirAll(f.image_import_dir); !s.ok()) return Fail(std::string(s.message()));
  // Built under a hidden name (the import watcher skips those), then renamed in whole.
  std::string hidden = f.image_import_dir + "/.berth-controlplane.tar";
  auto id = image::BuildImageArchive(*spec, hidden);
  if (!id.ok()) return Fail(absl::StrCat("building the control plane image: ", id.status().message()));
  std::string archive = f.image_import_dir + "/berth-controlplane.tar";
  if (rename(hidden.c_str(), archive.c_str()) != 0) return Fail("rename " + hidden + ": " + strerror(errno));
  std::cout << "[control-plane] Built image " << name << " (" << *id << ") into " << archive << "\n";

  ControlPlanePodOptions options;
  options.image = name;
  options.advertise_address = f.advertise_address;
  options.secure_port = port;
  options.cert_dir = f.cert_dir;
  options.data_dir = f.controlplane_data_dir;
  std::string manifests = f.kubeconfig_dir + "/manifests";
  std::string path = manifests + "/berth-controlplane.yaml";
  absl::Status written = MkdirAll(manifests);
  if (written.ok()) written = AtomicWriteFile(path, k8s::JsonToYaml(ControlPlanePod(options)), 0600);
  if (!written.ok()) return Fail(std::string(written.message()));
  std::cout << "[control-plane] Creating static Pod manifest for \"berth-controlplane\" at " << path << "\n";
  return 0;
}

// A client for the API as the kubeconfig says, and what it says.
struct Api {
  client::KubeconfigCredentials credentials;
  std::unique_ptr<client::HttpApiClient> client;
};

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

int TokenCreate(const Flags& f) {
  auto ttl = ParseTtl("ttl", f.ttl);
  if (!ttl.ok()) return Fail(std::string(ttl.status().message()));
  auto token = TokenToUse(f.positional.size() > 2 ? f.positional[2] : f.token);
  if (!token.ok()) return Fail(std::string(token.status().message()));
  auto api = ConnectApi(f);
  if (!api.ok()) return Fail(std::string(api.status().message()));
  absl::Status created = CreateToken(*api->client, *token, *ttl, f.description, absl::Now());
  if (!created.ok()) return Fail(std::string(created.message()));
  if (!f.print_join_command) {
    std::cout << token->ToString() << "\n";
    return 0;
  }
  auto hash = CaCertHash(api->credentials.ca_pem);
  if (!hash.ok()) return Fail(absl::StrCat("the kubeconfig's CA: ", hash.status().message()));
  std::cout << "berthadm join " << absl::StripPrefix(api->credentials.server, "https://") << " --token "
            << token->ToString() << " --discovery-token-ca-cert-hash " << *hash << "\n";
  return 0;
}

int TokenList(const Flags& f) {
  auto api = ConnectApi(f);
  if (!api.ok()) return Fail(std::string(api.status().message()));
  auto rows = ListTokens(*api->client, absl::Now());
  if (!rows.ok()) return Fail(std::string(rows.status().message()));
  std::cout << TokenTable(*rows);
  return 0;
}

int TokenDelete(const Flags& f) {
  if (f.positional.size() < 3) return Fail("token delete: name at least one token id or token");
  auto api = ConnectApi(f);
  if (!api.ok()) return Fail(std::string(api.status().message()));
  int failed = 0;
  for (size_t i = 2; i < f.positional.size(); ++i) {
    absl::Status deleted = DeleteToken(*api->client, f.positional[i]);
    if (!deleted.ok()) {
      std::cerr << "berthadm: " << deleted.message() << "\n";
      ++failed;
      continue;
    }
    std::cout << "bootstrap token \"" << f.positional[i].substr(0, f.positional[i].find('.')) << "\" deleted\n";
  }
  return failed == 0 ? 0 : 1;
}

// init's bootstrap-token phase: the token, then cluster-info signed with it.
int BootstrapTokenPhase(const Flags& f) {
  auto ttl = ParseTtl("token-ttl", f.token_ttl);
  if (!ttl.ok()) return Fail(std::string(ttl.status().message()));
  auto token = TokenToUse(f.token);
  if (!token.ok()) return Fail(std::string(token.status().message()));
  auto api = ConnectApi(f);
  if (!api.ok()) return Fail(std::string(api.status().message()));
  absl::Status created = CreateToken(*api->client, *token, *ttl, "The default bootstrap token generated by 'berthadm init'.", absl::Now());
  if (!created.ok()) return Fail(std::string(created.message()));
  std::cout << "[bootstrap-token] Using token: " << token->ToString() << "\n";
  absl::Status uploaded = UploadClusterInfo(*api->client, api->credentials.server, api->credentials.ca_pem, {*token});
  if (!uploaded.ok()) return Fail(std::string(uploaded.message()));
  std::cout << "[bootstrap-token] Creating the \"cluster-info\" ConfigMap in the \"kube-public\" namespace\n";
  return 0;
}

int CertsAll(const Flags& f) {
  auto results = WriteClusterPki(PkiOptions(f), absl::Now());
  if (!results.ok()) return Fail(std::string(results.status().message()));
  for (const auto& r : *results) {
    std::cout << "[certs] " << (r.created ? "Generated " : "Using existing ") << r.file << " in " << f.cert_dir
              << "\n";
  }
  return 0;
}

int KubeconfigAll(const Flags& f) {
  if (f.endpoint.empty()) return Fail("--control-plane-endpoint is required (HOST:PORT of the API server)");
  auto written = WriteKubeconfigs(f.cert_dir, f.kubeconfig_dir, "https://" + f.endpoint,
                                  StandardKubeconfigs(f.node_name));
  if (!written.ok()) return Fail(std::string(written.status().message()));
  for (const auto& file : StandardKubeconfigs(f.node_name)) {
    bool made = std::find(written->begin(), written->end(), file.file) != written->end();
    std::cout << "[kubeconfig] " << (made ? "Writing " : "Using existing ") << f.kubeconfig_dir << "/"
              << file.file << "\n";
  }
  return 0;
}

// kubeadm's table: CERTIFICATE, EXPIRES, RESIDUAL TIME, CERTIFICATE AUTHORITY.
int CheckExpiration(const Flags& f) {
  struct Row {
    const char* file;
    const char* ca;
  };
  const Row rows[] = {{"apiserver", "ca"}, {"apiserver-kubelet-client", "ca"}, {"front-proxy-client", "front-proxy-ca"},
                      {"ca", ""}, {"front-proxy-ca", ""}};
  absl::Time now = absl::Now();
  std::printf("%-26s %-26s %-15s %s\n", "CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY");
  int missing = 0;
  for (const Row& row : rows) {
    auto pem = ReadFile(absl::StrCat(f.cert_dir, "/", row.file, ".crt"));
    auto info = pem.ok() ? ParseCertificate(*pem) : absl::StatusOr<CertificateInfo>(pem.status());
    if (!info.ok()) {
      std::printf("%-26s %s\n", row.file, std::string(info.status().message()).c_str());
      ++missing;
      continue;
    }
    absl::Duration left = info->not_after - now;
    std::string residual = left <= absl::ZeroDuration()
                               ? "<invalid>"
                               : (left >= absl::Hours(48) ? absl::StrCat(absl::ToInt64Hours(left) / 24, "d")
                                                          : absl::StrCat(absl::ToInt64Hours(left), "h"));
    std::printf("%-26s %-26s %-15s %s\n", row.file,
                absl::FormatTime("%b %d, %Y %H:%M UTC", info->not_after, absl::UTCTimeZone()).c_str(),
                residual.c_str(), row.ca);
  }
  return missing == 0 ? 0 : 1;
}

int Discover(const Flags& f) {
  if (f.positional.size() != 2) return Fail("discover: want the API server as HOST:PORT");
  auto token = ParseBootstrapToken(f.token);
  if (!token.ok()) return Fail(std::string(token.status().message()));
  std::vector<std::string> pins;
  if (!f.ca_hash.empty()) pins = absl::StrSplit(f.ca_hash, ',', absl::SkipEmpty());
  // cluster-info is fetched before any CA is trusted: TLS is not verified
  // here (as kubeadm); the signature and the pin are what is trusted.
  image::registry::HttpRequest request;
  request.url = absl::StrCat("https://", f.positional[1], "/api/v1/namespaces/kube-public/configmaps/cluster-info");
  request.timeout_s = 30;
  request.verify_tls = false;
  auto response = image::registry::NewCurlTransport()->Do(request, nullptr);
  if (!response.ok()) return Fail(absl::StrCat("fetch cluster-info from ", f.positional[1], ": ", response.status().message()));
  if (response->status != 200) {
    return Fail(absl::StrCat("fetch cluster-info from ", f.positional[1], ": HTTP ", response->status));
  }
  auto config_map = nlohmann::json::parse(response->body, nullptr, false);
  if (config_map.is_discarded()) return Fail("cluster-info: the response is not JSON");
  auto found = DiscoverFromClusterInfo(config_map, *token, pins, f.skip_ca);
  if (!found.ok()) return Fail(std::string(found.status().message()));
  std::cout << "[discovery] Cluster info signature and contents are valid and the CA is pinned; API server "
            << found->server << "\n";
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  Flags f;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (absl::Status s = Parse(args, &f); !s.ok()) return Fail(absl::StrCat(s.message(), "\n", kUsage));
  const auto& p = f.positional;
  auto is = [&](std::initializer_list<const char*> words) {
    if (p.size() < words.size()) return false;
    size_t i = 0;
    for (const char* w : words) {
      if (p[i++] != w) return false;
    }
    return true;
  };
  if (f.help || p.empty()) {
    std::cout << kUsage;
    return f.help ? 0 : 1;
  }
  if (is({"token", "generate"})) {
    auto token = GenerateBootstrapToken();
    if (!token.ok()) return Fail(std::string(token.status().message()));
    std::cout << token->ToString() << "\n";
    return 0;
  }
  if (is({"init", "phase", "preflight"})) return Preflight(f);
  if (is({"token", "create"})) return TokenCreate(f);
  if (is({"token", "list"})) return TokenList(f);
  if (is({"token", "delete"})) return TokenDelete(f);
  if (is({"init", "phase", "bootstrap-token"})) return BootstrapTokenPhase(f);
  if (is({"init", "phase", "certs", "all"})) return CertsAll(f);
  if (is({"init", "phase", "control-plane", "all"})) return ControlPlaneAll(f);
  if (is({"init", "phase", "kubeconfig", "all"})) return KubeconfigAll(f);
  if (is({"certs", "check-expiration"})) return CheckExpiration(f);
  if (is({"discover"})) return Discover(f);
  return Fail(absl::StrCat("unknown command \"", absl::StrJoin(p, " "), "\"\n", kUsage));
}

}  // namespace berth::berthadm

int main(int argc, char** argv) { return berth::berthadm::Main(argc, argv); }
