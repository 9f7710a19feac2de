// Attach end to end: berth-agent serving CRI, Attach URLs from it, and the
// WebSocket client of this folder on its streaming server, reaching the
// container's stdio through the shim's attach socket. Against berth only.
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/time.h"
#include "e2e/cri_fixture.h"
#include "e2e/streaming/spdy_client.h"
#include "e2e/streaming/stream_client.h"

namespace berth::e2e {
namespace {

namespace v1 = runtime::v1;
using streaming::kErrorChannel;
using streaming::kStdinChannel;
using streaming::kStdoutChannel;

const std::vector<std::string> kProtocols = {"v5.channel.k8s.io", "v4.channel.k8s.io"};

class AttachE2eTest : public CriE2eTest {
 protected:
  void SetUp() override {
    CriE2eTest::SetUp();
    if (IsContainerd()) GTEST_SKIP() << "the attach suite drives berth's WebSocket server";
  }

  // A running container of `command` with the given stdio settings.
  std::string Start(const std::string& name, std::vector<std::string> command, bool in, bool once, bool tty) {
    pod_ = PodConfig(name);
    auto pod_id = client_->RunPodSandbox(pod_);
    EXPECT_TRUE(pod_id.ok()) << pod_id.status();
    if (!pod_id.ok()) return "";
    config_ = MinimalContainerConfig("main", kBusybox, command);
    config_.set_stdin(in);
    config_.set_stdin_once(once);
    config_.set_tty(tty);
    config_.set_log_path("main/0.log");
    auto id = CreateAndStart(*pod_id, pod_, config_);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : "";
  }

  absl::StatusOr<std::string> AttachUrl(const std::string& container, bool in, bool tty, bool err = true) {
    v1::AttachRequest req;
    req.set_container_id(container);
    req.set_stdin(in);
    req.set_tty(tty);
    req.set_stdout(true);
    req.set_stderr(err && !tty);
    v1::AttachResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto status = client_->runtime().Attach(&ctx, req, &resp);
    if (!status.ok()) return FromGrpcStatus(status, "Attach");
    return resp.url();
  }

  absl::StatusOr<std::unique_ptr<StreamClient>> Attach(const std::string& container, bool in, bool tty) {
    ASSIGN_OR_RETURN(std::string url, AttachUrl(container, in, tty));
    ASSIGN_OR_RETURN(auto client, StreamClient::Connect(url, kProtocols));
    // The server's first (empty) message says the streams are ready.
    ASSIGN_OR_RETURN(auto ready, client->Read(absl::Seconds(10)));
    if (!ready.data.empty()) return absl::InternalError("first attach message was not empty");
    return client;
  }

  // Reads stdout until it contains `want`.
  static absl::StatusOr<std::string> ReadUntil(StreamClient& client, const std::string& want) {
    std::string got;
    while (!absl::StrContains(got, want)) {
      auto frame = client.Read(absl::Seconds(20));
      if (!frame.ok()) {
        return absl::Status(frame.status().code(), absl::StrCat(frame.status().message(), "; stdout so far: \"",
                                                                got, "\""));
      }
      if (frame->channel == kStdoutChannel) got += frame->data;
    }
    return got;
  }

  // Attach over SPDY/3.1 as kubectl does without WebSockets: the streams
  // of the request (error, stdin, stdout, stderr or resize with a tty).
  absl::StatusOr<std::pair<std::unique_ptr<SpdyClient>, SpdyExecStreams>> SpdyAttach(const std::string& container,
                                                                                     bool in, bool tty) {
    ASSIGN_OR_RETURN(std::string url, AttachUrl(container, in, tty));
    ASSIGN_OR_RETURN(auto client, SpdyClient::Connect(url, {"v4.channel.k8s.io", "v3.channel.k8s.io"}));
    ASSIGN_OR_RETURN(auto streams, OpenSpdyExecStreams(*client, in, /*stdout=*/true, /*stderr=*/!tty, tty));
    return std::make_pair(std::move(client), std::move(streams));
  }

  // Reads DATA on the stdout stream until it contains `want`.
  static absl::StatusOr<std::string> SpdyReadUntil(SpdyClient& client, const SpdyExecStreams& streams,
                                                   const std::string& want) {
    std::string got;
    while (!absl::StrContains(got, want)) {
      auto frame = client.Next(absl::Seconds(20));
      if (!frame.ok()) {
        return absl::Status(frame.status().code(), absl::StrCat(frame.status().message(), "; stdout so far: \"",
                                                                got, "\""));
      }
      if (frame->type == streaming::SpdyFrameType::kData && frame->stream_id == streams.id("stdout")) {
        got += frame->data;
      }
    }
    return got;
  }

  // Waits (bounded) until the container's CRI log holds `want`.
  absl::Status WaitForLog(const std::string& want) {
    int64_t deadline = MonotonicNanos() + int64_t{10} * 1000000000;
    std::string log;
    while (MonotonicNanos() < deadline) {
      log = ReadFile(LogPath(pod_, config_)).value_or("");
      if (absl::StrContains(log, want)) return absl::OkStatus();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return absl::NotFoundError(absl::StrCat("\"", want, "\" not in the log: ", log));
  }

  // The container's state; a failed ContainerStatus is a test failure (and
  // CONTAINER_UNKNOWN), not an abort that would skip the fixture's teardown.
  v1::ContainerState State(const std::string& id) {
    auto status = client_->ContainerStatus(id);
    if (!status.ok()) {
      ADD_FAILURE() << status.status();
      return v1::CONTAINER_UNKNOWN;
    }
    return status->status().state();
  }

  v1::PodSandboxConfig pod_;
  v1::ContainerConfig config_;
};

TEST_F(AttachE2eTest, StdinEchoStdoutLiveTwoClientsAndDetach) {
  std::string id = Start("attach-cat", {"cat"}, /*in=*/true, /*once=*/false, /*tty=*/false);
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK_AND_ASSIGN(auto first, Attach(id, /*in=*/true, /*tty=*/false));
  E2E_ASSERT_OK(first->Send(kStdinChannel, "hello attach\n"));
  E2E_EXPECT_OK(ReadUntil(*first, "hello attach\n"));

  // A second client sees the same output, live.
  E2E_ASSERT_OK_AND_ASSIGN(auto second, Attach(id, /*in=*/false, /*tty=*/false));
  E2E_ASSERT_OK(first->Send(kStdinChannel, "to both\n"));
  E2E_EXPECT_OK(ReadUntil(*first, "to both\n"));
  E2E_EXPECT_OK(ReadUntil(*second, "to both\n"));

  // The first detaches (its stdin ends; without stdinOnce the container's stays open).
  E2E_EXPECT_OK(first->Close());
  first.reset();
  E2E_ASSERT_OK_AND_ASSIGN(auto third, Attach(id, /*in=*/true, /*tty=*/false));
  E2E_ASSERT_OK(third->Send(kStdinChannel, "still here\n"));
  E2E_EXPECT_OK(ReadUntil(*third, "still here\n"));
  E2E_EXPECT_OK(ReadUntil(*second, "still here\n"));
  EXPECT_EQ(State(id), v1::CONTAINER_RUNNING);

  // What went through attach is in the CRI log too (the shim writes its log
  // just after it hands the output to attached clients).
  E2E_EXPECT_OK(WaitForLog(" stdout F hello attach\n"));
  E2E_EXPECT_OK(WaitForLog(" stdout F still here\n"));
}

TEST_F(AttachE2eTest, TtyResizeAndInput) {
  std::string id = Start("attach-tty", {"sh"}, /*in=*/true, /*once=*/false, /*tty=*/true);
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK_AND_ASSIGN(auto client, Attach(id, /*in=*/true, /*tty=*/true));
  E2E_ASSERT_OK(client->SendResize(123, 45));
  E2E_ASSERT_OK(client->Send(kStdinChannel, "stty size; echo tty-$((6*7))\n"));
  // The typed line is echoed too; "45 123" and "tty-42" only come from running it.
  E2E_ASSERT_OK_AND_ASSIGN(std::string got, ReadUntil(*client, "tty-42"));
  EXPECT_TRUE(absl::StrContains(got, "45 123")) << got;
  E2E_ASSERT_OK(client->SendResize(80, 24));
  E2E_ASSERT_OK(client->Send(kStdinChannel, "stty size\n"));
  E2E_EXPECT_OK(ReadUntil(*client, "24 80"));
  E2E_EXPECT_OK(client->Close());
  EXPECT_EQ(State(id), v1::CONTAINER_RUNNING);
}

TEST_F(AttachE2eTest, StdinOnceCloseEndsTheContainerAndTheStream) {
  std::string id = Start("attach-once", {"sh", "-c", "cat; echo cat-done"}, /*in=*/true, /*once=*/true,
                         /*tty=*/false);
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK_AND_ASSIGN(auto client, Attach(id, /*in=*/true, /*tty=*/false));
  E2E_ASSERT_OK(client->Send(kStdinChannel, "once\n"));
  E2E_EXPECT_OK(ReadUntil(*client, "once\n"));
  E2E_ASSERT_OK(client->SendClose(kStdinChannel));
  E2E_ASSERT_OK_AND_ASSIGN(ExecOutcome rest, CollectExec(*client, absl::Seconds(20)));
  EXPECT_TRUE(absl::StrContains(rest.stdout_data, "cat-done")) << rest.stdout_data;
  EXPECT_EQ(rest.exit_code, 0) << rest.error;  // the attach ends with Success when the container exits
  int64_t deadline = MonotonicNanos() + 10 * int64_t{1000000000};
  while (State(id) == v1::CONTAINER_RUNNING && MonotonicNanos() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(State(id), v1::CONTAINER_EXITED);
}

TEST_F(AttachE2eTest, BadRequestsAreRefused) {
  std::string id = Start("attach-bad", {"sleep", "3600"}, /*in=*/false, /*once=*/false, /*tty=*/false);
  ASSERT_FALSE(id.empty());
  auto with_stdin = AttachUrl(id, /*in=*/true, /*tty=*/false);
  EXPECT_EQ(with_stdin.status().code(), absl::StatusCode::kInvalidArgument) << with_stdin.status();
  EXPECT_TRUE(absl::StrContains(with_stdin.status().message(), "stdin")) << with_stdin.status();
  auto with_tty = AttachUrl(id, /*in=*/false, /*tty=*/true);
  EXPECT_EQ(with_tty.status().code(), absl::StatusCode::kInvalidArgument) << with_tty.status();
  EXPECT_TRUE(absl::StrContains(with_tty.status().message(), "tty")) << with_tty.status();

  // A token is single-use.
  E2E_ASSERT_OK_AND_ASSIGN(std::string url, AttachUrl(id, false, false));
  E2E_ASSERT_OK_AND_ASSIGN(auto client, StreamClient::Connect(url, kProtocols));
  auto again = StreamClient::Connect(url, kProtocols);
  EXPECT_FALSE(again.ok());
  EXPECT_TRUE(absl::StrContains(again.status().message(), "404")) << again.status();
  client.reset();

  // A stopped container cannot be attached to.
  E2E_ASSERT_OK(client_->StopContainer(id, 0));
  auto stopped = AttachUrl(id, false, false);
  EXPECT_EQ(stopped.status().code(), absl::StatusCode::kFailedPrecondition) << stopped.status();
  EXPECT_TRUE(absl::StrContains(stopped.status().message(), "not running")) << stopped.status();
}

TEST_F(AttachE2eTest, SpdyStdinStdoutLiveAndDetach) {
  std::string id = Start("spdy-attach-cat", {"sh", "-c", "echo started; exec cat"}, /*in=*/true, /*once=*/false,
                         /*tty=*/false);
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK_AND_ASSIGN(auto first, SpdyAttach(id, /*in=*/true, /*tty=*/false));
  auto& [client, streams] = first;
  EXPECT_EQ(client->protocol(), "v4.channel.k8s.io");
  E2E_ASSERT_OK(client->Send(streams.id("stdin"), "hello spdy attach\n"));
  E2E_EXPECT_OK(SpdyReadUntil(*client, streams, "hello spdy attach\n"));
  // Live: what the container writes later reaches the attached client too.
  E2E_ASSERT_OK(client->Send(streams.id("stdin"), "second line\n"));
  E2E_EXPECT_OK(SpdyReadUntil(*client, streams, "second line\n"));

  // Leaving detaches: the container goes on, its stdin still open (no stdinOnce).
  client->Close();
  first.first.reset();
  E2E_ASSERT_OK_AND_ASSIGN(auto again, SpdyAttach(id, /*in=*/true, /*tty=*/false));
  E2E_ASSERT_OK(again.first->Send(again.second.id("stdin"), "after detach\n"));
  E2E_EXPECT_OK(SpdyReadUntil(*again.first, again.second, "after detach\n"));
  EXPECT_EQ(State(id), v1::CONTAINER_RUNNING);
  E2E_EXPECT_OK(WaitForLog(" stdout F hello spdy attach\n"));
  E2E_EXPECT_OK(WaitForLog(" stdout F after detach\n"));
}

TEST_F(AttachE2eTest, SpdyTtyResizeAndInput) {
  std::string id = Start("spdy-attach-tty", {"sh"}, /*in=*/true, /*once=*/false, /*tty=*/true);
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK_AND_ASSIGN(auto attached, SpdyAttach(id, /*in=*/true, /*tty=*/true));
  auto& [client, streams] = attached;
  ASSERT_NE(streams.id("resize"), 0u);
  E2E_ASSERT_OK(client->Send(streams.id("resize"), "{\"Width\":123,\"Height\":45}\n"));
  E2E_ASSERT_OK(client->Send(streams.id("stdin"), "stty size; echo tty-$((6*7))\n"));
  E2E_ASSERT_OK_AND_ASSIGN(std::string got, SpdyReadUntil(*client, streams, "tty-42"));
  EXPECT_TRUE(absl::StrContains(got, "45 123")) << got;
  E2E_ASSERT_OK(client->Send(streams.id("resize"), "{\"Width\":80,\"Height\":24}\n"));
  E2E_ASSERT_OK(client->Send(streams.id("stdin"), "stty size\n"));
  E2E_EXPECT_OK(SpdyReadUntil(*client, streams, "24 80"));
  client->Close();
  EXPECT_EQ(State(id), v1::CONTAINER_RUNNING);
}

TEST_F(AttachE2eTest, SpdyStdinFinWithStdinOnceEndsTheContainer) {
  std::string id = Start("spdy-attach-once", {"sh", "-c", "cat; echo cat-done"}, /*in=*/true, /*once=*/true,
                         /*tty=*/false);
  ASSERT_FALSE(id.empty());
  E2E_ASSERT_OK_AND_ASSIGN(auto attached, SpdyAttach(id, /*in=*/true, /*tty=*/false));
  auto& [client, streams] = attached;
  E2E_ASSERT_OK(client->Send(streams.id("stdin"), "once\n"));
  E2E_EXPECT_OK(SpdyReadUntil(*client, streams, "once\n"));
  E2E_ASSERT_OK(client->Send(streams.id("stdin"), "", /*fin=*/true));
  E2E_ASSERT_OK_AND_ASSIGN(ExecOutcome rest, CollectSpdyExec(*client, streams, absl::Seconds(20)));
  EXPECT_TRUE(absl::StrContains(rest.stdout_data, "cat-done")) << rest.stdout_data;
  EXPECT_EQ(rest.exit_code, 0) << rest.error;  // v4: Success on the error stream when the container exits
  int64_t deadline = MonotonicNanos() + 10 * int64_t{1000000000};
  while (State(id) == v1::CONTAINER_RUNNING && MonotonicNanos() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(State(id), v1::CONTAINER_EXITED);
}

}  // namespace
}  // namespace berth::e2e
