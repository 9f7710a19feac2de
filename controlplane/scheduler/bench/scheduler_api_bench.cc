// berth-scheduler-bench api: the scheduler as it runs in berth-controlplane,
// measured from outside. It starts berth-controlplane on 127.0.0.1 (temporary
// root, test PKI, SQLite), creates N simulated nodes (Node objects only, no
// agents or containers) and then M pods through the API over HTTPS (admin
// client certificate, `--writers` concurrent clients), and watches the pods
// over HTTPS to see each one bound (spec.nodeName set). It prints:
//   - pods/s scheduled and bound: M / (last pod seen bound - first pod created);
//   - the backlog rate (--backlog): pods created while another holder keeps the
//     kube-scheduler Lease, then the Lease released: M / (last bound - release),
//     and M / (last bound - first bound) (without the scheduler's retry period
//     before it takes the Lease);
//   - scheduling latency per pod, create sent -> bound seen: p50, p90, p99, max.
#include "controlplane/scheduler/bench/scheduler_api_bench.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/fs.h"
#include "controlplane/client/http_api_client.h"
#include "controlplane/scheduler/test_objects.h"
#include "e2e/controlplane/controlplane_process.h"

namespace berth::scheduler {
namespace {

using client::resources::kLeases;
using client::resources::kNodes;
using client::resources::kPods;
using nlohmann::json;

struct ApiBenchOptions {
  int nodes = 5000;
  int pods = 10000;
  int writers = 8;
  int zones = 10;
  bool backlog = false;
  int timeout_s = 300;
};

int Usage(const std::string& message) {
  std::fprintf(stderr, "berth-scheduler-bench api: %s\n", message.c_str());
  std::fprintf(stderr,
               "usage: berth-scheduler-bench api [--nodes 5000] [--pods 10000] [--writers 8] [--zones 10] "
               "[--backlog] [--timeout-s 300]\n");
  return 2;
}

bool Parse(int argc, char** argv, ApiBenchOptions* o) {
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto number = [&](int* out) {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      long v = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || v <= 0) return false;
      *out = static_cast<int>(v);
      return true;
    };
    if (arg == "--nodes") {
      if (!number(&o->nodes)) return false;
    } else if (arg == "--pods") {
      if (!number(&o->pods)) return false;
    } else if (arg == "--writers") {
      if (!number(&o->writers)) return false;
    } else if (arg == "--zones") {
      if (!number(&o->zones)) return false;
    } else if (arg == "--timeout-s") {
      if (!number(&o->timeout_s)) return false;
    } else if (arg == "--backlog") {
      o->backlog = true;
    } else {
      return false;
    }
  }
  return true;
}

// Runs fn(i) for i in [0, n) on `writers` threads; the number of failures.
int ForEachConcurrently(int n, int writers, const std::function<absl::Status(int)>& fn) {
  std::atomic<int> next{0}, failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        absl::Status s = fn(i);
        if (!s.ok() && failures++ < 3) std::fprintf(stderr, "  %s\n", s.ToString().c_str());
      }
    });
  }
  for (auto& t : threads) t.join();
  return failures.load();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * v.size()))];
}

json BenchPod(int i) {
  static const char* kCpu[] = {"50m", "100m", "200m", "250m", "500m"};
  static const char* kMemory[] = {"64Mi", "128Mi", "256Mi", "512Mi"};
  json pod = testing::MakePod(absl::StrCat("pod-", i), {{"cpu", kCpu[i % 5]}, {"memory", kMemory[i % 4]}},
                              {{"app", absl::StrCat("app-", i % 100)}});
  pod["metadata"].erase("uid");
  pod.erase("status");
  return pod;
}

}  // namespace

int RunApiBench(int argc, char** argv) {
  ApiBenchOptions o;
  if (!Parse(argc, argv, &o)) return Usage("bad arguments");
  setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines as they happen, also into a file
  std::string root = "/tmp/berth-scheduler-api-bench-XXXXXX";
  if (mkdtemp(root.data()) == nullptr) return Usage("mkdtemp failed");
  auto cp = e2e::ControlPlaneProcess::Start({root, "", {}});
  if (!cp.ok()) return Usage(absl::StrCat("berth-controlplane: ", cp.status().ToString()));
  auto kubeconfig = (*cp)->Kubeconfig("admin");
  if (!kubeconfig.ok()) return Usage(kubeconfig.status().ToString());
  client::HttpApiClientOptions http_options;
  http_options.max_idle_connections = static_cast<size_t>(o.writers) + 2;
  auto api = client::HttpApiClient::FromKubeconfig(*kubeconfig, http_options);
  if (!api.ok()) return Usage(api.status().ToString());
  client::HttpApiClient* c = api->get();
  std::printf("berth-controlplane pid %d on %s (SQLite under %s)\n", (*cp)->pid(), (*cp)->server().c_str(),
              root.c_str());

  // Nodes.
  absl::Time t0 = absl::Now();
  int failed = ForEachConcurrently(o.nodes, o.writers, [&](int i) -> absl::Status {
    json node = testing::MakeNode(absl::StrCat("node-", i), "32", "128Gi", 110,
                                  {{"topology.kubernetes.io/zone", absl::StrCat("zone-", i % o.zones)}});
    auto created = c->Create(kNodes, "", node);
    if (!created.ok()) return created.status();
    if ((*created)["status"].contains("allocatable")) return absl::OkStatus();
    json with_status = *created;
    with_status["status"] = node["status"];
    return c->Update(kNodes, "", with_status, "status").status();
  });
  double nodes_s = absl::ToDoubleSeconds(absl::Now() - t0);
  std::printf("nodes: %d created in %.2f s (%.0f/s), %d failed\n", o.nodes, nodes_s, o.nodes / nodes_s, failed);

  // Backlog mode: hold the scheduler's Lease so it schedules nothing yet.
  json lease;
  if (o.backlog) {
    // Take the Lease once it exists (the scheduler made it) or make it.
    for (int tries = 0; tries < 100; ++tries) {
      auto got = c->Get(kLeases, "kube-system", "kube-scheduler");
      json held = {{"apiVersion", "coordination.k8s.io/v1"},
                   {"kind", "Lease"},
                   {"metadata", {{"name", "kube-scheduler"}, {"namespace", "kube-system"}}},
                   {"spec", {{"holderIdentity", "bench"}, {"leaseDurationSeconds", 3600}}}};
      absl::StatusOr<json> written;
      if (got.ok()) {
        held["metadata"] = (*got)["metadata"];
        written = c->Update(kLeases, "kube-system", held);
      } else {
        written = c->Create(kLeases, "kube-system", held);
      }
      if (written.ok()) {
        lease = *written;
        break;
      }
    }
    if (lease.is_null()) return Usage("could not take the kube-scheduler Lease");
    // The scheduler stops leading when it cannot renew within its 10 s deadline.
    std::printf("backlog: Lease kube-system/kube-scheduler held by the bench; waiting 12 s for the scheduler to "
                "stand down\n");
    absl::SleepFor(absl::Seconds(12));  // the renew deadline, a fixed protocol duration
  }

  // Watch the pods: the first time each is seen with a node.
  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<std::string, absl::Time> bound_at;
  std::vector<absl::Time> created_at(o.pods, absl::InfinitePast());
  absl::Status watch_end;
  bool watch_ended = false;
  auto list = c->List(kPods, "default", {});
  if (!list.ok()) return Usage(list.status().ToString());
  client::ListOptions from;
  from.resource_version = (*list)["metadata"].value("resourceVersion", "");
  from.field_selector = "spec.nodeName!=";  // only bound pods: a pod enters the watch when it is bound
  auto watch = c->Watch(
      kPods, "default", from,
      [&](client::WatchEvent e) {
        if (e.type == client::WatchEvent::Type::kBookmark) return;
        if (e.object["spec"].value("nodeName", "").empty()) return;
        absl::Time now = absl::Now();
        std::lock_guard<std::mutex> lock(mu);
        bound_at.emplace(e.object["metadata"].value("name", ""), now);
        cv.notify_all();
      },
      [&](absl::Status s) {
        std::lock_guard<std::mutex> lock(mu);
        watch_end = s;
        watch_ended = true;
        cv.notify_all();
      });
  if (!watch.ok()) return Usage(watch.status().ToString());

  // Pods.
  absl::Time create_start = absl::Now();
  failed = ForEachConcurrently(o.pods, o.writers, [&](int i) -> absl::Status {
    json pod = BenchPod(i);
    created_at[i] = absl::Now();
    return c->Create(kPods, "default", pod).status();
  });
  absl::Time create_end = absl::Now();
  double create_s = absl::ToDoubleSeconds(create_end - create_start);
  std::printf("pods: %d created in %.2f s (%.0f/s), %d failed\n", o.pods, create_s, o.pods / create_s, failed);

  absl::Time released = create_end;
  if (o.backlog) {
    json release = lease;
    release["spec"].erase("holderIdentity");
    release["spec"]["leaseDurationSeconds"] = 1;
    auto r = c->Update(kLeases, "kube-system", release);
    if (!r.ok()) return Usage(absl::StrCat("release the Lease: ", r.status().ToString()));
    released = absl::Now();
  }

  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(o.timeout_s),
                [&] { return bound_at.size() >= static_cast<size_t>(o.pods) || watch_ended; });
  }
  (*watch)->Stop();
  std::lock_guard<std::mutex> lock(mu);
  if (bound_at.size() < static_cast<size_t>(o.pods)) {
    std::printf("only %zu of %d pods bound within %d s%s\n%s\n", bound_at.size(), o.pods, o.timeout_s,
                watch_ended ? (" (watch ended: " + watch_end.ToString() + ")").c_str() : "",
                (*cp)->LogTail().c_str());
    return 1;
  }
  absl::Time first_bound = absl::InfiniteFuture(), last_bound = absl::InfinitePast();
  std::vector<double> latency_ms;
  latency_ms.reserve(o.pods);
  for (int i = 0; i < o.pods; ++i) {
    absl::Time b = bound_at[absl::StrCat("pod-", i)];
    first_bound = std::min(first_bound, b);
    last_bound = std::max(last_bound, b);
    latency_ms.push_back(absl::ToDoubleMilliseconds(b - created_at[i]));
  }
  double total_s = absl::ToDoubleSeconds(last_bound - create_start);
  std::printf("scheduled and bound: %d pods on %d nodes in %.2f s from the first create: %.0f pods/s\n", o.pods,
              o.nodes, total_s, o.pods / total_s);
  if (o.backlog) {
    double backlog_s = absl::ToDoubleSeconds(last_bound - released);
    double busy_s = absl::ToDoubleSeconds(last_bound - first_bound);
    std::printf("backlog: %d pending pods bound in %.2f s after the Lease was released: %.0f pods/s "
                "(first bound %.0f ms after the release, when the scheduler took the Lease; "
                "first to last binding: %.0f pods/s)\n",
                o.pods, backlog_s, o.pods / backlog_s, absl::ToDoubleMilliseconds(first_bound - released),
                o.pods / busy_s);
  } else {
    std::printf("scheduling latency (create sent -> bound seen by a watch): p50 %.1f ms, p90 %.1f ms, "
                "p99 %.1f ms, max %.1f ms\n",
                Percentile(latency_ms, 50), Percentile(latency_ms, 90), Percentile(latency_ms, 99),
                Percentile(latency_ms, 100));
  }
  cp->reset();
  (void)RemoveAll(root);
  return 0;
}

}  // namespace berth::scheduler
