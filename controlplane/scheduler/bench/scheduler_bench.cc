// berth-scheduler-bench: the scheduler's core in process. Fills a SchedulerCache
// with N nodes, then schedules M pending pods one by one (each assumed where it
// lands, as the real loop does before binding) and prints pods/s and the
// latency percentiles of one SchedulePod.
//
//   berth-scheduler-bench [--nodes 5000] [--pods 10000] [--zones 10]
//                         [--spread] [--anti-affinity] [--most-allocated] [--seed 1]
//   berth-scheduler-bench api ...   (berth-controlplane over HTTPS: scheduler_api_bench.cc)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <time.h>

#include "controlplane/scheduler/scheduler.h"
#ifdef BERTH_SCHEDULER_API_BENCH
#include "controlplane/scheduler/bench/scheduler_api_bench.h"
#endif
#include "controlplane/scheduler/test_objects.h"

namespace {

using berth::scheduler::NodeInfoFromJson;
using berth::scheduler::PodInfo;
using berth::scheduler::PodInfoFromJson;
using nlohmann::json;

struct Options {
  int nodes = 5000;
  int pods = 10000;
  int zones = 10;
  bool spread = false;         // each pod: a ScheduleAnyway zone spread constraint on its app
  bool anti_affinity = false;  // each pod: preferred anti-affinity to its app by hostname
  bool most_allocated = false;
  uint64_t seed = 1;
};

int Usage(const char* message) {
  std::fprintf(stderr, "berth-scheduler-bench: %s\n", message);
  std::fprintf(stderr,
               "usage: berth-scheduler-bench [--nodes N] [--pods N] [--zones N] [--spread] [--anti-affinity] "
               "[--most-allocated] [--seed N]\n");
  return 2;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto number = [&](int* out) {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      long v = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || v <= 0) return false;
      *out = static_cast<int>(v);
      return true;
    };
    int seed = 0;
    if (arg == "--nodes") {
      if (!number(&o->nodes)) return false;
    } else if (arg == "--pods") {
      if (!number(&o->pods)) return false;
    } else if (arg == "--zones") {
      if (!number(&o->zones)) return false;
    } else if (arg == "--seed") {
      if (!number(&seed)) return false;
      o->seed = static_cast<uint64_t>(seed);
    } else if (arg == "--spread") {
      o->spread = true;
    } else if (arg == "--anti-affinity") {
      o->anti_affinity = true;
    } else if (arg == "--most-allocated") {
      o->most_allocated = true;
    } else {
      return false;
    }
  }
  return true;
}

json BenchPod(int i, const Options& o) {
  static const char* kCpu[] = {"100m", "250m", "500m", "50m"};
  static const char* kMemory[] = {"128Mi", "256Mi", "512Mi", "64Mi"};
  std::string app = "app-" + std::to_string(i % 100);
  json pod = berth::scheduler::testing::MakePod("pod-" + std::to_string(i), {{"cpu", kCpu[i % 4]}, {"memory", kMemory[i % 4]}},
                                               {{"app", app}});
  if (o.spread) {
    pod["spec"]["topologySpreadConstraints"] = json::array({{{"maxSkew", 1},
                                                             {"topologyKey", "topology.kubernetes.io/zone"},
                                                             {"whenUnsatisfiable", "ScheduleAnyway"},
                                                             {"labelSelector", {{"matchLabels", {{"app", app}}}}}}});
  }
  if (o.anti_affinity) {
    pod["spec"]["affinity"] = {{"podAntiAffinity",
                                {{"preferredDuringSchedulingIgnoredDuringExecution",
                                  json::array({{{"weight", 100},
                                                {"podAffinityTerm",
                                                 {{"topologyKey", "kubernetes.io/hostname"},
                                                  {"labelSelector", {{"matchLabels", {{"app", app}}}}}}}}})}}}};
  }
  return pod;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef BERTH_SCHEDULER_API_BENCH
  if (argc >= 2 && std::string(argv[1]) == "api") return berth::scheduler::RunApiBench(argc, argv);
#endif
  Options o;
  if (!ParseArgs(argc, argv, &o)) return Usage("bad arguments");
  using Clock = std::chrono::steady_clock;

  berth::scheduler::SchedulerCache cache;
  for (int i = 0; i < o.nodes; ++i) {
    json node = berth::scheduler::testing::MakeNode("node-" + std::to_string(i), "32", "128Gi", 110,
                                                    {{"topology.kubernetes.io/zone", "zone-" + std::to_string(i % o.zones)}});
    auto info = NodeInfoFromJson(node);
    if (!info.ok()) return Usage(std::string(info.status().message()).c_str());
    cache.AddOrUpdateNode(std::move(*info));
  }
  auto parse_start = Clock::now();
  std::vector<PodInfo> pods;
  pods.reserve(o.pods);
  for (int i = 0; i < o.pods; ++i) {
    auto pod = PodInfoFromJson(BenchPod(i, o));
    if (!pod.ok()) return Usage(std::string(pod.status().message()).c_str());
    pods.push_back(std::move(*pod));
  }
  double parse_s = std::chrono::duration<double>(Clock::now() - parse_start).count();

  berth::scheduler::SchedulerOptions options;
  options.seed = o.seed;
  if (o.most_allocated) options.score.strategy = berth::scheduler::ScoreConfig::Strategy::kMostAllocated;
  berth::scheduler::Scheduler scheduler(&cache, options);
  std::vector<double> latencies_us;
  latencies_us.reserve(pods.size());
  int failed = 0;
  auto thread_cpu_seconds = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  double cpu_start = thread_cpu_seconds();
  auto start = Clock::now();
  for (const PodInfo& pod : pods) {
    auto t0 = Clock::now();
    auto node = scheduler.SchedulePod(pod);
    latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!node.ok()) ++failed;
  }
  double total_s = std::chrono::duration<double>(Clock::now() - start).count();
  double cpu_s = thread_cpu_seconds() - cpu_start;
  std::sort(latencies_us.begin(), latencies_us.end());
  auto pct = [&](double p) { return latencies_us[std::min(latencies_us.size() - 1, static_cast<size_t>(p * latencies_us.size()))]; };
  std::printf("nodes=%d pods=%d zones=%d spread=%d anti_affinity=%d strategy=%s\n", o.nodes, o.pods, o.zones, o.spread,
              o.anti_affinity, o.most_allocated ? "MostAllocated" : "LeastAllocated");
  std::printf("scheduled=%d unschedulable=%d in %.3f s: %.0f pods/s\n", o.pods - failed, failed, total_s,
              o.pods / total_s);
  std::printf("scheduling thread CPU time %.3f s: %.0f pods/s per core (wall clock above includes waiting for a "
              "core on a loaded host)\n",
              cpu_s, o.pods / cpu_s);
  std::printf("SchedulePod latency: p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us\n", pct(0.50), pct(0.90),
              pct(0.99), latencies_us.back());
  std::printf("(pod JSON -> PodInfo, not timed above: %.0f pods/s)\n", o.pods / parse_s);
  return failed == 0 ? 0 : 1;
}
