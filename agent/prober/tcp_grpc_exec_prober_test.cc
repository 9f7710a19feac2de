// tcpSocket probes against loopback listeners, grpc probes against gRPC's own
// health service on loopback, exec probes through a fake ExecInContainer.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>

#include <gmock/gmock.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "agent/prober/exec_prober.h"
#include "agent/prober/grpc_prober.h"
#include "agent/prober/prober.h"
#include "agent/prober/tcp_prober.h"
#include "agent/prober/testing/grpc_health_server.h"

namespace berth::agent::prober {
namespace {

using ::testing::HasSubstr;

// A loopback TCP listener on a free port; `backlog` 0 plus queued
// connections makes new SYNs go unanswered.
struct Listener {
  explicit Listener(int backlog = 16) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd, backlog), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~Listener() { close(fd); }
  int fd = -1;
  int port = 0;
};

int FreePort() {
  Listener l;
  return l.port;  // closed again: nothing listens there
}

TEST(TcpProberTest, OpenPortIsSuccess) {
  Listener l;
  ProbeOutcome out = TcpProbe("127.0.0.1", l.port, absl::Seconds(2));
  EXPECT_EQ(out.result, ProbeResult::kSuccess) << out.output;
}

TEST(TcpProberTest, ClosedPortIsFailure) {
  int port = FreePort();
  ProbeOutcome out = TcpProbe("127.0.0.1", port, absl::Seconds(2));
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_THAT(absl::AsciiStrToLower(out.output), HasSubstr("connection refused"));
  EXPECT_THAT(out.output, HasSubstr("127.0.0.1:" + std::to_string(port)));
}

TEST(TcpProberTest, UnansweredConnectTimesOut) {
  Listener l(/*backlog=*/0);
  // Fill the accept queue so that the kernel drops the probe's SYN.
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(l.port);
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(fd);
  }
  absl::Time start = absl::Now();
  ProbeOutcome out = TcpProbe("127.0.0.1", l.port, absl::Milliseconds(300));
  absl::Duration took = absl::Now() - start;
  for (int fd : fillers) close(fd);
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_THAT(out.output, HasSubstr("timeout"));
  EXPECT_GE(took, absl::Milliseconds(290));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST(TcpProberTest, ProberUsesNamedPortAndPodIp) {
  Listener l;
  k8s::Container c;
  c.name = "db";
  c.ports.push_back(k8s::ContainerPort{"pg", 0, l.port, "TCP", ""});
  k8s::Probe probe;
  probe.tcpSocket = k8s::TCPSocketAction{k8s::IntOrString::Str("pg"), ""};
  Prober prober(nullptr);
  EXPECT_EQ(prober.Run(probe, ProbeTarget{&c, "id", "127.0.0.1"}, absl::Seconds(2)).result, ProbeResult::kSuccess);
  // No pod IP yet and no host: the probe cannot run.
  EXPECT_EQ(prober.Run(probe, ProbeTarget{&c, "id", ""}, absl::Seconds(2)).result, ProbeResult::kUnknown);
}

class GrpcProberTest : public ::testing::Test {
 protected:
  void StartServer(bool with_health) {
    health_ = testing::StartGrpcHealthServer("127.0.0.1:0", with_health);
    ASSERT_NE(health_->server, nullptr);
    server_ = health_->server.get();
    port_ = health_->port;
    ASSERT_GT(port_, 0);
  }
  std::unique_ptr<testing::GrpcHealthServer> health_;
  grpc::Server* server_ = nullptr;
  int port_ = 0;
};

TEST_F(GrpcProberTest, ServingAndNotServing) {
  StartServer(true);
  auto* health = server_->GetHealthCheckService();
  ASSERT_NE(health, nullptr);
  health->SetServingStatus("berth.Good", true);
  health->SetServingStatus("berth.Bad", false);

  ProbeOutcome whole = GrpcProbe("127.0.0.1", port_, "", absl::Seconds(5));
  EXPECT_EQ(whole.result, ProbeResult::kSuccess) << whole.output;
  EXPECT_EQ(whole.output, "service healthy");
  EXPECT_EQ(GrpcProbe("127.0.0.1", port_, "berth.Good", absl::Seconds(5)).result, ProbeResult::kSuccess);

  ProbeOutcome bad = GrpcProbe("127.0.0.1", port_, "berth.Bad", absl::Seconds(5));
  EXPECT_EQ(bad.result, ProbeResult::kFailure);
  EXPECT_EQ(bad.output, "service unhealthy (responded with \"NOT_SERVING\")");

  ProbeOutcome unknown = GrpcProbe("127.0.0.1", port_, "berth.Unknown", absl::Seconds(5));
  EXPECT_EQ(unknown.result, ProbeResult::kFailure);
  EXPECT_THAT(unknown.output, HasSubstr("health rpc probe failed"));

  // Through the Prober: GRPCAction.service, the pod IP as host.
  k8s::Container c;
  c.name = "api";
  k8s::Probe probe;
  probe.grpc = k8s::GRPCAction{port_, std::string("berth.Bad")};
  Prober prober(nullptr);
  EXPECT_EQ(prober.Run(probe, ProbeTarget{&c, "id", "127.0.0.1"}, absl::Seconds(5)).result, ProbeResult::kFailure);
  probe.grpc->service.reset();
  EXPECT_EQ(prober.Run(probe, ProbeTarget{&c, "id", "127.0.0.1"}, absl::Seconds(5)).result, ProbeResult::kSuccess);
}

TEST_F(GrpcProberTest, ServerWithoutHealthServiceIsFailure) {
  StartServer(false);
  ProbeOutcome out = GrpcProbe("127.0.0.1", port_, "", absl::Seconds(5));
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_THAT(out.output, HasSubstr("does not implement the grpc health protocol"));
}

TEST(GrpcProberNoServerTest, NothingListeningTimesOut) {
  int port = FreePort();
  absl::Time start = absl::Now();
  ProbeOutcome out = GrpcProbe("127.0.0.1", port, "", absl::Milliseconds(500));
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_THAT(out.output, HasSubstr("failed to connect"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(ExecProberTest, ExitCodesTimeoutsAndErrors) {
  std::atomic<int> calls{0};
  std::string seen_id;
  std::vector<std::string> seen_cmd;
  absl::Duration seen_timeout;
  ExecInContainer exec = [&](const std::string& id, const std::vector<std::string>& cmd,
                             absl::Duration timeout) -> absl::StatusOr<ExecResult> {
    ++calls;
    seen_id = id;
    seen_cmd = cmd;
    seen_timeout = timeout;
    if (cmd[0] == "ok") return ExecResult{0, "fine"};
    if (cmd[0] == "fail") return ExecResult{3, "broken"};
    if (cmd[0] == "slow") return absl::DeadlineExceededError("exec timed out");
    if (cmd[0] == "huge") return ExecResult{0, std::string(20000, 'y')};
    return absl::UnavailableError("container not running");
  };
  ProbeOutcome ok = ExecProbe(exec, "c1", {"ok", "arg"}, absl::Seconds(3));
  EXPECT_EQ(ok.result, ProbeResult::kSuccess);
  EXPECT_EQ(ok.output, "fine");
  EXPECT_EQ(seen_id, "c1");
  EXPECT_EQ(seen_cmd, (std::vector<std::string>{"ok", "arg"}));
  EXPECT_EQ(seen_timeout, absl::Seconds(3));

  ProbeOutcome fail = ExecProbe(exec, "c1", {"fail"}, absl::Seconds(1));
  EXPECT_EQ(fail.result, ProbeResult::kFailure);
  EXPECT_EQ(fail.output, "broken");

  ProbeOutcome slow = ExecProbe(exec, "c1", {"slow"}, absl::Seconds(1));
  EXPECT_EQ(slow.result, ProbeResult::kFailure);
  EXPECT_THAT(slow.output, HasSubstr("timed out"));

  EXPECT_EQ(ExecProbe(exec, "c1", {"huge"}, absl::Seconds(1)).output.size(), kMaxProbeOutputBytes);

  // A command that cannot run is unknown; the Prober tries three times.
  k8s::Container c;
  c.name = "x";
  k8s::Probe probe;
  probe.exec = k8s::ExecAction{{"gone"}};
  calls = 0;
  Prober prober(exec);
  EXPECT_EQ(prober.Run(probe, ProbeTarget{&c, "c1", ""}, absl::Seconds(1)).result, ProbeResult::kUnknown);
  EXPECT_EQ(calls.load(), 3);
}

}  // namespace
}  // namespace berth::agent::prober
