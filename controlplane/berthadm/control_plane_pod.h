// The control plane as `berthadm init` runs it: a static pod that the
// node's own berth-agent starts from /etc/kubernetes/manifests, as kubeadm
// runs kube-apiserver. Its image is built on this host from the installed
// berth-controlplane binary and the shared libraries it loads (ldd), so a
// host without a registry can run it.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "runtime-shim/image/image_builder.h"

namespace berth::berthadm {

// The files of an image holding `binaries` (at /usr/local/bin/<name>) and
// every shared library and the ELF interpreter they load, each at its real
// path, with the host's symlinks on the way mirrored (merged /usr: /lib ->
// usr/lib, /lib64 -> usr/lib64, ...). Entrypoint: the first binary.
absl::StatusOr<image::ImageBuildSpec> HostBinaryImageSpec(const std::string& name,
                                                          const std::vector<std::string>& binaries);

// The libraries and interpreter `binary` needs, as ldd lists them.
absl::StatusOr<std::vector<std::string>> SharedLibraries(const std::string& binary);

struct ControlPlanePodOptions {
  std::string image;                 // "localhost/berth/controlplane:<version>"
  std::string advertise_address;     // the probes' host and the endpoint annotation
  int secure_port = 6443;
  std::string bind_address = "0.0.0.0";
  std::string cert_dir = "/etc/kubernetes/pki";
  std::string data_dir = "/var/lib/berth/controlplane";
  std::string store;                 // "" -> sqlite://<data_dir>/cp.db
  std::vector<std::string> extra_args;
};

// The kube-system/berth-controlplane Pod: hostNetwork, system-node-critical,
// the PKI read-only and the data dir as hostPath volumes, startup, liveness
// (/livez) and readiness (/readyz) probes over HTTPS on the advertise
// address, as kubeadm writes kube-apiserver.yaml.
nlohmann::json ControlPlanePod(const ControlPlanePodOptions& options);

}  // namespace berth::berthadm
