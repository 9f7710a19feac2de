// cni-bench: one pod's CNI ADD then DEL, N times, for berth's chain
// (berth-bridge + berth-host-local) and the reference chain (Debian's
// /usr/lib/cni/bridge + host-local), same config and namespace setup, each
// plugin exec'd as a runtime does (process start included); plus the floor:
// the kernel's own veth creation and removal timed through netlink directly.
//
//   cni-bench [--iterations 200] [--warmup 10] [--ipmasq]
//             [--berth-dir DIR] [--reference-dir /usr/lib/cni] [--json]
//
// Runs as root inside a private network namespace it creates (the machine's
// own interfaces are never touched), with a pinned pod namespace under a
// temp dir; everything is removed at exit. Chains alternate per iteration so
// machine noise hits both alike. Prints p50/p90/p99/max per chain and
// command, the floor, and the ratios; the last line is one JSON object.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cni-plugins/netlink/netlink.h"
#include "cni-plugins/netlink/netns.h"
#include "common/fs.h"
#include "nlohmann/json.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Stats {
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};

Stats Summarize(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))]; };
  s.p50 = at(0.50);
  s.p90 = at(0.90);
  s.p99 = at(0.99);
  s.max = v.back();
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  return s;
}

struct Exec {
  int exit_code = -1;
  std::string out;
  double ms = 0;      // wall time, spawn to reaped
  double cpu_ms = 0;  // user + system time of the plugin and what it waited for
};

// Spawns `path` with `env`, writes `input`, reads stdout to EOF, waits.
Exec RunPlugin(const std::string& path, const std::vector<std::string>& env, const std::string& input) {
  Exec r;
  std::vector<std::string> env_copy = env;
  std::vector<char*> envp;
  for (auto& e : env_copy) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string argv0 = path;
  char* argv[] = {argv0.data(), nullptr};
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) return r;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  auto start = Clock::now();
  pid_t pid = -1;
  int rc = posix_spawn(&pid, path.c_str(), &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    r.out = strerror(rc);
    return r;
  }
  (void)!write(in[1], input.data(), input.size());
  close(in[1]);
  char buf[4096];
  for (;;) {
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.out.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  int st = 0;
  struct rusage ru = {};
  while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {
  }
  r.ms = Ms(Clock::now() - start);
  auto tv_ms = [](const timeval& tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; };
  r.cpu_ms = tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

struct Chain {
  std::string label;
  std::string bridge_path;
  std::string cni_path;
  nlohmann::json config;
  std::string extra_env;  // "K=V" or 
  std::vector<double> add, del, add_cpu, del_cpu;
};

int Fail(const std::string& what) {
  std::cerr << "cni-bench: " << what << std::endl;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  int iterations = 200, warmup = 10;
  bool ipmasq = false, json_only = false;
  std::string berth_dir = BERTH_CNI_BENCH_BERTH_DIR;
  std::string reference_dir = "/usr/lib/cni";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--iterations") {
      iterations = std::max(1, atoi(next().c_str()));
    } else if (a == "--warmup") {
      warmup = std::max(0, atoi(next().c_str()));
    } else if (a == "--ipmasq") {
      ipmasq = true;
    } else if (a == "--json") {
      json_only = true;
    } else if (a == "--berth-dir") {
      berth_dir = next();
    } else if (a == "--reference-dir") {
      reference_dir = next();
    } else {
      return Fail(absl::StrCat("unknown argument ", a,
                               "; usage: cni-bench [--iterations N] [--warmup N] [--ipmasq] "
                               "[--berth-dir DIR] [--reference-dir DIR] [--json]"));
    }
  }
  if (geteuid() != 0) return Fail("needs root (network namespaces)");
  // berth-bridge and berth-host-local live in different build dirs; the
  // installed layout (/opt/cni/bin) has both in one.
  std::string berth_bridge = absl::StrCat(berth_dir, "/berth-bridge");
  std::string berth_ipam_dir = berth_dir;
  if (!berth::PathExists(berth_bridge) && berth::PathExists(absl::StrCat(berth_dir, "/bridge/berth-bridge"))) {
    berth_bridge = absl::StrCat(berth_dir, "/bridge/berth-bridge");
  }
  for (const auto& p : {berth_bridge, absl::StrCat(berth_ipam_dir, "/berth-host-local"),
                        absl::StrCat(reference_dir, "/bridge"), absl::StrCat(reference_dir, "/host-local")}) {
    if (access(p.c_str(), X_OK) != 0) return Fail(absl::StrCat(p, " is not executable"));
  }

  // A private "node" namespace for this (single-threaded) process.
  if (unshare(CLONE_NEWNET) < 0) return Fail(absl::StrCat("unshare(CLONE_NEWNET): ", strerror(errno)));
  char tmpl[] = "/tmp/cni-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return Fail("mkdtemp");
  std::string dir = tmpl;
  std::string pod = dir + "/pod";
  {
    int fd = open(pod.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
    if (fd < 0) return Fail("create pod netns file");
    close(fd);
    std::string err;
    std::thread([&] {
      if (unshare(CLONE_NEWNET) < 0 || mount("/proc/thread-self/ns/net", pod.c_str(), nullptr, MS_BIND, nullptr) < 0) {
        err = strerror(errno);
      }
    }).join();
    if (!err.empty()) return Fail("pin pod netns: " + err);
  }
  auto cleanup = [&] {
    umount2(pod.c_str(), MNT_DETACH);
    (void)berth::RemoveAll(dir);
  };

  auto make_config = [&](const std::string& type, const std::string& ipam, const std::string& bridge) {
    nlohmann::json j = {{"cniVersion", "1.0.0"},
                        {"name", "bench"},
                        {"type", type},
                        {"bridge", bridge},
                        {"isGateway", true},
                        {"ipMasq", ipmasq},
                        {"ipam",
                         {{"type", ipam},
                          {"dataDir", dir + "/ipam-" + type},
                          {"ranges", {{{{"subnet", "10.248.0.0/16"}}}}},
                          {"routes", {{{"dst", "0.0.0.0/0"}}}}}}};
    return j;
  };
  std::vector<Chain> chains;
  chains.push_back({"berth (berth-bridge + berth-host-local)", berth_bridge,
                    absl::StrCat(berth_dir, ":", berth_ipam_dir), make_config("berth-bridge", "berth-host-local", "benchb0")});
  chains.push_back({"reference (bridge + host-local)", absl::StrCat(reference_dir, "/bridge"), reference_dir,
                    make_config("bridge", "host-local", "benchr0")});
  // berth-bridge with berth-host-local exec'd like any IPAM plugin, to show
  // what the in-process shortcut saves.
  chains.push_back({"berth, IPAM exec'd", berth_bridge, absl::StrCat(berth_dir, ":", berth_ipam_dir),
                    make_config("berth-bridge", "berth-host-local", "benche0"), "BERTH_CNI_EXEC_IPAM=1"});

  int failures = 0;
  std::string first_error;
  auto env_for = [&](const Chain& c, const char* command) {
    std::vector<std::string> env{absl::StrCat("CNI_COMMAND=", command), "CNI_CONTAINERID=bench-pod",
                                 "CNI_IFNAME=eth0", "CNI_NETNS=" + pod, "CNI_PATH=" + c.cni_path,
                                 "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
    if (!c.extra_env.empty()) env.push_back(c.extra_env);
    return env;
  };
  for (int i = 0; i < warmup + iterations; ++i) {
    for (auto& c : chains) {
      std::string input = c.config.dump();
      Exec add = RunPlugin(c.bridge_path, env_for(c, "ADD"), input);
      Exec del = RunPlugin(c.bridge_path, env_for(c, "DEL"), input);
      if (add.exit_code != 0 || del.exit_code != 0) {
        ++failures;
        if (first_error.empty()) first_error = absl::StrCat(c.label, ": ", add.out, del.out);
        continue;
      }
      if (i >= warmup) {
        c.add.push_back(add.ms);
        c.del.push_back(del.ms);
        c.add_cpu.push_back(add.cpu_ms);
        c.del_cpu.push_back(del.cpu_ms);
      }
    }
  }

  // What any process start costs right now: /bin/true, spawned the same way.
  std::vector<double> spawn_floor;
  for (int i = 0; i < warmup + iterations; ++i) {
    Exec t = RunPlugin("/bin/true", {}, "");
    if (i >= warmup && t.exit_code == 0) spawn_floor.push_back(t.ms);
  }

  // The floor: the kernel's veth creation (peer into the pod netns) and
  // removal, one netlink request each, no process start.
  std::vector<double> floor_add, floor_del;
  {
    auto nl = berth::netlink::Netlink::Open();
    auto ns = berth::netlink::Netns::Open(pod);
    if (!nl.ok() || !ns.ok()) {
      cleanup();
      return Fail("netlink/netns for the floor");
    }
    for (int i = 0; i < warmup + iterations; ++i) {
      berth::netlink::VethSpec spec{.name = "vethfloor", .peer_name = "eth0", .peer_netns = &*ns};
      auto t0 = Clock::now();
      absl::Status s = (*nl)->CreateVeth(spec);
      auto t1 = Clock::now();
      absl::Status d = (*nl)->DeleteLink("vethfloor");
      auto t2 = Clock::now();
      if (!s.ok() || !d.ok()) {
        ++failures;
        if (first_error.empty()) first_error = absl::StrCat("floor: ", s.ToString(), " ", d.ToString());
        continue;
      }
      if (i >= warmup) {
        floor_add.push_back(Ms(t1 - t0));
        floor_del.push_back(Ms(t2 - t1));
      }
    }
  }
  cleanup();

  nlohmann::json out = {{"iterations", iterations}, {"ipMasq", ipmasq}, {"failures", failures}};
  auto line = [&](const std::string& what, const Stats& s) {
    if (!json_only) {
      std::cout << absl::StrFormat("%-44s p50 %7.2f  p90 %7.2f  p99 %7.2f  max %7.2f  mean %7.2f ms\n",
                                   what, s.p50, s.p90, s.p99, s.max, s.mean);
    }
    return nlohmann::json{{"p50_ms", s.p50}, {"p90_ms", s.p90}, {"p99_ms", s.p99}, {"max_ms", s.max},
                          {"mean_ms", s.mean}};
  };
  Stats badd = Summarize(chains[0].add), bdel = Summarize(chains[0].del);
  Stats radd = Summarize(chains[1].add), rdel = Summarize(chains[1].del);
  Stats fadd = Summarize(floor_add), fdel = Summarize(floor_del);
  out["berth"] = {{"add", line("berth ADD", badd)}, {"del", line("berth DEL", bdel)}};
  out["reference"] = {{"add", line("reference ADD", radd)}, {"del", line("reference DEL", rdel)}};
  out["berth"]["add_cpu"] = line("berth ADD cpu (user+sys)", Summarize(chains[0].add_cpu));
  out["berth"]["del_cpu"] = line("berth DEL cpu (user+sys)", Summarize(chains[0].del_cpu));
  out["reference"]["add_cpu"] = line("reference ADD cpu (user+sys)", Summarize(chains[1].add_cpu));
  out["reference"]["del_cpu"] = line("reference DEL cpu (user+sys)", Summarize(chains[1].del_cpu));
  out["berth_exec_ipam"] = {{"add", line("berth, IPAM exec'd: ADD", Summarize(chains[2].add))},
                            {"del", line("berth, IPAM exec'd: DEL", Summarize(chains[2].del))}};
  out["floor"] = {{"veth_create", line("floor: kernel veth create (netlink)", fadd)},
                  {"veth_delete", line("floor: kernel veth delete (netlink)", fdel)},
                  {"spawn_true", line("floor: spawn /bin/true", Summarize(spawn_floor))}};
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  out["ratios"] = {{"add_p50_reference_over_berth", ratio(radd.p50, badd.p50)},
                   {"add_p99_reference_over_berth", ratio(radd.p99, badd.p99)},
                   {"del_p50_berth_over_reference", ratio(bdel.p50, rdel.p50)},
                   {"del_p99_berth_over_reference", ratio(bdel.p99, rdel.p99)}};
  if (!json_only) {
    std::cout << absl::StrFormat(
        "ADD p50: reference/berth = %.1fx faster (target >= 5x); DEL p50: berth/reference = %.2f "
        "(target <= 1)\n",
        ratio(radd.p50, badd.p50), ratio(bdel.p50, rdel.p50));
    if (failures > 0) std::cout << failures << " failed iterations; first: " << first_error << "\n";
  }
  std::cout << out.dump() << std::endl;
  return failures > 0 ? 1 : 0;
}
