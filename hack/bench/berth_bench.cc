// berth-bench: drives a CRI runtime over one connection and reports call
// latencies and the memory the runtime spends per pod.
//
//   berth-bench pods --endpoint unix:///run/berth/berth.sock --count 50
//       [--concurrency 1] --image REF [--host-network] [--server-pid PID]
//       [--shim-name berth-shim]
//
// Starts N pods (RunPodSandbox, CreateContainer `sleep 3600`, StartContainer),
// C at a time; once all run, reads RSS and PSS (smaps_rollup) of the server
// and of every shim process; then stops and removes everything. Prints a
// table; the last line is one JSON object with the same figures.
#ifdef BERTH_HAVE_API_BENCH
#include "hack/bench/api_bench.h"
#endif
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "e2e/cri_client.h"
#include "nlohmann/json.hpp"

namespace berth::bench {
namespace {

namespace v1 = runtime::v1;
using e2e::CriClient;

absl::Status StatusOf(const absl::Status& status) { return status; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

struct Options {
  std::string endpoint;
  int count = 0;
  int concurrency = 1;
  std::string image;
  bool host_network = false;
  pid_t server_pid = 0;
  std::string shim_name = "berth-shim";
};

const char* const kCalls[] = {"RunPodSandbox",  "CreateContainer", "StartContainer",
                              "PodStart",       "StopContainer",   "RemoveContainer",
                              "StopPodSandbox", "RemovePodSandbox"};

// Latencies (ms) per call name, filled by several workers.
class Latencies {
 public:
  void Add(const std::string& call, absl::Duration took) {
    std::lock_guard<std::mutex> lock(mu_);
    samples_[call].push_back(absl::ToDoubleMilliseconds(took));
  }
  // p50, p99, max; zeros when there is no sample.
  std::array<double, 3> Summary(const std::string& call) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<double> v = samples_[call];
    if (v.empty()) return {0, 0, 0};
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
      size_t rank = static_cast<size_t>(std::ceil(q * v.size()));
      return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
    };
    return {at(0.50), at(0.99), v.back()};
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<double>> samples_;
};

struct Memory {
  int64_t rss_kib = 0;
  int64_t pss_kib = 0;
};

// RSS and PSS from /proc/<pid>/smaps_rollup.
absl::StatusOr<Memory> ReadMemory(pid_t pid) {
  absl::StatusOr<std::string> text = ReadFile(absl::StrCat("/proc/", pid, "/smaps_rollup"));
  if (!text.ok()) return text.status();
  Memory memory;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    int64_t* target = nullptr;
    if (absl::ConsumePrefix(&line, "Rss:")) target = &memory.rss_kib;
    if (absl::ConsumePrefix(&line, "Pss:")) target = &memory.pss_kib;
    if (target == nullptr) continue;
    line = absl::StripAsciiWhitespace(line);
    absl::ConsumeSuffix(&line, "kB");
    (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line), target);
  }
  return memory;
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> pids;
  auto entries = ListDir("/proc");
  if (!entries.ok()) return pids;
  for (const std::string& name : *entries) {
    int pid = 0;
    if (absl::SimpleAtoi(name, &pid)) pids.push_back(pid);
  }
  return pids;
}

// The process holding the listening unix socket at `path`: its inode from
// /proc/net/unix, then the process with a "socket:[inode]" descriptor.
absl::StatusOr<pid_t> SocketOwner(const std::string& path) {
  absl::StatusOr<std::string> table = ReadFile("/proc/net/unix");
  if (!table.ok()) return table.status();
  std::vector<std::string> inodes;
  for (absl::string_view line : absl::StrSplit(*table, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() >= 8 && fields[7] == path) inodes.push_back(std::string(fields[6]));
  }
  if (inodes.empty()) return absl::NotFoundError("no unix socket bound at " + path);
  for (pid_t pid : AllPids()) {
    if (pid == getpid()) continue;
    std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
    auto fds = ListDir(fd_dir);
    if (!fds.ok()) continue;
    for (const std::string& fd : *fds) {
      char target[128];
      ssize_t n = readlink((fd_dir + "/" + fd).c_str(), target, sizeof(target) - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      for (const std::string& inode : inodes) {
        if (std::string(target) == "socket:[" + inode + "]") return pid;
      }
    }
  }
  return absl::NotFoundError("no process holds the socket at " + path);
}

struct ShimMemory {
  int processes = 0;
  Memory total;
  bool filtered_by_root = false;
};

// Every process named `comm`; only those whose command line names
// `root_dir` when there are any such (other runtimes' shims may be running).
ShimMemory MeasureShims(const std::string& comm, const std::string& root_dir) {
  std::vector<pid_t> named, ours;
  for (pid_t pid : AllPids()) {
    auto text = ReadFile(absl::StrCat("/proc/", pid, "/comm"));
    if (!text.ok() || absl::StripTrailingAsciiWhitespace(*text) != comm) continue;
    named.push_back(pid);
    auto cmdline = ReadFile(absl::StrCat("/proc/", pid, "/cmdline"));
    if (cmdline.ok() && !root_dir.empty() && absl::StrContains(*cmdline, root_dir)) {
      ours.push_back(pid);
    }
  }
  ShimMemory result;
  result.filtered_by_root = !ours.empty();
  for (pid_t pid : ours.empty() ? named : ours) {
    auto memory = ReadMemory(pid);
    if (!memory.ok()) continue;
    ++result.processes;
    result.total.rss_kib += memory->rss_kib;
    result.total.pss_kib += memory->pss_kib;
  }
  return result;
}

// Runs fn(i) for i in [0, n) on `concurrency` threads.
template <typename Fn>
void ForEachConcurrently(int n, int concurrency, Fn fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < std::max(1, concurrency); ++w) {
    workers.emplace_back([&] {
      for (int i = next++; i < n; i = next++) fn(i);
    });
  }
  for (std::thread& worker : workers) worker.join();
}

struct Pod {
  std::string pod_id;
  std::string container_id;
};

int RunPods(const Options& options) {
  CriClient client(options.endpoint);
  client.set_call_timeout(absl::Seconds(120));
  if (absl::Status ready = client.WaitForReady(absl::Seconds(30)); !ready.ok()) {
    std::cerr << "berth-bench: " << ready << "\n";
    return 1;
  }
  Latencies latencies;
  std::atomic<int> errors{0};
  std::mutex error_mu;
  auto report = [&](const absl::Status& status) {
    if (status.ok()) return true;
    ++errors;
    std::lock_guard<std::mutex> lock(error_mu);
    std::cerr << "berth-bench: " << status << "\n";
    return false;
  };
  // Times one call and records it under `name` when it succeeds.
  auto timed = [&](const std::string& name, auto call) {
    const absl::Time start = absl::Now();
    auto result = call();
    if (report(StatusOf(result))) latencies.Add(name, absl::Now() - start);
    return result;
  };

  const std::string run_id = absl::StrCat(getpid(), "-", absl::ToUnixSeconds(absl::Now()));
  std::vector<Pod> pods(options.count);
  std::vector<v1::PodSandboxConfig> configs(options.count);
  const absl::Time all_start = absl::Now();
  ForEachConcurrently(options.count, options.concurrency, [&](int i) {
    v1::PodSandboxConfig& pod = configs[i];
    pod = e2e::MinimalPodSandboxConfig(absl::StrCat("bench-", i), absl::StrCat("bench-", run_id, "-", i));
    // What the kubelet sends for a pod without shareProcessNamespace.
    pod.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
    if (options.host_network) {
      // As kubelet does: a pod in the host's UTS namespace gets no hostname
      // (runc refuses to set one there).
      pod.clear_hostname();
      pod.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
          v1::NODE);
    }
    const absl::Time start = absl::Now();
    auto pod_id = timed("RunPodSandbox", [&] { return client.RunPodSandbox(pod); });
    if (!pod_id.ok()) return;
    pods[i].pod_id = *pod_id;
    v1::ContainerConfig container =
        e2e::MinimalContainerConfig("sleeper", options.image, {"sleep", "3600"});
    container.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
        v1::CONTAINER);
    auto id = timed("CreateContainer",
                    [&] { return client.CreateContainer(*pod_id, container, pod); });
    if (!id.ok()) return;
    pods[i].container_id = *id;
    if (timed("StartContainer", [&] { return client.StartContainer(*id); }).ok()) {
      latencies.Add("PodStart", absl::Now() - start);
    }
  });
  const absl::Duration start_wall = absl::Now() - all_start;

  // Memory once every pod runs.
  absl::string_view endpoint_path = options.endpoint;
  absl::ConsumePrefix(&endpoint_path, "unix://");
  const std::string socket_path(endpoint_path);
  pid_t server_pid = options.server_pid;
  if (server_pid == 0) {
    auto owner = SocketOwner(socket_path);
    if (owner.ok()) server_pid = *owner;
    else std::cerr << "berth-bench: " << owner.status() << "\n";
  }
  Memory server;
  if (server_pid > 0) {
    if (auto memory = ReadMemory(server_pid); memory.ok()) server = *memory;
  }
  std::string root_dir = socket_path.substr(0, socket_path.rfind('/') + 1);
  ShimMemory shims = MeasureShims(options.shim_name, root_dir);

  const absl::Time stop_start = absl::Now();
  ForEachConcurrently(options.count, options.concurrency, [&](int i) {
    const Pod& pod = pods[i];
    if (!pod.container_id.empty()) {
      (void)timed("StopContainer", [&] { return client.StopContainer(pod.container_id, 0); });
      (void)timed("RemoveContainer", [&] { return client.RemoveContainer(pod.container_id); });
    }
    if (!pod.pod_id.empty()) {
      (void)timed("StopPodSandbox", [&] { return client.StopPodSandbox(pod.pod_id); });
      (void)timed("RemovePodSandbox", [&] { return client.RemovePodSandbox(pod.pod_id); });
    }
  });
  const absl::Duration stop_wall = absl::Now() - stop_start;

  const int n = std::max(1, options.count);
  nlohmann::json json;
  json["endpoint"] = options.endpoint;
  json["count"] = options.count;
  json["concurrency"] = options.concurrency;
  json["host_network"] = options.host_network;
  json["errors"] = errors.load();
  json["start_all_s"] = absl::ToDoubleSeconds(start_wall);
  json["stop_all_s"] = absl::ToDoubleSeconds(stop_wall);
  std::printf("%-18s %10s %10s %10s\n", "call", "p50 ms", "p99 ms", "max ms");
  for (const char* call : kCalls) {
    auto [p50, p99, max] = latencies.Summary(call);
    std::printf("%-18s %10.1f %10.1f %10.1f\n", call, p50, p99, max);
    json["calls"][call] = {{"p50_ms", p50}, {"p99_ms", p99}, {"max_ms", max}};
  }
  std::printf("\nstarted %d pods in %.2f s, stopped and removed them in %.2f s\n", options.count,
              absl::ToDoubleSeconds(start_wall), absl::ToDoubleSeconds(stop_wall));
  std::printf("server pid %d: RSS %lld KiB, PSS %lld KiB\n", server_pid,
              static_cast<long long>(server.rss_kib), static_cast<long long>(server.pss_kib));
  std::printf("shims '%s': %d processes%s, per pod RSS %.0f KiB, PSS %.0f KiB\n",
              options.shim_name.c_str(), shims.processes,
              shims.filtered_by_root ? "" : " (matched by name only)",
              static_cast<double>(shims.total.rss_kib) / n,
              static_cast<double>(shims.total.pss_kib) / n);
  std::printf("errors: %d\n", errors.load());
  json["server"] = {{"pid", server_pid}, {"rss_kib", server.rss_kib}, {"pss_kib", server.pss_kib}};
  json["shim"] = {{"name", options.shim_name},
                  {"processes", shims.processes},
                  {"matched_by_root", shims.filtered_by_root},
                  {"rss_kib_per_pod", static_cast<double>(shims.total.rss_kib) / n},
                  {"pss_kib_per_pod", static_cast<double>(shims.total.pss_kib) / n}};
  std::printf("%s\n", json.dump().c_str());
  return errors.load() == 0 ? 0 : 1;
}

int Usage() {
  std::cerr << "usage: berth-bench pods --endpoint unix:///PATH --count N [--concurrency C]\n"
               "                         --image REF [--host-network] [--server-pid PID]\n"
               "                         [--shim-name NAME]\n";
  return 2;
}

}  // namespace
}  // namespace berth::bench

int main(int argc, char** argv) {
  using berth::bench::Options;
#ifdef BERTH_HAVE_API_BENCH
  if (argc >= 2 && std::string(argv[1]) == "api") return berth::bench::RunApiBench(argc, argv);
#endif
  if (argc < 2 || std::string(argv[1]) != "pods") return berth::bench::Usage();
  Options options;
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << flag << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    auto number = [&]() {
      std::string text = value();
      int n = 0;
      if (!absl::SimpleAtoi(text, &n) || n < 0) {
        std::cerr << flag << ": not a count: " << text << "\n";
        std::exit(2);
      }
      return n;
    };
    if (flag == "--endpoint") options.endpoint = value();
    else if (flag == "--count") options.count = number();
    else if (flag == "--concurrency") options.concurrency = number();
    else if (flag == "--image") options.image = value();
    else if (flag == "--host-network") options.host_network = true;
    else if (flag == "--server-pid") options.server_pid = number();
    else if (flag == "--shim-name") options.shim_name = value();
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return berth::bench::Usage();
    }
  }
  if (options.endpoint.empty() || options.image.empty() || options.count <= 0 ||
      options.concurrency <= 0) {
    return berth::bench::Usage();
  }
  return berth::bench::RunPods(options);
}
