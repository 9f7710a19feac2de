// berthadm's preflight checks, as kubeadm's: each check has kubeadm's name
// (IsPrivilegedUser, Port-6443, Swap, FileContent--proc-sys-net-ipv4-ip_forward,
// SystemVerification, CRI, DirAvailable--..., FileAvailable--...) and yields
// errors or warnings; `--ignore-preflight-errors` (names, case-insensitive,
// or "all") turns a check's errors into warnings. Every path the checks read
// comes from PreflightHost, so tests run them against a directory of their
// own instead of the machine's /proc and /etc.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace berth::berthadm {

struct PreflightHost {
  std::string proc_dir = "/proc";
  std::string manifests_dir = "/etc/kubernetes/manifests";
  std::string kubeconfig_dir = "/etc/kubernetes";
  std::string cert_dir = "/etc/kubernetes/pki";
  std::string controlplane_data_dir = "/var/lib/berth/controlplane";
  std::string cri_socket = "/run/berth/berth.sock";
  std::string bind_address = "0.0.0.0";  // where the ports must be free
  std::vector<int> ports = {6443, 10250};
};

struct PreflightFinding {
  std::string check;    // kubeadm's name, e.g. "Port-6443"
  std::string message;  // what is wrong and how to fix it
  bool error = true;    // false: a warning
};

struct PreflightCheck {
  std::string name;
  std::function<std::vector<PreflightFinding>(const PreflightHost&)> run;
};

// The checks `berthadm init` runs (root, CPUs, memory, ports, swap,
// ip_forward, cgroup controllers, the CRI socket, and nothing left of an
// earlier init: the control-plane manifest, kubeconfigs, a non-empty
// manifests dir or control-plane data dir).
std::vector<PreflightCheck> InitPreflightChecks();
// The checks `berthadm join` runs (root, ports 10250, swap, ip_forward,
// cgroups, the CRI socket, no kubelet.conf yet).
std::vector<PreflightCheck> JoinPreflightChecks();

// "a,B,all" -> {"a", "b", "all"} (lower case); an empty name is refused.
absl::StatusOr<std::set<std::string>> ParseIgnoredPreflightErrors(const std::string& flag);

struct PreflightReport {
  std::vector<PreflightFinding> findings;  // ignored errors are here as warnings
  // kubeadm's text: "[WARNING Swap]: ..." lines, then, when errors remain,
  // "[preflight] Some fatal errors occurred:" and the "[ERROR X]: ..." lines.
  std::string Text() const;
  bool HasErrors() const;
};

PreflightReport RunPreflight(const std::vector<PreflightCheck>& checks, const PreflightHost& host,
                             const std::set<std::string>& ignored);

}  // namespace berth::berthadm
