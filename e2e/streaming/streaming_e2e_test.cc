// Streaming end to end: berth-agent serving CRI, Exec/PortForward URLs from
// it, and the WebSocket and SPDY/3.1 clients of this folder talking to its
// streaming server. Against berth only (the suite also drives berth's
// WebSocket server, which containerd's does not have).
#include <signal.h>

#include <map>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/time.h"
#include "e2e/cri_fixture.h"
#include "e2e/streaming/spdy_client.h"
#include "e2e/streaming/stream_client.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;
using streaming::kStdinChannel;
using streaming::kStdoutChannel;

class StreamingE2eTest : public CriE2eTest {
 protected:
  void SetUp() override {
    CriE2eTest::SetUp();
    if (IsContainerd()) GTEST_SKIP() << "the streaming suite drives berth's WebSocket server";
  }

  // A pod with one `sleep` container (or `command`); sets pod_id_ and returns the container id.
  std::string StartPod(const std::string& name, std::vector<std::string> command = {}) {
    pod_ = PodConfig(name);
    auto pod_id = client_->RunPodSandbox(pod_);
    EXPECT_TRUE(pod_id.ok()) << pod_id.status();
    if (!pod_id.ok()) return "";
    pod_id_ = *pod_id;
    v1::ContainerConfig config = MinimalContainerConfig("main", kBusybox, {"sleep", "3600"});
    if (!command.empty()) {
      config.clear_command();
      for (auto& c : command) config.add_command(c);
    }
    auto id = CreateAndStart(pod_id_, pod_, config);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : "";
  }

  absl::StatusOr<std::string> ExecUrl(const std::string& container, std::vector<std::string> cmd, bool tty,
                                      bool in) {
    v1::ExecRequest req;
    req.set_container_id(container);
    for (auto& c : cmd) req.add_cmd(c);
    req.set_tty(tty);
    req.set_stdin(in);
    req.set_stdout(true);
    req.set_stderr(!tty);
    v1::ExecResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto status = client_->runtime().Exec(&ctx, req, &resp);
    if (!status.ok()) return FromGrpcStatus(status, "Exec");
    return resp.url();
  }

  absl::StatusOr<std::string> PortForwardUrl(const std::string& pod_id) {
    v1::PortForwardRequest req;
    req.set_pod_sandbox_id(pod_id);
    v1::PortForwardResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto status = client_->runtime().PortForward(&ctx, req, &resp);
    if (!status.ok()) return FromGrpcStatus(status, "PortForward");
    return resp.url();
  }

  absl::StatusOr<ExecOutcome> RunExec(const std::string& container, std::vector<std::string> cmd,
                                      const std::string& stdin_data = "") {
    ASSIGN_OR_RETURN(std::string url, ExecUrl(container, cmd, false, !stdin_data.empty()));
    ASSIGN_OR_RETURN(auto client, StreamClient::Connect(url, {"v5.channel.k8s.io", "v4.channel.k8s.io"}));
    if (!stdin_data.empty()) {
      RETURN_IF_ERROR(client->Send(kStdinChannel, stdin_data));
      RETURN_IF_ERROR(client->SendClose(kStdinChannel));
    }
    return CollectExec(*client, absl::Seconds(30));
  }

  // Opens a port-forward of `ports`, checks the port prefixes and probes each
  // port with an echo; retried until every port answers (the pod's servers
  // may still be starting).
  absl::StatusOr<std::unique_ptr<StreamClient>> OpenForward(const std::vector<uint16_t>& ports,
                                                            absl::Duration timeout = absl::Seconds(20)) {
    int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
    for (;;) {
      ASSIGN_OR_RETURN(std::string url, PortForwardUrl(pod_id_));
      std::string query;
      for (uint16_t p : ports) absl::StrAppend(&query, query.empty() ? "?" : "&", "port=", p);
      ASSIGN_OR_RETURN(auto client, StreamClient::Connect(url + query, {"v4.channel.k8s.io"}));
      std::map<int, int> seen;
      while (seen.size() < 2 * ports.size()) {
        ASSIGN_OR_RETURN(auto frame, client->Read(absl::Seconds(10)));
        if (seen[frame.channel]++ == 0 && frame.data != streaming::PortPrefix(ports[frame.channel / 2])) {
          return absl::InternalError(absl::StrCat("channel ", frame.channel, ": bad port prefix"));
        }
      }
      absl::Status probe;
      for (size_t i = 0; i < ports.size() && probe.ok(); ++i) {
        auto echoed = Echo(*client, static_cast<uint8_t>(2 * i), "probe\n");
        if (!echoed.ok()) probe = echoed.status();
      }
      if (probe.ok()) return client;
      if (MonotonicNanos() > deadline) return probe;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the pod's listeners are not up yet
    }
  }

  // Sends `data` on `channel` and reads back as many bytes on it.
  static absl::StatusOr<std::string> Echo(StreamClient& client, uint8_t channel, const std::string& data) {
    RETURN_IF_ERROR(client.Send(channel, data));
    std::string got, other;
    while (got.size() < data.size()) {
      auto frame = client.Read(absl::Seconds(20));
      if (!frame.ok()) {
        return absl::Status(frame.status().code(), absl::StrCat(frame.status().message(), "; got \"", got,
                                                                "\", other channels: ", other));
      }
      if (frame->channel != channel) {
        absl::StrAppend(&other, "[", frame->channel, "] ", absl::CHexEscape(frame->data), " ");
        continue;
      }
      got += frame->data;
    }
    return got;
  }

  // One port-forward request over SPDY: `data` then FIN on the data
  // stream; what comes back on the data stream (until its FIN) and on the
  // error stream. Retried while the pod's listener is not up (refused).
  static absl::StatusOr<std::pair<std::string, std::string>> SpdyEcho(SpdyClient& client, uint16_t port,
                                                                      int* request_id, const std::string& data,
                                                                      bool retry_refused = true) {
    int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(absl::Seconds(20));
    for (;;) {
      ASSIGN_OR_RETURN(SpdyForward f, OpenSpdyForward(client, port, absl::StrCat((*request_id)++)));
      RETURN_IF_ERROR(client.Send(f.data, data, /*fin=*/true));
      std::string got, error;
      bool data_fin = false, error_fin = false;
      while (!data_fin || !error_fin) {
        ASSIGN_OR_RETURN(auto frame, client.Next(absl::Seconds(20)));
        bool ends = frame.fin() || frame.type == streaming::SpdyFrameType::kRstStream;
        if (frame.stream_id == f.data) {
          got += frame.data;
          data_fin |= ends;
        } else if (frame.stream_id == f.error) {
          error += frame.data;
          error_fin |= ends;
        }
      }
      bool refused = absl::StrContains(error, "refused");
      if (!refused || !retry_refused || MonotonicNanos() > deadline) return std::make_pair(got, error);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the pod's listener is not up yet
    }
  }

  absl::StatusOr<ExecOutcome> RunSpdyExec(const std::string& container, std::vector<std::string> cmd,
                                          const std::string& stdin_data = "") {
    bool in = !stdin_data.empty();
    ASSIGN_OR_RETURN(std::string url, ExecUrl(container, cmd, false, in));
    ASSIGN_OR_RETURN(auto client, SpdyClient::Connect(url, {"v4.channel.k8s.io", "v3.channel.k8s.io"}));
    ASSIGN_OR_RETURN(auto streams, OpenSpdyExecStreams(*client, in, true, true, false));
    if (in) RETURN_IF_ERROR(client->Send(streams.id("stdin"), stdin_data, /*fin=*/true));
    return CollectSpdyExec(*client, streams, absl::Seconds(30));
  }

  v1::PodSandboxConfig pod_;
  std::string pod_id_;
};

TEST_F(StreamingE2eTest, ExecWithoutTtyOutputAndExitCode) {
  std::string id = StartPod("exec-plain");
  ASSERT_FALSE(id.empty());
  // hostname and /etc/hostname come from the container's uts and mount namespaces.
  E2E_ASSERT_OK_AND_ASSIGN(auto ok, RunExec(id, {"sh", "-c", "echo out; echo err >&2; hostname; ls /bin/busybox"}));
  EXPECT_EQ(ok.stdout_data, absl::StrCat("out\n", pod_.hostname(), "\n/bin/busybox\n"));
  EXPECT_EQ(ok.stderr_data, "err\n");
  EXPECT_EQ(ok.exit_code, 0) << ok.error;
  E2E_ASSERT_OK_AND_ASSIGN(auto failed, RunExec(id, {"sh", "-c", "exit 42"}));
  EXPECT_EQ(failed.exit_code, 42) << failed.error;
  EXPECT_NE(failed.error.find("NonZeroExitCode"), std::string::npos);
}

TEST_F(StreamingE2eTest, ExecStdinAndV4Base64) {
  std::string id = StartPod("exec-stdin");
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK_AND_ASSIGN(auto upper, RunExec(id, {"tr", "a-z", "A-Z"}, "hello\nworld\n"));
  EXPECT_EQ(upper.stdout_data, "HELLO\nWORLD\n");
  EXPECT_EQ(upper.exit_code, 0);
  E2E_ASSERT_OK_AND_ASSIGN(std::string url, ExecUrl(id, {"echo", "b64"}, false, false));
  E2E_ASSERT_OK_AND_ASSIGN(auto client, StreamClient::Connect(url, {"v4.base64.channel.k8s.io"}));
  EXPECT_EQ(client->protocol(), "v4.base64.channel.k8s.io");
  E2E_ASSERT_OK_AND_ASSIGN(auto outcome, CollectExec(*client, absl::Seconds(30)));
  EXPECT_EQ(outcome.stdout_data, "b64\n");
}

TEST_F(StreamingE2eTest, ExecTtyResizeAndCtrlC) {
  std::string id = StartPod("exec-tty");
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK_AND_ASSIGN(std::string url,
                           ExecUrl(id, {"sh", "-c", "read x; stty size; echo ready; exec sleep 60"}, true, true));
  E2E_ASSERT_OK_AND_ASSIGN(auto client, StreamClient::Connect(url, {"v5.channel.k8s.io"}));
  E2E_ASSERT_OK(client->SendResize(132, 43));
  E2E_ASSERT_OK(client->Send(kStdinChannel, "go\r"));
  std::string seen;
  while (seen.find("ready") == std::string::npos) {
    E2E_ASSERT_OK_AND_ASSIGN(auto frame, client->Read(absl::Seconds(20)));
    if (frame.channel == kStdoutChannel) seen += frame.data;
  }
  EXPECT_NE(seen.find("43 132"), std::string::npos) << seen;
  E2E_ASSERT_OK(client->Send(kStdinChannel, "\x03"));  // Ctrl-C: SIGINT through the tty
  E2E_ASSERT_OK_AND_ASSIGN(auto outcome, CollectExec(*client, absl::Seconds(20)));
  EXPECT_EQ(outcome.exit_code, 128 + SIGINT) << outcome.error;
}

TEST_F(StreamingE2eTest, ExecErrors) {
  std::string id = StartPod("exec-errors");
  ASSERT_FALSE(id.empty());
  // A command that is not in the image: the error names it, on the error channel.
  E2E_ASSERT_OK_AND_ASSIGN(auto missing, RunExec(id, {"no-such-binary"}));
  EXPECT_EQ(missing.exit_code, -1);
  EXPECT_NE(missing.error.find("no-such-binary"), std::string::npos) << missing.error;
  // Unsupported protocol: 403, and the token is spent.
  E2E_ASSERT_OK_AND_ASSIGN(std::string url, ExecUrl(id, {"true"}, false, false));
  auto bad = StreamClient::Connect(url, {"v3.channel.k8s.io"});
  EXPECT_NE(bad.status().message().find("HTTP 403"), std::string::npos) << bad.status();
  auto reused = StreamClient::Connect(url, {"v5.channel.k8s.io"});
  EXPECT_NE(reused.status().message().find("HTTP 404"), std::string::npos) << reused.status();
  // An unknown token.
  std::string unknown = url.substr(0, url.rfind('/') + 1) + "AAAAAAAAAAA";
  auto bad_token = StreamClient::Connect(unknown, {"v5.channel.k8s.io"});
  EXPECT_NE(bad_token.status().message().find("HTTP 404"), std::string::npos) << bad_token.status();
  // CRI-level validation.
  v1::ExecRequest req;
  req.set_container_id(id);
  req.add_cmd("sh");
  req.set_tty(true);
  req.set_stdout(true);
  req.set_stderr(true);
  v1::ExecResponse resp;
  grpc::ClientContext ctx;
  EXPECT_EQ(client_->runtime().Exec(&ctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A stopped container: FailedPrecondition from CRI Exec.
  E2E_ASSERT_OK(client_->StopContainer(id, 0));
  auto stopped = ExecUrl(id, {"true"}, false, false);
  EXPECT_TRUE(absl::IsFailedPrecondition(stopped.status())) << stopped.status();
  EXPECT_NE(stopped.status().message().find("not running"), std::string::npos) << stopped.status();
  // Still serving: PortForward of the (ready) pod gets a URL.
  EXPECT_TRUE(PortForwardUrl(pod_id_).ok());
}

TEST_F(StreamingE2eTest, PortForwardEchoSeveralPortsAndConnections) {
  std::string id = StartPod("pf", {"sh", "-c", "nc -ll -p 5000 -e cat & nc -ll -p 5001 -e cat & wait"});
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK_AND_ASSIGN(auto a, OpenForward({5000, 5001}));
  E2E_ASSERT_OK_AND_ASSIGN(auto b, OpenForward({5000}));  // a second connection to the same port at once
  E2E_ASSERT_OK_AND_ASSIGN(std::string a0, Echo(*a, 0, "to 5000 via a\n"));
  EXPECT_EQ(a0, "to 5000 via a\n");
  E2E_ASSERT_OK_AND_ASSIGN(std::string a1, Echo(*a, 2, "to 5001 via a\n"));
  EXPECT_EQ(a1, "to 5001 via a\n");
  std::string big(256 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('A' + (i * 7) % 26);
  big.back() = '\n';
  E2E_ASSERT_OK_AND_ASSIGN(std::string b0, Echo(*b, 0, big));
  EXPECT_EQ(b0, big);
  // A port nobody listens on: an error on its error channel, the others go on.
  E2E_ASSERT_OK_AND_ASSIGN(std::string url, PortForwardUrl(pod_id_));
  E2E_ASSERT_OK_AND_ASSIGN(auto c, StreamClient::Connect(url + "?port=5999&port=5000", {"v4.channel.k8s.io"}));
  std::string error;
  std::map<int, int> count;
  while (error.empty()) {
    E2E_ASSERT_OK_AND_ASSIGN(auto frame, c->Read(absl::Seconds(20)));
    if (count[frame.channel]++ > 0 && frame.channel == 1) error = frame.data;
  }
  EXPECT_NE(error.find("error forwarding port 5999"), std::string::npos) << error;
  E2E_ASSERT_OK_AND_ASSIGN(std::string c2, Echo(*c, 2, "still there\n"));
  EXPECT_EQ(c2, "still there\n");
  // PortForward of an unknown pod is NotFound.
  auto unknown = PortForwardUrl("no-such-pod");
  EXPECT_TRUE(absl::IsNotFound(unknown.status())) << unknown.status();
}

TEST_F(StreamingE2eTest, SpdyExecWithoutTtyStdinAndExitCodes) {
  std::string id = StartPod("spdy-exec");
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK_AND_ASSIGN(auto ok, RunSpdyExec(id, {"sh", "-c", "echo out; echo err >&2; hostname"}));
  EXPECT_EQ(ok.stdout_data, absl::StrCat("out\n", pod_.hostname(), "\n"));
  EXPECT_EQ(ok.stderr_data, "err\n");
  EXPECT_EQ(ok.exit_code, 0) << ok.error;
  E2E_ASSERT_OK_AND_ASSIGN(auto failed, RunSpdyExec(id, {"sh", "-c", "exit 42"}));
  EXPECT_EQ(failed.exit_code, 42) << failed.error;
  EXPECT_NE(failed.error.find("NonZeroExitCode"), std::string::npos) << failed.error;
  E2E_ASSERT_OK_AND_ASSIGN(auto upper, RunSpdyExec(id, {"tr", "a-z", "A-Z"}, "hello\nspdy\n"));
  EXPECT_EQ(upper.stdout_data, "HELLO\nSPDY\n");
  EXPECT_EQ(upper.exit_code, 0) << upper.error;
  // v3: a failure is plain text on the error stream.
  E2E_ASSERT_OK_AND_ASSIGN(std::string url, ExecUrl(id, {"sh", "-c", "exit 7"}, false, false));
  E2E_ASSERT_OK_AND_ASSIGN(auto v3, SpdyClient::Connect(url, {"v3.channel.k8s.io"}));
  E2E_ASSERT_OK_AND_ASSIGN(auto streams, OpenSpdyExecStreams(*v3, false, true, true, false));
  E2E_ASSERT_OK_AND_ASSIGN(auto old, CollectSpdyExec(*v3, streams, absl::Seconds(30)));
  EXPECT_EQ(old.error, "command terminated with non-zero exit code: 7");
}

TEST_F(StreamingE2eTest, SpdyExecTtyResizeAndCtrlC) {
  std::string id = StartPod("spdy-tty");
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK_AND_ASSIGN(std::string url,
                           ExecUrl(id, {"sh", "-c", "read x; stty size; echo ready; exec sleep 60"}, true, true));
  E2E_ASSERT_OK_AND_ASSIGN(auto client, SpdyClient::Connect(url, {"v4.channel.k8s.io"}));
  E2E_ASSERT_OK_AND_ASSIGN(auto streams, OpenSpdyExecStreams(*client, true, true, false, true));
  E2E_ASSERT_OK(client->Send(streams.id("resize"), "{\"Width\":132,\"Height\":43}\n"));
  E2E_ASSERT_OK(client->Send(streams.id("stdin"), "go\r"));
  std::string seen;
  while (seen.find("ready") == std::string::npos) {
    E2E_ASSERT_OK_AND_ASSIGN(auto frame, client->Next(absl::Seconds(20)));
    if (frame.type == streaming::SpdyFrameType::kData && frame.stream_id == streams.id("stdout")) seen += frame.data;
  }
  EXPECT_NE(seen.find("43 132"), std::string::npos) << seen;
  E2E_ASSERT_OK(client->Send(streams.id("stdin"), "\x03"));  // Ctrl-C: SIGINT through the tty
  E2E_ASSERT_OK_AND_ASSIGN(auto outcome, CollectSpdyExec(*client, streams, absl::Seconds(20)));
  EXPECT_EQ(outcome.exit_code, 128 + SIGINT) << outcome.error;
}

TEST_F(StreamingE2eTest, SpdyPortForwardEchoSeveralPortsAndRequests) {
  std::string id = StartPod("spdy-pf", {"sh", "-c", "nc -ll -p 5000 -e cat & nc -ll -p 5001 -e cat & wait"});
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK_AND_ASSIGN(std::string url, PortForwardUrl(pod_id_));
  E2E_ASSERT_OK_AND_ASSIGN(auto client, SpdyClient::Connect(url, {"portforward.k8s.io"}));
  int request = 0;
  // Both listeners up (retried while refused).
  E2E_ASSERT_OK_AND_ASSIGN(auto first, SpdyEcho(*client, 5000, &request, "to 5000\n"));
  EXPECT_EQ(first.first, "to 5000\n") << first.second;
  E2E_ASSERT_OK_AND_ASSIGN(auto second, SpdyEcho(*client, 5001, &request, "to 5001\n"));
  EXPECT_EQ(second.first, "to 5001\n") << second.second;

  // Two requests to 5000 and one to 5001 at once on the one connection.
  std::string big(256 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('A' + (i * 7) % 26);
  std::vector<std::pair<uint16_t, std::string>> wanted = {{5000, "a\n"}, {5000, big}, {5001, "c\n"}};
  std::map<uint32_t, std::string> expect, got;
  std::map<uint32_t, bool> fin;
  for (auto& [port, data] : wanted) {
    E2E_ASSERT_OK_AND_ASSIGN(SpdyForward f, OpenSpdyForward(*client, port, absl::StrCat(request++)));
    expect[f.data] = data;
  }
  for (auto& [stream, data] : expect) E2E_ASSERT_OK(client->Send(stream, data, /*fin=*/true));
  while (fin.size() < expect.size()) {
    E2E_ASSERT_OK_AND_ASSIGN(auto frame, client->Next(absl::Seconds(20)));
    if (!expect.count(frame.stream_id)) continue;
    got[frame.stream_id] += frame.data;
    if (frame.fin()) fin[frame.stream_id] = true;
  }
  for (auto& [stream, data] : expect) EXPECT_EQ(got[stream], data) << "stream " << stream;

  // A port nobody listens on: its error stream says so; the connection goes on.
  E2E_ASSERT_OK_AND_ASSIGN(auto refused, SpdyEcho(*client, 5999, &request, "x", /*retry_refused=*/false));
  EXPECT_NE(refused.second.find("error forwarding port 5999"), std::string::npos) << refused.second;
  E2E_ASSERT_OK_AND_ASSIGN(auto after, SpdyEcho(*client, 5000, &request, "still there\n"));
  EXPECT_EQ(after.first, "still there\n");
}

TEST_F(StreamingE2eTest, SpdyBadInputs) {
  std::string id = StartPod("spdy-errors");
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK_AND_ASSIGN(std::string url, ExecUrl(id, {"true"}, false, false));
  // Unsupported X-Stream-Protocol-Version: 403, and the token is spent.
  auto bad = SpdyClient::Connect(url, {"v9.channel.k8s.io"});
  EXPECT_NE(bad.status().message().find("HTTP 403"), std::string::npos) << bad.status();
  auto reused = SpdyClient::Connect(url, {"v4.channel.k8s.io"});
  EXPECT_NE(reused.status().message().find("HTTP 404"), std::string::npos) << reused.status();
  std::string unknown = url.substr(0, url.rfind('/') + 1) + "AAAAAAAAAAA";
  auto bad_token = SpdyClient::Connect(unknown, {"v4.channel.k8s.io"});
  EXPECT_NE(bad_token.status().message().find("HTTP 404"), std::string::npos) << bad_token.status();
  // A binary not in the image: InternalError on the error stream naming it.
  E2E_ASSERT_OK_AND_ASSIGN(auto missing, RunSpdyExec(id, {"no-such-binary"}));
  EXPECT_EQ(missing.exit_code, -1);
  EXPECT_NE(missing.error.find("no-such-binary"), std::string::npos) << missing.error;
  // Still serving.
  E2E_ASSERT_OK_AND_ASSIGN(auto ok, RunSpdyExec(id, {"echo", "ok"}));
  EXPECT_EQ(ok.stdout_data, "ok\n");
}

}  // namespace
}  // namespace berth::e2e
