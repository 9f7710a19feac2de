// The streaming server end to end against a fake runtime: commands run on
// the host (fork + exec, a pty made the controlling terminal), ports are
// dialled on the host's loopback. Client: e2e/streaming/stream_client.h.
#include "runtime-shim/streaming/streaming_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "e2e/streaming/stream_client.h"
#include "gtest/gtest.h"
#include "common/status_macros.h"
#include "common/time.h"
#include "runtime-shim/streaming/streaming_test_fakes.h"

namespace berth::streaming {
namespace {

using e2e::CollectExec;
using e2e::StreamClient;
using testing_fakes::EchoServer;
using testing_fakes::FakeRuntime;
using testing_fakes::UnusedPort;

class StreamingServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StreamingServerOptions options;
    options.clock = [this] { return now_.load(); };
    auto server = StreamingServer::Start(options, &runtime_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::string ExecUrl(std::vector<std::string> cmd, bool tty = false, bool in = false, bool out = true,
                      bool err = true, const std::string& container = "running") {
    ::runtime::v1::ExecRequest req;
    req.set_container_id(container);
    for (auto& c : cmd) req.add_cmd(c);
    req.set_tty(tty);
    req.set_stdin(in);
    req.set_stdout(out);
    req.set_stderr(err && !tty);
    ::runtime::v1::ExecResponse resp;
    auto status = server_->GetExec(req, &resp);
    EXPECT_TRUE(status.ok()) << status;
    return resp.url();
  }

  // Attaches to `container`'s stdout over v5 and collects until the end.
  absl::StatusOr<e2e::ExecOutcome> AttachStdout(const std::string& container) {
    ::runtime::v1::AttachRequest req;
    req.set_container_id(container);
    req.set_stdout(true);
    ::runtime::v1::AttachResponse resp;
    RETURN_IF_ERROR(server_->GetAttach(req, &resp));
    ASSIGN_OR_RETURN(auto client, StreamClient::Connect(resp.url(), {"v5.channel.k8s.io"}));
    return CollectExec(*client, absl::Seconds(20));
  }

  std::atomic<int64_t> now_{1};
  FakeRuntime runtime_;
  std::unique_ptr<StreamingServer> server_;
};

TEST_F(StreamingServerTest, ExecUrlPointsAtTheServer) {
  std::string url = ExecUrl({"true"});
  EXPECT_TRUE(absl::StartsWith(url, absl::StrCat("http://", server_->address(), "/exec/"))) << url;
  EXPECT_TRUE(absl::StartsWith(server_->address(), "127.0.0.1:"));
}

TEST_F(StreamingServerTest, ExecV5StdoutStderrAndExitCode) {
  auto client = StreamClient::Connect(ExecUrl({"sh", "-c", "echo out; echo err >&2; exit 3"}),
                                      {"v5.channel.k8s.io", "v4.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->protocol(), "v5.channel.k8s.io");
  auto outcome = CollectExec(**client, absl::Seconds(20));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->stdout_data, "out\n");
  EXPECT_EQ(outcome->stderr_data, "err\n");
  EXPECT_EQ(outcome->exit_code, 3) << outcome->error;
  EXPECT_NE(outcome->error.find("NonZeroExitCode"), std::string::npos);
}

TEST_F(StreamingServerTest, ExecStdinClosedByV5CloseMessage) {
  auto client = StreamClient::Connect(ExecUrl({"sh", "-c", "cat; echo done"}, false, true), {"v5.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Send(kStdinChannel, "hello ").ok());
  ASSERT_TRUE((*client)->Send(kStdinChannel, "world\n").ok());
  ASSERT_TRUE((*client)->SendClose(kStdinChannel).ok());
  auto outcome = CollectExec(**client, absl::Seconds(20));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->stdout_data, "hello world\ndone\n");
  EXPECT_EQ(outcome->exit_code, 0) << outcome->error;
  EXPECT_EQ(outcome->error, R"({"metadata":{},"status":"Success"})");
}

TEST_F(StreamingServerTest, ExecV4Base64) {
  auto client = StreamClient::Connect(ExecUrl({"sh", "-c", "printf 'a\\001b'"}), {"v4.base64.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->protocol(), "v4.base64.channel.k8s.io");
  auto outcome = CollectExec(**client, absl::Seconds(20));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->stdout_data, std::string("a\001b"));
  EXPECT_EQ(outcome->exit_code, 0);
}

TEST_F(StreamingServerTest, PreV4ProtocolsBinaryAndBase64PlainTextErrors) {
  // channel.k8s.io (v1): a failure is plain text on channel 3, success is silence.
  auto failing = StreamClient::Connect(ExecUrl({"sh", "-c", "echo hi; exit 2"}), {"channel.k8s.io"});
  ASSERT_TRUE(failing.ok()) << failing.status();
  EXPECT_EQ((*failing)->protocol(), "channel.k8s.io");
  auto failed = CollectExec(**failing, absl::Seconds(20));
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(failed->stdout_data, "hi\n");
  EXPECT_EQ(failed->error, "command terminated with non-zero exit code: 2");
  // base64.channel.k8s.io: the same, each message a digit and base64.
  auto ok = StreamClient::Connect(ExecUrl({"sh", "-c", "printf 'x\\377y'; printf e >&2"}), {"base64.channel.k8s.io"});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)->protocol(), "base64.channel.k8s.io");
  auto succeeded = CollectExec(**ok, absl::Seconds(20));
  ASSERT_TRUE(succeeded.ok()) << succeeded.status();
  EXPECT_EQ(succeeded->stdout_data, std::string("x\377y"));
  EXPECT_EQ(succeeded->stderr_data, "e");
  EXPECT_EQ(succeeded->error, "");
}

TEST_F(StreamingServerTest, ExecTtyResizeAndInput) {
  auto client = StreamClient::Connect(ExecUrl({"sh", "-c", "read line; stty size; echo got:$line"}, true, true),
                                      {"v5.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->SendResize(123, 45).ok());
  ASSERT_TRUE((*client)->Send(kStdinChannel, "abc\r").ok());
  auto outcome = CollectExec(**client, absl::Seconds(20));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_NE(outcome->stdout_data.find("45 123"), std::string::npos) << outcome->stdout_data;
  EXPECT_NE(outcome->stdout_data.find("got:abc"), std::string::npos) << outcome->stdout_data;
  EXPECT_EQ(outcome->stderr_data, "");
  EXPECT_EQ(outcome->exit_code, 0);
}

TEST_F(StreamingServerTest, CtrlCReachesTheCommandThroughTheTty) {
  auto client = StreamClient::Connect(ExecUrl({"sh", "-c", "echo ready; exec sleep 60"}, true, true),
                                      {"v5.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  std::string seen;
  while (seen.find("ready") == std::string::npos) {
    auto frame = (*client)->Read(absl::Seconds(20));
    ASSERT_TRUE(frame.ok()) << frame.status();
    if (frame->channel == kStdoutChannel) seen += frame->data;
  }
  ASSERT_TRUE((*client)->Send(kStdinChannel, "\x03").ok());
  auto outcome = CollectExec(**client, absl::Seconds(20));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->exit_code, 128 + SIGINT) << outcome->error;
}

TEST_F(StreamingServerTest, TtyStdinCloseIsEndOfFile) {
  auto client = StreamClient::Connect(ExecUrl({"sh", "-c", "cat >/dev/null; echo eof"}, true, true),
                                      {"v5.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->Send(kStdinChannel, "line\r").ok());
  ASSERT_TRUE((*client)->SendClose(kStdinChannel).ok());
  auto outcome = CollectExec(**client, absl::Seconds(20));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_NE(outcome->stdout_data.find("eof"), std::string::npos) << outcome->stdout_data;
  EXPECT_EQ(outcome->exit_code, 0);
}

TEST_F(StreamingServerTest, ClientLeavingHangsUpTheCommand) {
  auto client = StreamClient::Connect(ExecUrl({"sh", "-c", "echo started; exec sleep 60"}), {"v5.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  std::string seen;
  while (seen.find("started") == std::string::npos) {
    auto frame = (*client)->Read(absl::Seconds(20));
    ASSERT_TRUE(frame.ok()) << frame.status();
    if (frame->channel == kStdoutChannel) seen += frame->data;
  }
  pid_t pid = runtime_.last_pid.load();
  ASSERT_GT(pid, 0);
  client->reset();  // the connection drops without a close handshake
  // The server sends SIGHUP and reaps the command.
  int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(absl::Seconds(20));
  while (kill(pid, 0) == 0 && MonotonicNanos() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(kill(pid, 0), 0) << "pid " << pid << " still there";
}

TEST_F(StreamingServerTest, ExecOfAStoppedContainerFailsOnTheErrorChannel) {
  auto client = StreamClient::Connect(ExecUrl({"true"}, false, false, true, false, "stopped"), {"v4.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  auto outcome = CollectExec(**client, absl::Seconds(20));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->exit_code, -1);
  EXPECT_NE(outcome->error.find("container stopped is not running"), std::string::npos) << outcome->error;
  EXPECT_NE(outcome->error.find("InternalError"), std::string::npos) << outcome->error;
}

TEST_F(StreamingServerTest, AttachToAContainerStoppedSinceItsTokenFailsOnTheErrorChannel) {
  auto outcome = AttachStdout("stopped");
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->exit_code, -1);
  EXPECT_NE(outcome->error.find("InternalError"), std::string::npos) << outcome->error;
  EXPECT_NE(outcome->error.find("container stopped is not running"), std::string::npos) << outcome->error;
  // The server goes on serving others.
  auto next = StreamClient::Connect(ExecUrl({"echo", "next"}), {"v5.channel.k8s.io"});
  ASSERT_TRUE(next.ok()) << next.status();
  auto served = CollectExec(**next, absl::Seconds(20));
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->stdout_data, "next\n");
  EXPECT_EQ(served->exit_code, 0);
}

// Many frames from the shim in one read: each is forwarded to the client
// once and in order (a frame's `written` callback sends the next one while
// the transport's write handler is still running).
TEST_F(StreamingServerTest, AttachForwardsABurstOfShimFramesOnceEachInOrder) {
  auto outcome = AttachStdout("burst");
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  std::string want;
  for (int i = 0; i < FakeRuntime::kBurstFrames; ++i) absl::StrAppend(&want, "line ", i, "\n");
  EXPECT_EQ(outcome->stdout_data, want);
  EXPECT_EQ(outcome->exit_code, 0) << outcome->error;
}

TEST_F(StreamingServerTest, TokenIsSingleUse) {
  std::string url = ExecUrl({"true"});
  auto first = StreamClient::Connect(url, {"v5.channel.k8s.io"});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(CollectExec(**first, absl::Seconds(20)).ok());
  auto second = StreamClient::Connect(url, {"v5.channel.k8s.io"});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("HTTP 404"), std::string::npos) << second.status();
  EXPECT_NE(second.status().message().find("already used"), std::string::npos) << second.status();
}

TEST_F(StreamingServerTest, ExpiredToken) {
  std::string url = ExecUrl({"true"});
  now_ += absl::ToInt64Nanoseconds(absl::Minutes(1));
  auto client = StreamClient::Connect(url, {"v5.channel.k8s.io"});
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("HTTP 404"), std::string::npos) << client.status();
  EXPECT_NE(client.status().message().find("expired"), std::string::npos) << client.status();
}

TEST_F(StreamingServerTest, BadRequestsGetHttpErrorsAndTheServerGoesOn) {
  std::string base = absl::StrCat("http://", server_->address());
  auto unknown = StreamClient::Connect(base + "/exec/AAAAAAAAAAA", {"v5.channel.k8s.io"});
  EXPECT_NE(unknown.status().message().find("HTTP 404"), std::string::npos) << unknown.status();

  auto wrong_path = e2e::HttpGet(base + "/metrics", {});
  ASSERT_TRUE(wrong_path.ok()) << wrong_path.status();
  EXPECT_EQ(wrong_path->status, 404);

  auto bad_protocol = StreamClient::Connect(ExecUrl({"true"}), {"v9.channel.k8s.io"});
  EXPECT_NE(bad_protocol.status().message().find("HTTP 403"), std::string::npos) << bad_protocol.status();
  EXPECT_NE(bad_protocol.status().message().find("not supported"), std::string::npos) << bad_protocol.status();

  auto plain = e2e::HttpGet(ExecUrl({"true"}), {});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->status, 400);
  EXPECT_NE(plain->body.find("WebSocket upgrade"), std::string::npos) << plain->body;

  // SPDY/3.1 is served (spdy_server_test.cc); older SPDY versions are not.
  auto spdy2 = e2e::HttpGet(ExecUrl({"true"}), {"Connection: Upgrade", "Upgrade: SPDY/2",
                                                "X-Stream-Protocol-Version: v4.channel.k8s.io"});
  ASSERT_TRUE(spdy2.ok()) << spdy2.status();
  EXPECT_EQ(spdy2->status, 400);
  EXPECT_NE(spdy2->body.find("SPDY/3.1"), std::string::npos) << spdy2->body;

  // Still serving.
  auto client = StreamClient::Connect(ExecUrl({"echo", "ok"}), {"v5.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  auto outcome = CollectExec(**client, absl::Seconds(20));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->stdout_data, "ok\n");
}

TEST_F(StreamingServerTest, RequestValidation) {
  ::runtime::v1::ExecRequest req;
  ::runtime::v1::ExecResponse resp;
  req.set_container_id("running");
  req.add_cmd("sh");
  req.set_tty(true);
  req.set_stdout(true);
  req.set_stderr(true);
  auto tty_stderr = server_->GetExec(req, &resp);
  EXPECT_TRUE(absl::IsInvalidArgument(tty_stderr)) << tty_stderr;
  EXPECT_NE(tty_stderr.message().find("tty and stderr"), std::string::npos);
  req.set_tty(false);
  req.set_stdout(false);
  req.set_stderr(false);
  EXPECT_TRUE(absl::IsInvalidArgument(server_->GetExec(req, &resp)));
  req.set_stdout(true);
  req.clear_cmd();
  EXPECT_TRUE(absl::IsInvalidArgument(server_->GetExec(req, &resp)));
  ::runtime::v1::PortForwardRequest pf;
  ::runtime::v1::PortForwardResponse pf_resp;
  EXPECT_TRUE(absl::IsInvalidArgument(server_->GetPortForward(pf, &pf_resp)));
  pf.set_pod_sandbox_id("pod");
  pf.add_port(70000);
  EXPECT_TRUE(absl::IsInvalidArgument(server_->GetPortForward(pf, &pf_resp)));
}

TEST_F(StreamingServerTest, PortForwardSeveralPortsOneRefused) {
  EchoServer echo;
  int unused_fd = -1;
  uint16_t unused = UnusedPort(&unused_fd);
  ::runtime::v1::PortForwardRequest req;
  req.set_pod_sandbox_id("pod");
  ::runtime::v1::PortForwardResponse resp;
  ASSERT_TRUE(server_->GetPortForward(req, &resp).ok());
  auto client = StreamClient::Connect(absl::StrCat(resp.url(), "?port=", unused, "&port=", echo.port()),
                                      {"v4.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  // First message on each of the four channels: its port.
  std::map<int, std::string> first;
  std::string refused_error;
  while (first.size() < 4 || refused_error.empty()) {
    auto frame = (*client)->Read(absl::Seconds(20));
    ASSERT_TRUE(frame.ok()) << frame.status();
    if (!first.count(frame->channel)) {
      first[frame->channel] = frame->data;
    } else if (frame->channel == 1) {
      refused_error += frame->data;
    }
  }
  EXPECT_EQ(first[0], PortPrefix(unused));
  EXPECT_EQ(first[1], PortPrefix(unused));
  EXPECT_EQ(first[2], PortPrefix(echo.port()));
  EXPECT_EQ(first[3], PortPrefix(echo.port()));
  EXPECT_NE(refused_error.find(absl::StrCat("error forwarding port ", unused)), std::string::npos) << refused_error;
  EXPECT_NE(refused_error.find("refused"), std::string::npos) << refused_error;
  // The working port (listed after the refused one) echoes.
  std::string big(200000, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE((*client)->Send(2, big).ok());
  std::string echoed;
  while (echoed.size() < big.size()) {
    auto frame = (*client)->Read(absl::Seconds(20));
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_EQ(frame->channel, 2);
    echoed += frame->data;
  }
  EXPECT_EQ(echoed, big);
  EXPECT_TRUE((*client)->Close().ok());
  close(unused_fd);
}

TEST_F(StreamingServerTest, PortForwardV4Base64) {
  EchoServer echo;
  ::runtime::v1::PortForwardRequest req;
  req.set_pod_sandbox_id("pod");
  ::runtime::v1::PortForwardResponse resp;
  ASSERT_TRUE(server_->GetPortForward(req, &resp).ok());
  auto client = StreamClient::Connect(absl::StrCat(resp.url(), "?port=", echo.port()), {"v4.base64.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->protocol(), "v4.base64.channel.k8s.io");
  // The port prefixes come base64-encoded too (the client decodes them).
  std::map<int, std::string> first;
  while (first.size() < 2) {
    auto frame = (*client)->Read(absl::Seconds(20));
    ASSERT_TRUE(frame.ok()) << frame.status();
    first.emplace(frame->channel, frame->data);
  }
  EXPECT_EQ(first[0], PortPrefix(echo.port()));
  EXPECT_EQ(first[1], PortPrefix(echo.port()));
  std::string bytes = std::string("binary\0\377 through base64\n", 24);
  ASSERT_TRUE((*client)->Send(0, bytes).ok());
  std::string echoed;
  while (echoed.size() < bytes.size()) {
    auto frame = (*client)->Read(absl::Seconds(20));
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_EQ(frame->channel, 0);
    echoed += frame->data;
  }
  EXPECT_EQ(echoed, bytes);
  EXPECT_TRUE((*client)->Close().ok());
}

TEST_F(StreamingServerTest, PortForwardNeedsPorts) {
  ::runtime::v1::PortForwardRequest req;
  req.set_pod_sandbox_id("pod");
  ::runtime::v1::PortForwardResponse resp;
  ASSERT_TRUE(server_->GetPortForward(req, &resp).ok());
  auto client = StreamClient::Connect(resp.url() + "?port=abc", {"v4.channel.k8s.io"});
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("HTTP 400"), std::string::npos) << client.status();
  EXPECT_NE(client.status().message().find("\"abc\""), std::string::npos) << client.status();
}

}  // namespace
}  // namespace berth::streaming
