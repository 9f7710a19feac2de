// ProbeManager: initial values, thresholds, initial delay, startup gating,
// hold after liveness failure, removal, HTTP through the manager, and 100
// pods on a small pool. One spec "second" lasts 20 ms here; every wait is a
// condition wait with a deadline.
#include "agent/prober/probe_manager.h"

#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "agent/prober/testing/http_test_server.h"

namespace berth::agent::prober {
namespace {

constexpr absl::Duration kSecond = absl::Milliseconds(20);
constexpr absl::Duration kDeadline = absl::Seconds(20);

// Collects updates and exec calls; waits on them with a deadline.
class Recorder {
 public:
  void Add(const ProbeUpdate& u) {
    std::lock_guard<std::mutex> lock(mu_);
    updates_.push_back(u);
    cv_.notify_all();
  }
  void Call(const std::string& id, const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back({id, what, absl::Now()});
    cv_.notify_all();
  }
  // Waits until `pred` holds (under the lock); false at the deadline.
  bool WaitFor(const std::function<bool()>& pred, absl::Duration d = kDeadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, absl::ToChronoNanoseconds(d), pred);
  }
  // Index of the first update matching, or -1. Lock held by caller (in WaitFor) or not.
  int FindUpdate(const std::string& id, ProbeType t, ProbeResult r) const {
    for (size_t i = 0; i < updates_.size(); ++i) {
      if (updates_[i].container_id == id && updates_[i].type == t && updates_[i].result == r) return static_cast<int>(i);
    }
    return -1;
  }
  int CallCount(const std::string& id, const std::string& what) const {
    int n = 0;
    for (const auto& c : calls_) n += (c.id == id && c.what == what);
    return n;
  }
  struct CallRec {
    std::string id;
    std::string what;
    absl::Time at;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ProbeUpdate> updates_;
  std::vector<CallRec> calls_;
};

// A fake runtime: the command's first word is what it checks ("live",
// "ready", "startup"); the exit code comes from `codes`, per container and word.
class ProbeManagerTest : public ::testing::Test {
 protected:
  ProbeManagerTest() {
    ProbeManager::Options o;
    o.second = kSecond;
    o.threads = 2;
    o.on_update = [this](const ProbeUpdate& u) { rec_.Add(u); };
    o.exec = [this](const std::string& id, const std::vector<std::string>& cmd,
                    absl::Duration) -> absl::StatusOr<ExecResult> {
      int code;
      {
        std::lock_guard<std::mutex> lock(codes_mu_);
        code = codes_[id + "/" + cmd[0]];
      }
      rec_.Call(id, cmd[0]);
      return ExecResult{code, absl::StrCat(cmd[0], " exit ", code)};
    };
    manager_ = std::make_unique<ProbeManager>(std::move(o));
  }
  void SetCode(const std::string& id, const std::string& what, int code) {
    std::lock_guard<std::mutex> lock(codes_mu_);
    codes_[id + "/" + what] = code;
  }
  static k8s::Probe ExecProbeSpec(const std::string& what, int period = 1, int success = 1, int failure = 3) {
    k8s::Probe p;
    p.exec = k8s::ExecAction{{what}};
    p.periodSeconds = period;
    p.timeoutSeconds = 1;
    p.successThreshold = success;
    p.failureThreshold = failure;
    return p;
  }
  static k8s::Pod PodWith(const std::string& uid, k8s::Container c) {
    k8s::Pod pod;
    pod.metadata.uid = uid;
    pod.metadata.name = "p-" + uid;
    pod.metadata.namespace_ = "default";
    pod.spec.containers.push_back(std::move(c));
    return pod;
  }

  Recorder rec_;
  std::mutex codes_mu_;
  std::map<std::string, int> codes_;
  std::unique_ptr<ProbeManager> manager_;
};

TEST_F(ProbeManagerTest, ReadinessStartsFalseAndFollowsThresholds) {
  k8s::Container c;
  c.name = "app";
  c.readinessProbe = ExecProbeSpec("ready", 1, /*success=*/2, /*failure=*/3);
  manager_->AddPod(PodWith("u1", c));
  EXPECT_EQ(manager_->WorkerCount(), 1u);
  EXPECT_FALSE(manager_->IsReady("u1", "app"));
  SetCode("c1", "ready", 0);
  manager_->ContainerStarted("u1", "app", "c1", absl::Now());
  // The initial value is failure, delivered at once.
  EXPECT_EQ(manager_->Result("c1", ProbeType::kReadiness), ProbeResult::kFailure);
  // Two successes are needed.
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.FindUpdate("c1", ProbeType::kReadiness, ProbeResult::kSuccess) >= 0; }));
  {
    std::lock_guard<std::mutex> lock(rec_.mu_);
    EXPECT_GE(rec_.CallCount("c1", "ready"), 2);
    EXPECT_EQ(rec_.updates_.front().result, ProbeResult::kFailure);
  }
  EXPECT_TRUE(manager_->IsReady("u1", "app"));

  // Now failing: it takes three failures to flip back.
  int before;
  {
    std::lock_guard<std::mutex> lock(rec_.mu_);
    before = rec_.CallCount("c1", "ready");
    rec_.updates_.clear();
  }
  SetCode("c1", "ready", 1);
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.FindUpdate("c1", ProbeType::kReadiness, ProbeResult::kFailure) >= 0; }));
  {
    std::lock_guard<std::mutex> lock(rec_.mu_);
    EXPECT_GE(rec_.CallCount("c1", "ready") - before, 3);
    EXPECT_EQ(rec_.updates_.back().output, "ready exit 1");
  }
  EXPECT_FALSE(manager_->IsReady("u1", "app"));
}

TEST_F(ProbeManagerTest, InitialDelayIsHonoured) {
  k8s::Container c;
  c.name = "app";
  c.readinessProbe = ExecProbeSpec("ready");
  c.readinessProbe->initialDelaySeconds = 10;  // 200 ms here
  manager_->AddPod(PodWith("u1", c));
  absl::Time started = absl::Now();
  manager_->ContainerStarted("u1", "app", "c1", started);
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.CallCount("c1", "ready") >= 1; }));
  std::lock_guard<std::mutex> lock(rec_.mu_);
  EXPECT_GE(rec_.calls_.front().at - started, kSecond * 10);
}

TEST_F(ProbeManagerTest, LivenessFailureHoldsUntilRestart) {
  k8s::Container c;
  c.name = "app";
  c.livenessProbe = ExecProbeSpec("live", 1, 1, /*failure=*/3);
  manager_->AddPod(PodWith("u1", c));
  SetCode("c1", "live", 1);
  manager_->ContainerStarted("u1", "app", "c1", absl::Now());
  EXPECT_EQ(manager_->Result("c1", ProbeType::kLiveness), ProbeResult::kSuccess);  // initial value
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.FindUpdate("c1", ProbeType::kLiveness, ProbeResult::kFailure) >= 0; }));
  int failures_seen;
  {
    std::lock_guard<std::mutex> lock(rec_.mu_);
    failures_seen = rec_.CallCount("c1", "live");
    EXPECT_EQ(failures_seen, 3);  // exactly failureThreshold probes, then hold
  }
  // The agent restarts the container: a new id starts as success again.
  SetCode("c2", "live", 0);
  manager_->ContainerStopped("u1", "app", "c1");
  manager_->ContainerStarted("u1", "app", "c2", absl::Now());
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.CallCount("c2", "live") >= 3; }));
  std::lock_guard<std::mutex> lock(rec_.mu_);
  EXPECT_EQ(rec_.CallCount("c1", "live"), failures_seen);  // the old container is no longer probed
  EXPECT_GE(rec_.FindUpdate("c2", ProbeType::kLiveness, ProbeResult::kSuccess), 0);
  EXPECT_FALSE(manager_->Result("c1", ProbeType::kLiveness).has_value());
}

TEST_F(ProbeManagerTest, StartupProbeGatesLivenessAndReadiness) {
  k8s::Container c;
  c.name = "app";
  c.startupProbe = ExecProbeSpec("startup", 1, 1, /*failure=*/30);
  c.livenessProbe = ExecProbeSpec("live");
  c.readinessProbe = ExecProbeSpec("ready");
  manager_->AddPod(PodWith("u1", c));
  EXPECT_EQ(manager_->WorkerCount(), 3u);
  SetCode("c1", "startup", 1);
  SetCode("c1", "live", 0);
  SetCode("c1", "ready", 0);
  manager_->ContainerStarted("u1", "app", "c1", absl::Now());
  EXPECT_EQ(manager_->Result("c1", ProbeType::kStartup), ProbeResult::kUnknown);
  EXPECT_FALSE(manager_->IsStarted("u1", "app"));
  // Several failed startup probes; nothing else runs meanwhile.
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.CallCount("c1", "startup") >= 4; }));
  {
    std::lock_guard<std::mutex> lock(rec_.mu_);
    EXPECT_EQ(rec_.CallCount("c1", "live"), 0);
    EXPECT_EQ(rec_.CallCount("c1", "ready"), 0);
  }
  SetCode("c1", "startup", 0);
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.FindUpdate("c1", ProbeType::kReadiness, ProbeResult::kSuccess) >= 0; }));
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.CallCount("c1", "live") >= 2; }));
  EXPECT_TRUE(manager_->IsStarted("u1", "app"));
  EXPECT_TRUE(manager_->IsReady("u1", "app"));
  int startup_calls, live_calls;
  {
    std::lock_guard<std::mutex> lock(rec_.mu_);
    ASSERT_GE(rec_.FindUpdate("c1", ProbeType::kStartup, ProbeResult::kSuccess), 0);
    startup_calls = rec_.CallCount("c1", "startup");
    live_calls = rec_.CallCount("c1", "live");
    absl::Time last_startup_call;
    for (const auto& call : rec_.calls_) {
      if (call.what == "startup") last_startup_call = call.at;
    }
    for (const auto& call : rec_.calls_) {
      if (call.what == "live" || call.what == "ready") {
        EXPECT_GE(call.at, last_startup_call);
      }
    }
  }
  // Startup is not probed again once it succeeded, while liveness goes on.
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.CallCount("c1", "live") >= live_calls + 3; }));
  std::lock_guard<std::mutex> lock(rec_.mu_);
  EXPECT_EQ(rec_.CallCount("c1", "startup"), startup_calls);
}

TEST_F(ProbeManagerTest, StoppedContainerIsNotReadyAndRemovedPodIsForgotten) {
  k8s::Container c;
  c.name = "app";
  c.readinessProbe = ExecProbeSpec("ready");
  manager_->AddPod(PodWith("u1", c));
  SetCode("c1", "ready", 0);
  manager_->ContainerStarted("u1", "app", "c1", absl::Now());
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.FindUpdate("c1", ProbeType::kReadiness, ProbeResult::kSuccess) >= 0; }));
  {
    std::lock_guard<std::mutex> lock(rec_.mu_);
    rec_.updates_.clear();
  }
  manager_->ContainerStopped("u1", "app", "c1");
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.FindUpdate("c1", ProbeType::kReadiness, ProbeResult::kFailure) >= 0; }));
  EXPECT_FALSE(manager_->IsReady("u1", "app"));
  manager_->RemovePod("u1");
  EXPECT_EQ(manager_->WorkerCount(), 0u);
  EXPECT_FALSE(manager_->Result("c1", ProbeType::kReadiness).has_value());
}

TEST_F(ProbeManagerTest, ContainerWithoutProbesIsReadyWhenRunning) {
  k8s::Container c;
  c.name = "plain";
  manager_->AddPod(PodWith("u1", c));
  EXPECT_EQ(manager_->WorkerCount(), 0u);
  EXPECT_FALSE(manager_->IsReady("u1", "plain"));
  manager_->ContainerStarted("u1", "plain", "c1", absl::Now());
  EXPECT_TRUE(manager_->IsReady("u1", "plain"));
  EXPECT_TRUE(manager_->IsStarted("u1", "plain"));
  manager_->ContainerStopped("u1", "plain", "c1");
  EXPECT_FALSE(manager_->IsReady("u1", "plain"));
}

TEST_F(ProbeManagerTest, SidecarsAreProbedAndTerminatingStopsLiveness) {
  k8s::Pod pod;
  pod.metadata.uid = "u1";
  k8s::Container sidecar;
  sidecar.name = "proxy";
  sidecar.restartPolicy = "Always";
  sidecar.livenessProbe = ExecProbeSpec("live");
  k8s::Container init;
  init.name = "setup";  // a plain init container is never probed
  init.livenessProbe = ExecProbeSpec("live");
  pod.spec.initContainers = {init, sidecar};
  manager_->AddPod(pod);
  EXPECT_EQ(manager_->WorkerCount(), 1u);
  SetCode("s1", "live", 0);
  manager_->ContainerStarted("u1", "proxy", "s1", absl::Now());
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.CallCount("s1", "live") >= 2; }));
  manager_->PodTerminating("u1");
  int calls;
  {
    std::lock_guard<std::mutex> lock(rec_.mu_);
    calls = rec_.CallCount("s1", "live");
  }
  // A readiness-only pod keeps going; here liveness stops (at most one probe in flight finishes).
  SetCode("x1", "ready", 0);
  k8s::Container other;
  other.name = "other";
  other.readinessProbe = ExecProbeSpec("ready");
  manager_->AddPod(PodWith("u2", other));
  manager_->ContainerStarted("u2", "other", "x1", absl::Now());
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.CallCount("x1", "ready") >= 5; }));
  std::lock_guard<std::mutex> lock(rec_.mu_);
  EXPECT_LE(rec_.CallCount("s1", "live"), calls + 1);
}

TEST_F(ProbeManagerTest, HttpReadinessUsesThePodIp) {
  testing::TestHttpServer server([](const testing::RecordedRequest& r) {
    return testing::TestResponse{r.target == "/ready" ? 200 : 404, {}, ""};
  });
  k8s::Container c;
  c.name = "web";
  c.ports.push_back(k8s::ContainerPort{"http", 0, server.port(), "TCP", ""});
  k8s::Probe p;
  p.httpGet = k8s::HTTPGetAction{"/ready", k8s::IntOrString::Str("http"), "", "HTTP", {}};
  p.periodSeconds = 1;
  p.timeoutSeconds = 50;
  c.readinessProbe = p;
  manager_->AddPod(PodWith("u1", c));
  manager_->SetPodIP("u1", "127.0.0.1");
  manager_->ContainerStarted("u1", "web", "w1", absl::Now());
  ASSERT_TRUE(rec_.WaitFor([&] { return rec_.FindUpdate("w1", ProbeType::kReadiness, ProbeResult::kSuccess) >= 0; }));
  EXPECT_TRUE(manager_->IsReady("u1", "web"));
  EXPECT_GE(server.requests().size(), 1u);
}

TEST_F(ProbeManagerTest, HundredPodsOnTwoThreads) {
  for (int i = 0; i < 100; ++i) {
    k8s::Container c;
    c.name = "app";
    c.readinessProbe = ExecProbeSpec("ready", 5);
    c.livenessProbe = ExecProbeSpec("live", 5);
    std::string uid = absl::StrCat("pod-", i), id = absl::StrCat("cid-", i);
    SetCode(id, "ready", 0);
    SetCode(id, "live", 0);
    manager_->AddPod(PodWith(uid, c));
    manager_->ContainerStarted(uid, "app", id, absl::Now());
  }
  EXPECT_EQ(manager_->WorkerCount(), 200u);
  ASSERT_TRUE(rec_.WaitFor([&] {
    int ready = 0;
    for (const auto& u : rec_.updates_) ready += (u.type == ProbeType::kReadiness && u.result == ProbeResult::kSuccess);
    return ready == 100;
  }));
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(manager_->IsReady(absl::StrCat("pod-", i), "app"));
  for (int i = 0; i < 100; ++i) manager_->RemovePod(absl::StrCat("pod-", i));
  EXPECT_EQ(manager_->WorkerCount(), 0u);
}

}  // namespace
}  // namespace berth::agent::prober

namespace berth::agent::prober {
namespace {

// Not run by default: the manager's own CPU at 100 pods with real periods.
//   prober_probe_manager_test --gtest_also_run_disabled_tests --gtest_filter='*Cost*'
double CpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

TEST(ProbeManagerCostTest, DISABLED_HundredPodsThreeExecProbesEachForTenSeconds) {
  std::atomic<int> probes{0};
  ProbeManager::Options o;
  o.exec = [&](const std::string&, const std::vector<std::string>&, absl::Duration) -> absl::StatusOr<ExecResult> {
    ++probes;
    return ExecResult{0, ""};
  };
  ProbeManager manager(std::move(o));
  for (int i = 0; i < 100; ++i) {
    k8s::Pod pod;
    pod.metadata.uid = absl::StrCat("pod-", i);
    k8s::Container c;
    c.name = "app";
    for (auto* p : {&c.startupProbe, &c.livenessProbe, &c.readinessProbe}) {
      k8s::Probe probe;
      probe.exec = k8s::ExecAction{{"true"}};
      probe.periodSeconds = 1;
      *p = probe;
    }
    pod.spec.containers.push_back(c);
    manager.AddPod(pod);
    manager.ContainerStarted(pod.metadata.uid, "app", absl::StrCat("c-", i), absl::Now());
  }
  double cpu0 = CpuSeconds();
  absl::Time t0 = absl::Now();
  absl::SleepFor(absl::Seconds(10));  // measuring, not waiting for an event
  double cpu = CpuSeconds() - cpu0;
  double wall = absl::ToDoubleSeconds(absl::Now() - t0);
  std::printf("100 pods, 300 workers: %d probes in %.1f s, CPU %.3f s = %.2f%% of one core\n", probes.load(), wall,
              cpu, 100 * cpu / wall);
  EXPECT_GT(probes.load(), 1500);  // ~200 per second (startup stops after success)
}

TEST(ProbeManagerCostTest, DISABLED_HundredPodsHttpReadinessForTenSeconds) {
  testing::TestHttpServer server([](const testing::RecordedRequest&) { return testing::TestResponse{200, {}, "ok"}; });
  ProbeManager::Options o;
  ProbeManager manager(std::move(o));
  for (int i = 0; i < 100; ++i) {
    k8s::Pod pod;
    pod.metadata.uid = absl::StrCat("pod-", i);
    k8s::Container c;
    c.name = "web";
    k8s::Probe probe;
    probe.httpGet = k8s::HTTPGetAction{"/healthz", k8s::IntOrString::Int(server.port()), "", "HTTP", {}};
    probe.periodSeconds = 1;
    c.readinessProbe = probe;
    pod.spec.containers.push_back(c);
    manager.AddPod(pod);
    manager.SetPodIP(pod.metadata.uid, "127.0.0.1");
    manager.ContainerStarted(pod.metadata.uid, "web", absl::StrCat("c-", i), absl::Now());
  }
  double cpu0 = CpuSeconds();
  absl::Time t0 = absl::Now();
  absl::SleepFor(absl::Seconds(10));  // measuring, not waiting for an event
  double cpu = CpuSeconds() - cpu0;
  double wall = absl::ToDoubleSeconds(absl::Now() - t0);
  size_t requests = server.requests().size();
  std::printf("100 pods, HTTP readiness every 1 s: %zu requests in %.1f s, CPU (prober + test server) %.3f s = %.2f%%\n",
              requests, wall, cpu, 100 * cpu / wall);
  EXPECT_GT(requests, 800u);
}

}  // namespace
}  // namespace berth::agent::prober
