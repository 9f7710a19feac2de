// postStart / preStop hooks: exec through a fake ExecInContainer, httpGet
// against a loopback server, sleep with a shrunk second.
#include "agent/prober/lifecycle_hook_runner.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/prober/testing/http_test_server.h"

namespace berth::agent::prober {
namespace {

using ::testing::HasSubstr;
using testing::RecordedRequest;
using testing::TestHttpServer;
using testing::TestResponse;

constexpr absl::Duration kSecond = absl::Milliseconds(50);

struct Kill {
  int calls = 0;
  std::string id, reason, message;
  KillContainerFn fn() {
    return [this](const std::string& i, const std::string& r, const std::string& m) {
      ++calls;
      id = i;
      reason = r;
      message = m;
      return absl::OkStatus();
    };
  }
};

class LifecycleHookRunnerTest : public ::testing::Test {
 protected:
  LifecycleHookRunnerTest() {
    pod_.metadata.name = "web";
    pod_.metadata.namespace_ = "default";
    container_.name = "app";
    container_.lifecycle.emplace();
  }
  HookTarget Target() { return HookTarget{&pod_, &container_, "cid-1", "127.0.0.1"}; }
  static k8s::LifecycleHandler ExecHandler(std::vector<std::string> cmd) {
    k8s::LifecycleHandler h;
    h.exec = k8s::ExecAction{std::move(cmd)};
    return h;
  }
  static k8s::LifecycleHandler HttpHandler(int port, const std::string& path, const std::string& scheme = "HTTP") {
    k8s::LifecycleHandler h;
    h.httpGet = k8s::HTTPGetAction{path, k8s::IntOrString::Int(port), "", scheme, {{"X-Hook", "yes"}}};
    return h;
  }
  static k8s::LifecycleHandler SleepHandler(int64_t seconds) {
    k8s::LifecycleHandler h;
    h.sleep = k8s::SleepAction{seconds};
    return h;
  }

  // What the fake exec saw. Shared with the exec function, which may outlive
  // the test on a preStop thread that the grace period left behind.
  struct ExecState {
    std::mutex mu;
    std::condition_variable cv;
    bool released = false;
    std::vector<std::string> ids;
    absl::Duration last_timeout;
  };

  // exec: "ok" exits 0, "fail" exits 2, "block" waits until its timeout (or
  // until released) and then reports a deadline.
  ExecInContainer Exec() {
    return [state = state_](const std::string& id, const std::vector<std::string>& cmd,
                            absl::Duration timeout) -> absl::StatusOr<ExecResult> {
      {
        std::lock_guard<std::mutex> lock(state->mu);
        state->ids.push_back(id);
        state->last_timeout = timeout;
      }
      if (cmd[0] == "ok") return ExecResult{0, ""};
      if (cmd[0] == "fail") return ExecResult{2, "hook output"};
      std::unique_lock<std::mutex> lock(state->mu);
      state->cv.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] { return state->released; });
      return absl::DeadlineExceededError("exec timed out");
    };
  }
  ~LifecycleHookRunnerTest() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->released = true;
    state_->cv.notify_all();
  }

  k8s::Pod pod_;
  k8s::Container container_;
  std::shared_ptr<ExecState> state_ = std::make_shared<ExecState>();
};

TEST_F(LifecycleHookRunnerTest, PostStartExecSuccessKillsNothing) {
  container_.lifecycle->postStart = ExecHandler({"ok"});
  LifecycleHookRunner runner(Exec(), kSecond);
  Kill kill;
  EXPECT_TRUE(runner.RunPostStart(Target(), kill.fn()).ok());
  EXPECT_EQ(kill.calls, 0);
  std::lock_guard<std::mutex> lock(state_->mu);
  EXPECT_EQ(state_->ids, std::vector<std::string>{"cid-1"});
  EXPECT_EQ(state_->last_timeout, absl::ZeroDuration());  // postStart has no timeout
}

TEST_F(LifecycleHookRunnerTest, PostStartExecFailureKillsTheContainer) {
  container_.lifecycle->postStart = ExecHandler({"fail", "now"});
  LifecycleHookRunner runner(Exec(), kSecond);
  Kill kill;
  absl::Status st = runner.RunPostStart(Target(), kill.fn());
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("Exec lifecycle hook ([fail now]) for Container \"app\" in Pod \"default/web\""));
  EXPECT_THAT(st.message(), HasSubstr("exited with 2"));
  EXPECT_THAT(st.message(), HasSubstr("hook output"));
  EXPECT_EQ(kill.calls, 1);
  EXPECT_EQ(kill.id, "cid-1");
  EXPECT_EQ(kill.reason, "FailedPostStartHook");
  EXPECT_EQ(kill.message, std::string(st.message()));
}

TEST_F(LifecycleHookRunnerTest, PostStartHttpAnyResponseIsSuccess) {
  TestHttpServer server([](const RecordedRequest& r) { return TestResponse{r.target == "/ok" ? 200 : 500, {}, ""}; });
  LifecycleHookRunner runner(Exec(), kSecond);
  Kill kill;
  container_.lifecycle->postStart = HttpHandler(server.port(), "/ok");
  EXPECT_TRUE(runner.RunPostStart(Target(), kill.fn()).ok());
  // The kubelet judges only that an HTTP answer came back, not its code.
  container_.lifecycle->postStart = HttpHandler(server.port(), "/err");
  EXPECT_TRUE(runner.RunPostStart(Target(), kill.fn()).ok());
  EXPECT_EQ(kill.calls, 0);
  ASSERT_EQ(server.requests().size(), 2u);
  auto r = server.requests()[0];
  EXPECT_EQ(r.target, "/ok");
  EXPECT_EQ(r.headers["user-agent"], "kube-lifecycle/1.32");
  EXPECT_EQ(r.headers["x-hook"], "yes");
}

TEST_F(LifecycleHookRunnerTest, PostStartHttpUnreachableKills) {
  int port;
  {
    TestHttpServer gone([](const auto&) { return TestResponse{}; });
    port = gone.port();
  }
  container_.lifecycle->postStart = HttpHandler(port, "/hook");
  LifecycleHookRunner runner(Exec(), kSecond);
  Kill kill;
  absl::Status st = runner.RunPostStart(Target(), kill.fn());
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("HTTP lifecycle hook (/hook) for Container \"app\""));
  EXPECT_EQ(kill.calls, 1);
  EXPECT_EQ(kill.reason, "FailedPostStartHook");
}

TEST_F(LifecycleHookRunnerTest, HttpsHookAnsweredByPlainHttpFallsBack) {
  TestHttpServer server([](const auto&) { return TestResponse{200, {}, ""}; });
  LifecycleHookRunner runner(Exec(), kSecond);
  absl::Status st = runner.Run(Target(), HttpHandler(server.port(), "/tls", "HTTPS"), absl::Seconds(5));
  EXPECT_TRUE(st.ok()) << st;
  bool plain_request_seen = false;
  for (const auto& r : server.requests()) plain_request_seen |= r.target == "/tls";
  EXPECT_TRUE(plain_request_seen);
}

TEST_F(LifecycleHookRunnerTest, TcpSocketHandlerIsRejected) {
  k8s::LifecycleHandler h;
  h.tcpSocket = k8s::TCPSocketAction{k8s::IntOrString::Int(80), ""};
  LifecycleHookRunner runner(Exec(), kSecond);
  absl::Status st = runner.Run(Target(), h, absl::Seconds(1));
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("tcpSocket is not supported"));
}

TEST_F(LifecycleHookRunnerTest, PreStopSleepCompletesAndLeavesTheRestOfTheGrace) {
  container_.lifecycle->preStop = SleepHandler(4);  // 200 ms
  LifecycleHookRunner runner(Exec(), kSecond);
  absl::Time start = absl::Now();
  PreStopResult r = runner.RunPreStop(Target(), 30);
  EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(r.completed);
  EXPECT_GE(absl::Now() - start, kSecond * 4);
  EXPECT_LT(absl::Now() - start, kSecond * 30);
  EXPECT_LE(r.remaining_grace_seconds, 26);
  EXPECT_GE(r.remaining_grace_seconds, kMinimumGracePeriodSeconds);
}

TEST_F(LifecycleHookRunnerTest, PreStopIsBoundedByTheGracePeriod) {
  container_.lifecycle->preStop = ExecHandler({"block"});
  LifecycleHookRunner runner(Exec(), kSecond);
  absl::Time start = absl::Now();
  PreStopResult r = runner.RunPreStop(Target(), 6);  // 300 ms
  absl::Duration took = absl::Now() - start;
  EXPECT_FALSE(r.status.ok());
  EXPECT_GE(took, kSecond * 6 - absl::Milliseconds(5));
  EXPECT_LT(took, absl::Seconds(10));
  EXPECT_EQ(r.remaining_grace_seconds, kMinimumGracePeriodSeconds);
  std::lock_guard<std::mutex> lock(state_->mu);
  EXPECT_EQ(state_->last_timeout, kSecond * 6);  // the exec itself is bounded by the grace period
}

TEST_F(LifecycleHookRunnerTest, PreStopSleepLongerThanGraceIsCut) {
  container_.lifecycle->preStop = SleepHandler(1000);
  LifecycleHookRunner runner(Exec(), kSecond);
  absl::Time start = absl::Now();
  PreStopResult r = runner.RunPreStop(Target(), 4);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(r.remaining_grace_seconds, kMinimumGracePeriodSeconds);
}

TEST_F(LifecycleHookRunnerTest, PreStopCancelledByStopToken) {
  container_.lifecycle->preStop = SleepHandler(1000);
  LifecycleHookRunner runner(Exec(), kSecond);
  std::stop_source stop;
  std::thread canceller([&] {
    // Cancel once the hook is under way (the runner is blocked in its wait).
    stop.request_stop();
  });
  absl::Time start = absl::Now();
  PreStopResult r = runner.RunPreStop(Target(), 1000, stop.get_token());
  canceller.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_FALSE(r.completed);
  EXPECT_TRUE(absl::IsCancelled(r.status)) << r.status;
}

TEST_F(LifecycleHookRunnerTest, NoHookNoWork) {
  LifecycleHookRunner runner(Exec(), kSecond);
  Kill kill;
  EXPECT_TRUE(runner.RunPostStart(Target(), kill.fn()).ok());
  PreStopResult r = runner.RunPreStop(Target(), 30);
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.remaining_grace_seconds, 30);
  std::lock_guard<std::mutex> lock(state_->mu);
  EXPECT_TRUE(state_->ids.empty());
}

}  // namespace
}  // namespace berth::agent::prober
