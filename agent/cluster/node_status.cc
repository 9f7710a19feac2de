#include "agent/cluster/node_status.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "agent/devices/node_view.h"
#include "common/fs.h"

namespace berth::agent::cluster {
namespace {

std::string FirstLine(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return "";
  return std::string(absl::StripAsciiWhitespace(text->substr(0, text->find('\n'))));
}

// /proc/meminfo's value of `key` in KiB, or -1.
int64_t MeminfoKiB(const std::string& meminfo, absl::string_view key) {
  for (absl::string_view line : absl::StrSplit(meminfo, '\n')) {
    if (!absl::ConsumePrefix(&line, key) || !absl::ConsumePrefix(&line, ":")) continue;
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    int64_t v;
    if (!f.empty() && absl::SimpleAtoi(f[0], &v)) return v;
  }
  return -1;
}

std::string OsImage() {
  auto text = ReadFile("/etc/os-release");
  if (!text.ok()) return "Linux";
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (absl::ConsumePrefix(&line, "PRETTY_NAME=")) return std::string(absl::StripSuffix(absl::StripPrefix(line, "\""), "\""));
  }
  return "Linux";
}

std::string GoArch(const std::string& machine) {
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  if (machine == "armv7l") return "arm";
  if (machine == "ppc64le" || machine == "s390x" || machine == "riscv64") return machine;
  return machine;
}

// The first IPv4 address of an interface that is up and not loopback.
std::string FirstGlobalIpv4() {
  ifaddrs* addrs = nullptr;
  if (getifaddrs(&addrs) != 0) return "";
  std::string found;
  for (ifaddrs* a = addrs; a && found.empty(); a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    if ((a->ifa_flags & IFF_UP) == 0 || (a->ifa_flags & IFF_LOOPBACK) != 0) continue;
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof(buf));
    found = buf;
  }
  freeifaddrs(addrs);
  return found;
}

nlohmann::json Condition(const std::string& type, bool status, const std::string& reason, const std::string& message,
                         const std::string& now, const nlohmann::json& previous) {
  std::string value = status ? "True" : "False";
  std::string transition = now;
  if (previous.is_object() && previous.contains("conditions") && previous["conditions"].is_array()) {
    for (const auto& c : previous["conditions"]) {
      if (c.value("type", "") == type && c.value("status", "") == value) {
        transition = c.value("lastTransitionTime", now);
      }
    }
  }
  return {{"type", type},          {"status", value},  {"lastHeartbeatTime", now}, {"lastTransitionTime", transition},
          {"reason", reason},      {"message", message}};
}

nlohmann::json WithoutHeartbeats(nlohmann::json status) {
  if (status.is_object() && status.contains("conditions") && status["conditions"].is_array()) {
    for (auto& c : status["conditions"]) c.erase("lastHeartbeatTime");
  }
  return status;
}

}  // namespace

std::string ApiTime(absl::Time t) { return absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", t, absl::UTCTimeZone()); }
std::string ApiMicroTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

NodeFacts ReadNodeFacts(const NodeFactsSource& source) {
  NodeFacts f;
  f.node_name = source.node_name;
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  f.hostname = host;
  f.internal_ip = source.node_ip.empty() ? FirstGlobalIpv4() : source.node_ip;
  utsname u{};
  uname(&u);
  f.arch = GoArch(u.machine);
  f.kernel_version = u.release;
  f.os_image = OsImage();
  f.machine_id = FirstLine("/etc/machine-id");
  f.system_uuid = FirstLine("/sys/class/dmi/id/product_uuid");
  f.boot_id = FirstLine("/proc/sys/kernel/random/boot_id");
  f.container_runtime_version = source.runtime_version;
  f.kubelet_version = source.kubelet_version;

  // cpu, memory (MemTotal) and pods, as GET /node reports them.
  for (const auto& [name, value] : devices::NodeBaseResources(source.max_pods)) f.capacity[name] = value;
  struct statvfs fs{};
  if (statvfs(source.state_dir.c_str(), &fs) == 0) {
    f.capacity["ephemeral-storage"] = absl::StrCat(static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize / 1024, "Ki");
    f.disk_pressure = fs.f_blocks > 0 && fs.f_bavail * 10 < fs.f_blocks;
  }
  f.allocatable = f.capacity;
  for (const auto& [name, counts] : source.extended) {
    f.capacity[name] = absl::StrCat(counts.first);
    f.allocatable[name] = absl::StrCat(counts.second);
  }
  if (auto meminfo = ReadFile("/proc/meminfo"); meminfo.ok()) {
    int64_t available = MeminfoKiB(*meminfo, "MemAvailable");
    f.memory_pressure = available >= 0 && available < 100 * 1024;
  }
  int64_t pid_max = 0, threads = 0;
  if (absl::SimpleAtoi(FirstLine("/proc/sys/kernel/pid_max"), &pid_max)) {
    // /proc/loadavg's fourth field: running/total scheduling entities.
    std::vector<std::string> fields = absl::StrSplit(FirstLine("/proc/loadavg"), ' ');
    if (fields.size() > 3) {
      std::vector<std::string> rt = absl::StrSplit(fields[3], '/');
      if (rt.size() == 2 && absl::SimpleAtoi(rt[1], &threads)) f.pid_pressure = (pid_max - threads) * 10 < pid_max;
    }
  }
  f.ready = source.healthy;
  if (!f.ready) f.not_ready_message = "the agent's pod lifecycle has not started";
  return f;
}

nlohmann::json NodeStatus(const NodeFacts& f, absl::Time now_time, const nlohmann::json& previous) {
  std::string now = ApiTime(now_time);
  nlohmann::json addresses = nlohmann::json::array();
  if (!f.internal_ip.empty()) addresses.push_back({{"type", "InternalIP"}, {"address", f.internal_ip}});
  addresses.push_back({{"type", "Hostname"}, {"address", f.hostname}});
  nlohmann::json conditions = {
      Condition("MemoryPressure", f.memory_pressure,
                f.memory_pressure ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
                f.memory_pressure ? "kubelet has insufficient memory available" : "kubelet has sufficient memory available",
                now, previous),
      Condition("DiskPressure", f.disk_pressure, f.disk_pressure ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
                f.disk_pressure ? "kubelet has disk pressure" : "kubelet has no disk pressure", now, previous),
      Condition("PIDPressure", f.pid_pressure, f.pid_pressure ? "KubeletHasInsufficientPID" : "KubeletHasSufficientPID",
                f.pid_pressure ? "kubelet has insufficient PID available" : "kubelet has sufficient PID available", now,
                previous),
      Condition("Ready", f.ready, f.ready ? "KubeletReady" : "KubeletNotReady",
                f.ready ? "kubelet is posting ready status" : f.not_ready_message, now, previous),
  };
  return {{"capacity", f.capacity},
          {"allocatable", f.allocatable},
          {"conditions", conditions},
          {"addresses", addresses},
          {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
          {"nodeInfo",
           {{"machineID", f.machine_id},
            {"systemUUID", f.system_uuid},
            {"bootID", f.boot_id},
            {"kernelVersion", f.kernel_version},
            {"osImage", f.os_image},
            {"containerRuntimeVersion", f.container_runtime_version},
            {"kubeletVersion", f.kubelet_version},
            {"kubeProxyVersion", ""},
            {"operatingSystem", f.os},
            {"architecture", f.arch}}}};
}

nlohmann::json NodeObject(const NodeFacts& f, absl::Time now) {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata",
           {{"name", f.node_name},
            {"labels",
             {{"kubernetes.io/hostname", f.node_name},
              {"kubernetes.io/os", f.os},
              {"kubernetes.io/arch", f.arch},
              {"beta.kubernetes.io/os", f.os},
              {"beta.kubernetes.io/arch", f.arch}}}}},
          {"status", NodeStatus(f, now, nullptr)}};
}

bool NodeStatusChanged(const nlohmann::json& a, const nlohmann::json& b) {
  return WithoutHeartbeats(a) != WithoutHeartbeats(b);
}

}  // namespace berth::agent::cluster
