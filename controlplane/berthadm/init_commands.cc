#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "api/k8s/codec.h"
#include "common/errors.h"
#include "common/fs.h"
#include "controlplane/berthadm/berthadm_cli.h"
#include "controlplane/berthadm/ca_pin.h"
#include "common/status_macros.h"
#include "controlplane/berthadm/control_plane_pod.h"
#include "controlplane/berthadm/kubeconfig.h"
#include "controlplane/berthadm/pki.h"
#include "controlplane/berthadm/preflight.h"
#include "controlplane/berthadm/token_operations.h"
#include "runtime-shim/image/digest.h"

namespace berth::berthadm {
namespace {

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

}  // namespace

int Preflight(const Flags& f) {
  auto ignored = ParseIgnoredPreflightErrors(f.ignore_preflight_errors);
  if (!ignored.ok()) return Fail(std::string(ignored.status().message()));
  PreflightHost host;
  host.cert_dir = f.cert_dir;
  host.kubeconfig_dir = f.kubeconfig_dir;
  host.manifests_dir = f.kubeconfig_dir + "/manifests";
  host.cri_socket = std::string(absl::StripPrefix(f.cri_socket, "unix://"));
  host.controlplane_data_dir = f.controlplane_data_dir;
  int port = 0;
  if (absl::SimpleAtoi(f.bind_port, &port)) host.ports = {port, 10250};
  std::cout << "[preflight] Running pre-flight checks\n";
  PreflightReport report = RunPreflight(InitPreflightChecks(), host, *ignored);
  std::cout << report.Text();
  return report.HasErrors() ? 1 : 0;
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
  // Written under a hidden name (the agent, as the kubelet, skips those; a
  // visible temporary file would be run as a pod of its own), then renamed.
  std::string hidden_manifest = manifests + "/.berth-controlplane.yaml";
  absl::Status written = MkdirAll(manifests);
  if (written.ok()) written = AtomicWriteFile(hidden_manifest, k8s::JsonToYaml(ControlPlanePod(options)), 0600);
  if (written.ok() && rename(hidden_manifest.c_str(), path.c_str()) != 0) {
    written = ErrnoError("rename " + hidden_manifest);
  }
  if (!written.ok()) return Fail(std::string(written.message()));
  std::cout << "[control-plane] Creating static Pod manifest for \"berth-controlplane\" at " << path << "\n";
  return 0;
}

namespace {

// init's bootstrap-token phase: the token, then cluster-info signed with it.
absl::StatusOr<BootstrapToken> PublishBootstrapToken(const Flags& f) {
  ASSIGN_OR_RETURN(absl::Duration ttl, ParseTtl("token-ttl", f.token_ttl));
  ASSIGN_OR_RETURN(BootstrapToken token, TokenToUse(f.token));
  ASSIGN_OR_RETURN(Api api, ConnectApi(f));
  RETURN_IF_ERROR(CreateToken(*api.client, token, ttl, "The default bootstrap token generated by 'berthadm init'.",
                              absl::Now()));
  std::cout << "[bootstrap-token] Using token: " << token.ToString() << "\n";
  RETURN_IF_ERROR(UploadClusterInfo(*api.client, api.credentials.server, api.credentials.ca_pem, {token}));
  std::cout << "[bootstrap-token] Creating the \"cluster-info\" ConfigMap in the \"kube-public\" namespace\n";
  return token;
}

// The IPv4 address of the interface the default route leaves by (kubeadm's
// choice), else 127.0.0.1.
std::string DefaultAdvertiseAddress() {
  auto routes = ReadFile("/proc/net/route");
  std::string device;
  if (routes.ok()) {
    for (absl::string_view line : absl::StrSplit(*routes, '\n', absl::SkipEmpty())) {
      std::vector<std::string> fields = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      if (fields.size() > 2 && fields[1] == "00000000") {
        device = fields[0];
        break;
      }
    }
  }
  std::string address = "127.0.0.1";
  ifaddrs* list = nullptr;
  if (device.empty() || getifaddrs(&list) != 0) return address;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET || device != a->ifa_name) continue;
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    address = text;
    break;
  }
  freeifaddrs(list);
  return address;
}

// Polls the API server with admin.conf until it serves the kube-system
// namespace (the store answers, and what init writes next has its place).
absl::Status WaitForControlPlane(const Flags& f, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  absl::Status last = absl::UnavailableError("not tried");
  while (absl::Now() < deadline) {
    auto api = ConnectApi(f);
    if (api.ok()) {
      auto kube_system = api->client->Get(client::resources::kNamespaces, "", "kube-system");
      if (kube_system.ok()) return absl::OkStatus();
      last = kube_system.status();
    } else {
      last = api.status();
    }
    absl::SleepFor(absl::Milliseconds(500));
  }
  return absl::DeadlineExceededError(absl::StrCat("the control plane did not serve namespace kube-system within ",
                                                  absl::FormatDuration(timeout), ": ", last.message()));
}

}  // namespace

int BootstrapTokenPhase(const Flags& f) {
  auto token = PublishBootstrapToken(f);
  return token.ok() ? 0 : Fail(std::string(token.status().message()));
}

int Init(const Flags& given) {
  Flags f = given;
  absl::Duration timeout;
  if (!absl::ParseDuration(f.timeout, &timeout) || timeout <= absl::ZeroDuration()) {
    return Fail(absl::StrCat("--timeout: \"", f.timeout, "\" is not a duration such as 4m"));
  }
  if (f.advertise_address.empty()) f.advertise_address = DefaultAdvertiseAddress();
  if (f.endpoint.empty()) f.endpoint = absl::StrCat(f.advertise_address, ":", f.bind_port);
  f.kubeconfig = f.kubeconfig_dir + "/admin.conf";
  std::cout << "[init] Using the control plane endpoint " << f.endpoint << "\n";
  if (int rc = Preflight(f); rc != 0) return rc;
  if (int rc = CertsAll(f); rc != 0) return rc;
  if (int rc = KubeconfigAll(f); rc != 0) return rc;
  if (int rc = ControlPlaneAll(f); rc != 0) return rc;
  std::cout << "[wait-control-plane] Waiting for the berth-agent to boot up the control plane as a static Pod from "
               "directory \"" << f.kubeconfig_dir << "/manifests\". This can take up to " << f.timeout << "\n";
  absl::Time started = absl::Now();
  if (absl::Status up = WaitForControlPlane(f, timeout); !up.ok()) return Fail(std::string(up.message()));
  std::cout << "[apiclient] All control plane components are healthy after "
            << absl::StrFormat("%.6f", absl::ToDoubleSeconds(absl::Now() - started)) << " seconds\n";
  auto token = PublishBootstrapToken(f);
  if (!token.ok()) return Fail(std::string(token.status().message()));
  auto ca = ReadFile(f.cert_dir + "/ca.crt");
  auto hash = ca.ok() ? CaCertHash(*ca) : absl::StatusOr<std::string>(ca.status());
  if (!hash.ok()) return Fail(absl::StrCat("the cluster CA: ", hash.status().message()));
  std::cout << "\nYour berth control-plane has initialized successfully!\n\n"
            << "To start using your cluster, run:\n\n  export KUBECONFIG=" << f.kubeconfig << "\n\n"
            << "Then you can join any number of worker nodes by running the following on each as root:\n\n"
            << "berthadm join " << f.endpoint << " --token " << token->ToString()
            << " \\\n\t--discovery-token-ca-cert-hash " << *hash << "\n";
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

int CertsRenewAll(const Flags& f) {
  auto certs = RenewClusterPki(f.cert_dir);
  if (!certs.ok()) return Fail(std::string(certs.status().message()));
  for (const auto& file : *certs) std::cout << "[renew] " << f.cert_dir << "/" << file << " renewed\n";
  auto confs = RenewKubeconfigs(f.cert_dir, f.kubeconfig_dir, StandardKubeconfigs(f.node_name));
  if (!confs.ok()) return Fail(std::string(confs.status().message()));
  for (const auto& file : *confs) {
    std::cout << "[renew] the certificate embedded in " << f.kubeconfig_dir << "/" << file << " renewed\n";
  }
  std::cout << "\nDone renewing certificates. berth-controlplane reloads its serving certificate on restart: "
               "restart its static pod (move its manifest out of the manifests dir and back).\n";
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

}  // namespace berth::berthadm
