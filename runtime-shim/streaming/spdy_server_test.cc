// The streaming server's SPDY/3.1 side over real sockets against the fake
// runtime (streaming_test_fakes.h), with the e2e SPDY client
// (e2e/streaming/spdy_client.h): remotecommand v4 and older, stdin FIN,
// tty resize, flow control both ways and a kubectl-like peer without it,
// port-forward of several requests and ports on one connection, bad input.
#include <map>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "e2e/streaming/spdy_client.h"
#include "e2e/streaming/stream_client.h"
#include "gtest/gtest.h"
#include "runtime-shim/streaming/spdy_frame.h"
#include "runtime-shim/streaming/streaming_server.h"
#include "runtime-shim/streaming/streaming_test_fakes.h"

namespace berth::streaming {
namespace {

using e2e::CollectSpdyExec;
using e2e::OpenSpdyExecStreams;
using e2e::OpenSpdyForward;
using e2e::SpdyClient;
using e2e::SpdyClientOptions;
using testing_fakes::EchoServer;
using testing_fakes::FakeRuntime;
using testing_fakes::UnusedPort;

const std::vector<std::string> kAllVersions = {"v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io",
                                               "channel.k8s.io"};

class SpdyServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StreamingServerOptions options;
    options.stream_creation_timeout = absl::Milliseconds(500);
    auto server = StreamingServer::Start(options, &runtime_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::string ExecUrl(std::vector<std::string> cmd, bool tty = false, bool in = false, bool err = true) {
    ::runtime::v1::ExecRequest req;
    req.set_container_id("running");
    for (auto& c : cmd) req.add_cmd(c);
    req.set_tty(tty);
    req.set_stdin(in);
    req.set_stdout(true);
    req.set_stderr(err && !tty);
    ::runtime::v1::ExecResponse resp;
    EXPECT_TRUE(server_->GetExec(req, &resp).ok());
    return resp.url();
  }

  std::string PortForwardUrl() {
    ::runtime::v1::PortForwardRequest req;
    req.set_pod_sandbox_id("pod");
    ::runtime::v1::PortForwardResponse resp;
    EXPECT_TRUE(server_->GetPortForward(req, &resp).ok());
    return resp.url();
  }

  // Runs `cmd` without a tty over `version`; stdin sent then FIN when given.
  absl::StatusOr<e2e::ExecOutcome> Exec(std::vector<std::string> cmd, std::vector<std::string> versions,
                                        const std::string& stdin_data = "", SpdyClientOptions options = {}) {
    bool in = !stdin_data.empty();
    auto client = SpdyClient::Connect(ExecUrl(cmd, false, in), versions, options);
    if (!client.ok()) return client.status();
    auto streams = OpenSpdyExecStreams(**client, in, true, true, false);
    if (!streams.ok()) return streams.status();
    if (in) {
      auto sent = (*client)->Send(streams->id("stdin"), stdin_data, /*fin=*/true);
      if (!sent.ok()) return sent;
    }
    return CollectSpdyExec(**client, *streams, absl::Seconds(20));
  }

  FakeRuntime runtime_;
  std::unique_ptr<StreamingServer> server_;
};

TEST_F(SpdyServerTest, ExecV4OutputAndExitCodeStatus) {
  auto client = SpdyClient::Connect(ExecUrl({"sh", "-c", "echo out; echo err >&2; exit 3"}), kAllVersions);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->protocol(), "v4.channel.k8s.io");
  auto streams = OpenSpdyExecStreams(**client, false, true, true, false);
  ASSERT_TRUE(streams.ok()) << streams.status();
  auto outcome = CollectSpdyExec(**client, *streams, absl::Seconds(20));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->stdout_data, "out\n");
  EXPECT_EQ(outcome->stderr_data, "err\n");
  EXPECT_EQ(outcome->exit_code, 3) << outcome->error;
  EXPECT_NE(outcome->error.find("NonZeroExitCode"), std::string::npos) << outcome->error;

  auto ok = Exec({"true"}, {"v4.channel.k8s.io"});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->exit_code, 0);
  EXPECT_NE(ok->error.find("\"Success\""), std::string::npos) << ok->error;
}

TEST_F(SpdyServerTest, OlderVersionsGetPlainTextErrors) {
  for (const std::string version : {"v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"}) {
    auto failed = Exec({"sh", "-c", "exit 5"}, {version});
    ASSERT_TRUE(failed.ok()) << version << ": " << failed.status();
    EXPECT_EQ(failed->error, "command terminated with non-zero exit code: 5") << version;
    EXPECT_EQ(failed->exit_code, 5) << version;
    auto ok = Exec({"echo", "hi"}, {version});
    ASSERT_TRUE(ok.ok()) << version << ": " << ok.status();
    EXPECT_EQ(ok->stdout_data, "hi\n");
    EXPECT_EQ(ok->error, "") << version;  // success is silence before v4
  }
  // No X-Stream-Protocol-Version at all: the kubelet's v1.
  auto none = Exec({"sh", "-c", "exit 2"}, {});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->exit_code, 2) << none->error;
}

TEST_F(SpdyServerTest, StdinFinClosesTheCommandsStdin) {
  auto upper = Exec({"tr", "a-z", "A-Z"}, {"v4.channel.k8s.io"}, "hello\nworld\n");
  ASSERT_TRUE(upper.ok()) << upper.status();
  EXPECT_EQ(upper->stdout_data, "HELLO\nWORLD\n");
  EXPECT_EQ(upper->exit_code, 0) << upper->error;
}

TEST_F(SpdyServerTest, StdinBeyondTheWindowWaitsForWindowUpdates) {
  // 1 MiB through a 64 KiB window: only the server's WINDOW_UPDATEs let it through.
  std::string data(1 << 20, 'x');
  auto client = SpdyClient::Connect(ExecUrl({"wc", "-c"}, false, true), {"v4.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  auto streams = OpenSpdyExecStreams(**client, true, true, true, false);
  ASSERT_TRUE(streams.ok()) << streams.status();
  ASSERT_TRUE((*client)->Send(streams->id("stdin"), data, true).ok());
  EXPECT_GE((*client)->window_updates_received(), 2 * 15);  // per stream and per connection, 32 KiB each
  auto outcome = CollectSpdyExec(**client, *streams, absl::Seconds(20));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(absl::StripAsciiWhitespace(outcome->stdout_data), "1048576");
}

TEST_F(SpdyServerTest, LargeOutputWithAndWithoutClientFlowControl) {
  for (bool flow_control : {true, false}) {
    SpdyClientOptions options;
    options.flow_control = flow_control;
    auto outcome = Exec({"head", "-c", "1000000", "/dev/zero"}, {"v4.channel.k8s.io"}, "", options);
    ASSERT_TRUE(outcome.ok()) << "flow control " << flow_control << ": " << outcome.status();
    EXPECT_EQ(outcome->stdout_data.size(), 1000000u) << "flow control " << flow_control;
    EXPECT_EQ(outcome->exit_code, 0);
  }
}

TEST_F(SpdyServerTest, TtyResizeStreamAndInput) {
  auto client = SpdyClient::Connect(ExecUrl({"sh", "-c", "read x; stty size; echo ready"}, true, true),
                                    {"v4.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  auto streams = OpenSpdyExecStreams(**client, true, true, false, true);
  ASSERT_TRUE(streams.ok()) << streams.status();
  ASSERT_TRUE((*client)->Send(streams->id("resize"), "{\"Width\":132,\"Height\":43}\n").ok());
  ASSERT_TRUE((*client)->Send(streams->id("stdin"), "go\r").ok());
  auto outcome = CollectSpdyExec(**client, *streams, absl::Seconds(20));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_NE(outcome->stdout_data.find("43 132"), std::string::npos) << outcome->stdout_data;
  EXPECT_NE(outcome->stdout_data.find("ready"), std::string::npos) << outcome->stdout_data;
  EXPECT_EQ(outcome->exit_code, 0) << outcome->error;
}

TEST_F(SpdyServerTest, PortForwardSeveralRequestsAndPortsOnOneConnection) {
  EchoServer a, b;
  int unused_fd = -1;
  uint16_t unused = UnusedPort(&unused_fd);
  auto client = SpdyClient::Connect(PortForwardUrl(), {"portforward.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->protocol(), "portforward.k8s.io");
  auto r0 = OpenSpdyForward(**client, a.port(), "0");
  auto r1 = OpenSpdyForward(**client, a.port(), "1");
  auto r2 = OpenSpdyForward(**client, b.port(), "2");
  auto r3 = OpenSpdyForward(**client, unused, "3");
  ASSERT_TRUE(r0.ok() && r1.ok() && r2.ok() && r3.ok());
  std::string big(256 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('A' + (i * 7) % 26);
  std::map<uint32_t, std::string> sent = {{r0->data, "to a via 0\n"}, {r1->data, "to a via 1\n"}, {r2->data, big}};
  for (auto& [id, data] : sent) ASSERT_TRUE((*client)->Send(id, data, /*fin=*/true).ok());

  // Each echo comes back whole on its data stream, then FIN; the refused
  // port's error stream names it; every error stream ends.
  std::map<uint32_t, std::string> got;
  std::map<uint32_t, bool> fin;
  std::string refused;
  auto done = [&] {
    for (auto id : {r0->data, r1->data, r2->data, r0->error, r1->error, r2->error, r3->error}) {
      if (!fin[id]) return false;
    }
    return true;
  };
  while (!done()) {
    auto frame = (*client)->Next(absl::Seconds(20));
    ASSERT_TRUE(frame.ok()) << frame.status();
    if (frame->type == SpdyFrameType::kRstStream) {
      fin[frame->stream_id] = true;
      continue;
    }
    if (frame->type != SpdyFrameType::kData) continue;
    if (frame->stream_id == r3->error) refused += frame->data;
    got[frame->stream_id] += frame->data;
    if (frame->fin()) fin[frame->stream_id] = true;
  }
  for (auto& [id, data] : sent) EXPECT_EQ(got[id], data) << "stream " << id;
  EXPECT_NE(refused.find(absl::StrCat("error forwarding port ", unused, " to pod pod")), std::string::npos)
      << refused;
  EXPECT_TRUE(got[r0->error].empty()) << got[r0->error];

  // The connection still takes new requests.
  auto r4 = OpenSpdyForward(**client, b.port(), "4");
  ASSERT_TRUE(r4.ok());
  ASSERT_TRUE((*client)->Send(r4->data, "again\n").ok());
  std::string again;
  while (again.size() < 6) {
    auto frame = (*client)->Next(absl::Seconds(20));
    ASSERT_TRUE(frame.ok()) << frame.status();
    if (frame->type == SpdyFrameType::kData && frame->stream_id == r4->data) again += frame->data;
  }
  EXPECT_EQ(again, "again\n");
  close(unused_fd);
}

TEST_F(SpdyServerTest, BadInputGetsErrorsAndTheServerGoesOn) {
  std::string base = absl::StrCat("http://", server_->address());
  auto unknown = SpdyClient::Connect(base + "/exec/AAAAAAAAAAA", {"v4.channel.k8s.io"});
  EXPECT_NE(unknown.status().message().find("HTTP 404"), std::string::npos) << unknown.status();

  auto bad_version = SpdyClient::Connect(ExecUrl({"true"}), {"v9.channel.k8s.io"});
  EXPECT_NE(bad_version.status().message().find("HTTP 403"), std::string::npos) << bad_version.status();
  auto pf_version = SpdyClient::Connect(PortForwardUrl(), {"v4.channel.k8s.io"});
  EXPECT_NE(pf_version.status().message().find("HTTP 403"), std::string::npos) << pf_version.status();

  // An unknown stream type is reset; a client that never opens the streams
  // its request needs (here stdout) is disconnected after the creation timeout.
  auto client = SpdyClient::Connect(ExecUrl({"true"}), {"v4.channel.k8s.io"});
  ASSERT_TRUE(client.ok()) << client.status();
  auto odd = (*client)->OpenStream({{"streamtype", "bogus"}});
  ASSERT_TRUE(odd.ok());
  ASSERT_TRUE((*client)->OpenStream({{"streamtype", "error"}}).ok());
  bool reset = false, closed = false;
  while (!closed) {
    auto frame = (*client)->Next(absl::Seconds(10));
    if (absl::IsOutOfRange(frame.status())) {
      closed = true;
      break;
    }
    ASSERT_TRUE(frame.ok()) << frame.status();
    if (frame->type == SpdyFrameType::kRstStream && frame->stream_id == *odd) reset = true;
  }
  EXPECT_TRUE(reset);

  // Garbage after the upgrade ends that connection only.
  auto garbage = SpdyClient::Connect(ExecUrl({"true"}), {"v4.channel.k8s.io"});
  ASSERT_TRUE(garbage.ok()) << garbage.status();
  ASSERT_TRUE((*garbage)->SendRaw(std::string("\x80\x02\x00\x01\x00\x00\x00\x00", 8)).ok());  // version 2
  auto end = (*garbage)->Next(absl::Seconds(10));
  EXPECT_TRUE(absl::IsOutOfRange(end.status())) << end.status();

  // Port-forward: a bad port header is answered on the error stream.
  auto pf = SpdyClient::Connect(PortForwardUrl(), {"portforward.k8s.io"});
  ASSERT_TRUE(pf.ok()) << pf.status();
  auto bad_port = (*pf)->OpenStream({{"streamtype", "error"}, {"port", "99999"}, {"requestid", "0"}});
  ASSERT_TRUE(bad_port.ok());
  std::string message;
  for (bool fin = false; !fin;) {
    auto frame = (*pf)->Next(absl::Seconds(10));
    ASSERT_TRUE(frame.ok()) << frame.status();
    if (frame->type != SpdyFrameType::kData || frame->stream_id != *bad_port) continue;
    message += frame->data;
    fin = frame->fin();
  }
  EXPECT_NE(message.find("\"99999\" is not a port number"), std::string::npos) << message;

  // Still serving.
  auto ok = Exec({"echo", "ok"}, {"v4.channel.k8s.io"});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->stdout_data, "ok\n");
}

}  // namespace
}  // namespace berth::streaming
