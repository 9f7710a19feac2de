// berthadm: bring up and join berth clusters as kubeadm does (see README.md).
// This slice has the offline phases and join's discovery:
//   berthadm init [...]: preflight, certs, kubeconfig, control-plane, wait, bootstrap-token
//   berthadm reset: removes what init made
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
//   berthadm certs renew all [--cert-dir DIR] [--kubeconfig-dir DIR]
//   berthadm discover HOST:PORT --token T --discovery-token-ca-cert-hash sha256:H
//       [--discovery-token-unsafe-skip-ca-verification]
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "controlplane/berthadm/berthadm_cli.h"
#include "controlplane/berthadm/bootstrap_token.h"
#include "controlplane/berthadm/cluster_info.h"
#include "controlplane/berthadm/pki.h"
#include "runtime-shim/image/registry/http_transport.h"

namespace berth::berthadm {
namespace {

constexpr char kUsage[] = R"(berthadm: bring up and join berth clusters (kubeadm's commands and flags)

  berthadm init [--apiserver-advertise-address IP] [--apiserver-bind-port 6443] [--node-name N]
      [--token T] [--token-ttl 24h] [--ignore-preflight-errors A,B|all] [--cri-socket unix:///PATH]
      [--cert-dir DIR] [--kubeconfig-dir DIR] [--image-import-dir DIR] [--timeout 4m]
  berthadm reset [--cert-dir DIR] [--kubeconfig-dir DIR] [--image-import-dir DIR] [--controlplane-data-dir DIR]
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
  berthadm certs renew all [--cert-dir DIR] [--kubeconfig-dir DIR] [--node-name NAME]
  berthadm discover HOST:PORT --token T --discovery-token-ca-cert-hash sha256:H
      [--discovery-token-unsafe-skip-ca-verification]
)";

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
  if (absl::Status s = ParseBerthadmFlags(args, &f); !s.ok()) return Fail(absl::StrCat(s.message(), "\n", kUsage));
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
  if (p.size() == 1 && p[0] == "init") return Init(f);
  if (p.size() == 1 && p[0] == "reset") return Reset(f);
  if (is({"token", "create"})) return TokenCreate(f);
  if (is({"token", "list"})) return TokenList(f);
  if (is({"token", "delete"})) return TokenDelete(f);
  if (is({"init", "phase", "bootstrap-token"})) return BootstrapTokenPhase(f);
  if (is({"init", "phase", "certs", "all"})) return CertsAll(f);
  if (is({"init", "phase", "control-plane", "all"})) return ControlPlaneAll(f);
  if (is({"init", "phase", "kubeconfig", "all"})) return KubeconfigAll(f);
  if (is({"certs", "check-expiration"})) return CheckExpiration(f);
  if (is({"certs", "renew", "all"})) return CertsRenewAll(f);
  if (is({"discover"})) return Discover(f);
  return Fail(absl::StrCat("unknown command \"", absl::StrJoin(p, " "), "\"\n", kUsage));
}

}  // namespace berth::berthadm

int main(int argc, char** argv) { return berth::berthadm::Main(argc, argv); }
