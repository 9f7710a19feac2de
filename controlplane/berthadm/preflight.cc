#include "controlplane/berthadm/preflight.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fs.h"

namespace berth::berthadm {
namespace {

using Findings = std::vector<PreflightFinding>;

Findings One(const std::string& check, const std::string& message, bool error = true) {
  return {PreflightFinding{check, message, error}};
}

// kubeadm's names for path checks: "/etc/kubernetes/manifests" -> "-etc-kubernetes-manifests".
std::string PathName(const std::string& path) { return absl::StrReplaceAll(path, {{"/", "-"}}); }

PreflightCheck IsPrivilegedUser() {
  return {"IsPrivilegedUser", [](const PreflightHost&) -> Findings {
            if (geteuid() == 0) return {};
            return One("IsPrivilegedUser", "user is not running as root");
          }};
}

PreflightCheck NumCpu(int min) {
  return {"NumCPU", [min](const PreflightHost& host) -> Findings {
            auto stat = ReadFile(host.proc_dir + "/stat");
            if (!stat.ok()) return One("NumCPU", absl::StrCat("cannot count CPUs: ", stat.status().message()));
            int cpus = 0;
            for (absl::string_view line : absl::StrSplit(*stat, '\n')) {
              if (absl::StartsWith(line, "cpu") && line.size() > 3 && absl::ascii_isdigit(line[3])) ++cpus;
            }
            if (cpus >= min) return {};
            return One("NumCPU", absl::StrCat("the number of available CPUs ", cpus,
                                              " is less than the required ", min));
          }};
}

PreflightCheck Memory(int64_t min_mib) {
  return {"Mem", [min_mib](const PreflightHost& host) -> Findings {
            auto info = ReadFile(host.proc_dir + "/meminfo");
            if (!info.ok()) return One("Mem", absl::StrCat("cannot read memory size: ", info.status().message()));
            for (absl::string_view line : absl::StrSplit(*info, '\n')) {
              if (!absl::ConsumePrefix(&line, "MemTotal:")) continue;
              int64_t kib = 0;
              std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
              if (parts.empty() || !absl::SimpleAtoi(parts[0], &kib)) break;
              if (kib / 1024 >= min_mib) return {};
              return One("Mem", absl::StrCat("the system RAM (", kib / 1024, " MB) is less than the minimum ",
                                             min_mib, " MB"));
            }
            return One("Mem", "no MemTotal in " + host.proc_dir + "/meminfo");
          }};
}

PreflightCheck PortsFree() {
  // One check per port, named Port-N; run together so the list follows host.ports.
  return {"Port", [](const PreflightHost& host) -> Findings {
            Findings out;
            for (int port : host.ports) {
              int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
              if (fd < 0) {
                out.push_back({absl::StrCat("Port-", port), absl::StrCat("socket: ", strerror(errno)), true});
                continue;
              }
              int one = 1;
              setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
              sockaddr_in addr{};
              addr.sin_family = AF_INET;
              addr.sin_port = htons(static_cast<uint16_t>(port));
              if (inet_pton(AF_INET, host.bind_address.c_str(), &addr.sin_addr) != 1) addr.sin_addr.s_addr = INADDR_ANY;
              if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
                out.push_back({absl::StrCat("Port-", port), absl::StrCat("Port ", port, " is in use"), true});
              }
              close(fd);
            }
            return out;
          }};
}

PreflightCheck Swap() {
  return {"Swap", [](const PreflightHost& host) -> Findings {
            auto swaps = ReadFile(host.proc_dir + "/swaps");
            if (!swaps.ok()) return {};
            std::vector<absl::string_view> lines = absl::StrSplit(*swaps, '\n', absl::SkipWhitespace());
            if (lines.size() <= 1) return {};  // only the header
            return One("Swap",
                       "swap is supported for cgroup v2 only; the agent's memory accounting ignores swap (turn it off "
                       "with `swapoff -a`)",
                       /*error=*/false);
          }};
}

PreflightCheck IpForward() {
  const std::string name = "FileContent--proc-sys-net-ipv4-ip_forward";
  return {name, [name](const PreflightHost& host) -> Findings {
            std::string path = host.proc_dir + "/sys/net/ipv4/ip_forward";
            auto value = ReadFile(path);
            if (value.ok() && absl::StripAsciiWhitespace(*value) == "1") return {};
            return One(name, absl::StrCat(path, " contents are not set to 1 (pods on other nodes are unreachable; "
                                                "`sysctl -w net.ipv4.ip_forward=1`)"));
          }};
}

PreflightCheck CgroupControllers() {
  return {"SystemVerification", [](const PreflightHost& host) -> Findings {
            auto cgroups = ReadFile(host.proc_dir + "/cgroups");
            if (!cgroups.ok()) {
              return One("SystemVerification", absl::StrCat("cannot read ", host.proc_dir, "/cgroups: ",
                                                            cgroups.status().message()));
            }
            std::set<std::string> enabled;
            for (absl::string_view line : absl::StrSplit(*cgroups, '\n', absl::SkipEmpty())) {
              if (absl::StartsWith(line, "#")) continue;
              std::vector<std::string> f = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
              if (f.size() >= 4 && f[3] == "1") enabled.insert(f[0]);
            }
            Findings out;
            for (const char* want : {"cpu", "cpuacct", "cpuset", "memory", "pids"}) {
              if (!enabled.count(want)) {
                out.push_back({"SystemVerification", absl::StrCat("CGROUPS_", absl::AsciiStrToUpper(want),
                                                                  ": missing (the cgroup controller is not enabled)"),
                               true});
              }
            }
            return out;
          }};
}

PreflightCheck CriSocket() {
  return {"CRI", [](const PreflightHost& host) -> Findings {
            int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            if (fd < 0 || host.cri_socket.size() >= sizeof addr.sun_path) {
              if (fd >= 0) close(fd);
              return One("CRI", "cannot check the CRI socket " + host.cri_socket);
            }
            std::memcpy(addr.sun_path, host.cri_socket.c_str(), host.cri_socket.size() + 1);
            int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
            int err = errno;
            close(fd);
            if (rc == 0) return {};
            return One("CRI", absl::StrCat("container runtime is not running: connect ", host.cri_socket, ": ",
                                           strerror(err), " (start berth-agent, or name its socket with --cri-socket)"));
          }};
}

PreflightCheck FileAvailable(std::function<std::string(const PreflightHost&)> path_of, const std::string& name_path) {
  std::string name = "FileAvailable-" + PathName(name_path);
  return {name, [name, path_of](const PreflightHost& host) -> Findings {
            std::string path = path_of(host);
            if (!PathExists(path)) return {};
            return One(name, path + " already exists (run `berthadm reset` first)");
          }};
}

PreflightCheck DirAvailable(std::function<std::string(const PreflightHost&)> path_of, const std::string& name_path) {
  std::string name = "DirAvailable-" + PathName(name_path);
  return {name, [name, path_of](const PreflightHost& host) -> Findings {
            std::string path = path_of(host);
            auto entries = ListDir(path);
            if (!entries.ok() || entries->empty()) return {};
            return One(name, path + " is not empty (run `berthadm reset` first)");
          }};
}

PreflightCheck ControlPlaneManifestAvailable() {
  return FileAvailable([](const PreflightHost& h) { return h.manifests_dir + "/berth-controlplane.yaml"; },
                       "/etc/kubernetes/manifests/berth-controlplane.yaml");
}

PreflightCheck KubeletConfAvailable() {
  return FileAvailable([](const PreflightHost& h) { return h.kubeconfig_dir + "/kubelet.conf"; },
                       "/etc/kubernetes/kubelet.conf");
}

}  // namespace

std::vector<PreflightCheck> InitPreflightChecks() {
  return {IsPrivilegedUser(),
          NumCpu(2),
          Memory(1700),
          PortsFree(),
          ControlPlaneManifestAvailable(),
          FileAvailable([](const PreflightHost& h) { return h.kubeconfig_dir + "/admin.conf"; },
                        "/etc/kubernetes/admin.conf"),
          KubeletConfAvailable(),
          DirAvailable([](const PreflightHost& h) { return h.manifests_dir; }, "/etc/kubernetes/manifests"),
          DirAvailable([](const PreflightHost& h) { return h.controlplane_data_dir; }, "/var/lib/berth/controlplane"),
          Swap(),
          IpForward(),
          CgroupControllers(),
          CriSocket()};
}

std::vector<PreflightCheck> JoinPreflightChecks() {
  return {IsPrivilegedUser(), PortsFree(),  KubeletConfAvailable(),
          Swap(),             IpForward(),  CgroupControllers(),
          CriSocket()};
}

absl::StatusOr<std::set<std::string>> ParseIgnoredPreflightErrors(const std::string& flag) {
  std::set<std::string> out;
  if (flag.empty()) return out;
  for (absl::string_view name : absl::StrSplit(flag, ',')) {
    name = absl::StripAsciiWhitespace(name);
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--ignore-preflight-errors \"", flag, "\": an empty check name"));
    }
    out.insert(absl::AsciiStrToLower(name));
  }
  if (out.count("all") && out.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ignore-preflight-errors \"", flag, "\": \"all\" cannot be mixed with other check names"));
  }
  return out;
}

PreflightReport RunPreflight(const std::vector<PreflightCheck>& checks, const PreflightHost& host,
                             const std::set<std::string>& ignored) {
  PreflightReport report;
  for (const PreflightCheck& check : checks) {
    for (PreflightFinding finding : check.run(host)) {
      if (finding.error &&
          (ignored.count("all") || ignored.count(absl::AsciiStrToLower(finding.check)))) {
        finding.error = false;
      }
      report.findings.push_back(std::move(finding));
    }
  }
  return report;
}

bool PreflightReport::HasErrors() const {
  for (const auto& f : findings) {
    if (f.error) return true;
  }
  return false;
}

std::string PreflightReport::Text() const {
  std::string out;
  for (const auto& f : findings) {
    if (!f.error) absl::StrAppend(&out, "\t[WARNING ", f.check, "]: ", f.message, "\n");
  }
  if (HasErrors()) {
    absl::StrAppend(&out, "[preflight] Some fatal errors occurred:\n");
    for (const auto& f : findings) {
      if (f.error) absl::StrAppend(&out, "\t[ERROR ", f.check, "]: ", f.message, "\n");
    }
    absl::StrAppend(&out, "[preflight] If you know what you are doing, you can make a check non-fatal with "
                          "`--ignore-preflight-errors=...`\n");
  }
  return out;
}

}  // namespace berth::berthadm
