// berth-exec-bench: ExecSync latency and port-forward throughput.
//
//   berth-exec-bench [--runtime berth|containerd|both|loopback] [--count 300] [--mb 1024]
//
// For each runtime it starts a fresh one under a temporary root (the e2e
// harness, e2e/runtime_under_test.h: berth-agent, or containerd + runc via
// hack/containerd-up.sh), runs a host-network pod with a busybox `sleep`
// container, and measures ExecSync of `true` over one CRI client connection
// (10 warm-up calls, then --count) as p50/p99/max. With berth it also
// measures port-forward throughput through one WebSocket stream and through
// one SPDY/3.1 data stream on loopback (as kubectl's spdystream peer does it,
// without flow control, and with flow control and a 16 MiB window): a
// listener in this process (the pod shares the host network) writes --mb
// MiB into the forwarded connection and the client reads it off the stream.
// Prints one JSON object per runtime, then the berth/containerd p50 ratio.
// --runtime loopback measures only the port-forward transports: the
// streaming server in this process with a runtime whose pod is the host's
// loopback (no agent, no container), the same three streams.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <cstdio>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "common/time.h"
#include "e2e/cri_client.h"
#include "e2e/runtime_under_test.h"
#include "e2e/streaming/spdy_client.h"
#include "e2e/streaming/stream_client.h"
#include "runtime-shim/streaming/netns_dial.h"
#include "runtime-shim/streaming/streaming_server.h"
#include "nlohmann/json.hpp"

namespace berth {
namespace {

namespace v1 = ::runtime::v1;
using e2e::CriClient;
using e2e::RuntimeUnderTest;

struct Options {
  std::string runtime = "both";
  int count = 300;
  int mb = 1024;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Writes `bytes` to the first connection accepted on 127.0.0.1:<port>.
class Source {
 public:
  explicit Source(size_t bytes) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 4);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, bytes] {
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::vector<char> buf(1 << 20, 'x');
      size_t left = bytes;
      while (left > 0) {
        ssize_t n = write(c, buf.data(), std::min(left, buf.size()));
        if (n <= 0) break;
        left -= static_cast<size_t>(n);
      }
      close(c);
    });
  }
  ~Source() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

// A port-forward URL for the pod.
using ForwardUrl = std::function<absl::StatusOr<std::string>()>;

ForwardUrl CriForwardUrl(CriClient& client, const std::string& pod_id) {
  return [&client, pod_id]() -> absl::StatusOr<std::string> {
    v1::PortForwardRequest req;
    req.set_pod_sandbox_id(pod_id);
    v1::PortForwardResponse resp;
    grpc::ClientContext ctx;
    auto status = client.runtime().PortForward(&ctx, req, &resp);
    if (!status.ok()) return e2e::FromGrpcStatus(status, "PortForward");
    return resp.url();
  };
}

absl::StatusOr<double> PortForwardMBps(const ForwardUrl& forward_url, int mb) {
  size_t bytes = static_cast<size_t>(mb) << 20;
  Source source(bytes);
  ASSIGN_OR_RETURN(std::string url, forward_url());
  int64_t start = MonotonicNanos();
  ASSIGN_OR_RETURN(auto stream, e2e::StreamClient::Connect(absl::StrCat(url, "?port=", source.port()),
                                                           {"v4.channel.k8s.io"}));
  size_t got = 0;
  bool prefix_seen = false;
  while (got < bytes) {
    ASSIGN_OR_RETURN(auto frame, stream->ReadView(absl::Seconds(30)));
    if (frame.channel == 1 && frame.data.size() > 2) {
      return absl::InternalError(absl::StrCat("port-forward error: ", frame.data));
    }
    if (frame.channel != 0) continue;
    if (!prefix_seen) {
      prefix_seen = true;
      continue;
    }
    got += frame.data.size();
  }
  double seconds = (MonotonicNanos() - start) / 1e9;
  (void)stream->Close();
  return bytes / seconds / 1e6;
}

absl::StatusOr<double> SpdyPortForwardMBps(const ForwardUrl& forward_url, int mb, bool flow_control) {
  size_t bytes = static_cast<size_t>(mb) << 20;
  Source source(bytes);
  ASSIGN_OR_RETURN(std::string url, forward_url());
  int64_t start = MonotonicNanos();
  e2e::SpdyClientOptions options;
  options.flow_control = flow_control;
  options.receive_window = 16 << 20;
  ASSIGN_OR_RETURN(auto spdy, e2e::SpdyClient::Connect(url, {"portforward.k8s.io"}, options));
  ASSIGN_OR_RETURN(auto forward, e2e::OpenSpdyForward(*spdy, source.port(), "0"));
  size_t got = 0;
  while (got < bytes) {
    ASSIGN_OR_RETURN(auto frame, spdy->Next(absl::Seconds(30)));
    if (frame.type != streaming::SpdyFrameType::kData) continue;
    if (frame.stream_id == forward.error && !frame.data.empty()) {
      return absl::InternalError(absl::StrCat("port-forward error: ", frame.data));
    }
    if (frame.stream_id == forward.data) got += frame.data.size();
  }
  double seconds = (MonotonicNanos() - start) / 1e9;
  spdy->Close();
  return bytes / seconds / 1e6;
}

// Port-forward through one stream each: WebSocket, SPDY as kubectl
// (no flow control), SPDY with flow control and a 16 MiB window.
absl::Status MeasurePortForward(const ForwardUrl& forward_url, int mb, nlohmann::json& out) {
  ASSIGN_OR_RETURN(double mbps, PortForwardMBps(forward_url, mb));
  out["portforward_mb"] = mb;
  out["portforward_MBps"] = mbps;
  ASSIGN_OR_RETURN(double spdy, SpdyPortForwardMBps(forward_url, mb, /*flow_control=*/false));
  out["portforward_spdy_MBps"] = spdy;
  ASSIGN_OR_RETURN(double spdy_fc, SpdyPortForwardMBps(forward_url, mb, /*flow_control=*/true));
  out["portforward_spdy_flow_control_MBps"] = spdy_fc;
  return absl::OkStatus();
}

// The streaming server alone: its pod is this host's loopback.
class LoopbackRuntime : public streaming::StreamingRuntime {
 public:
  absl::StatusOr<streaming::ExecProcess> StartExec(const std::string& container_id, const std::vector<std::string>&,
                                                   bool, int, int, int) override {
    return absl::UnimplementedError(absl::StrCat("exec in ", container_id, ": the loopback bench runs no containers"));
  }
  absl::StatusOr<int> DialPort(const std::string&, uint16_t port) override {
    return streaming::DialLoopbackInNetns("", port);
  }
};

absl::StatusOr<nlohmann::json> MeasureLoopback(const Options& options) {
  LoopbackRuntime runtime;
  ASSIGN_OR_RETURN(auto server, streaming::StreamingServer::Start({}, &runtime));
  ForwardUrl url = [&server]() -> absl::StatusOr<std::string> {
    v1::PortForwardRequest req;
    req.set_pod_sandbox_id("loopback");
    v1::PortForwardResponse resp;
    RETURN_IF_ERROR(server->GetPortForward(req, &resp));
    return resp.url();
  };
  nlohmann::json out = {{"runtime", "loopback"}};
  RETURN_IF_ERROR(MeasurePortForward(url, options.mb, out));
  return out;
}

absl::StatusOr<nlohmann::json> Measure(const std::string& name, const std::string& images, const Options& options) {
  setenv("BERTH_E2E_RUNTIME", name.c_str(), 1);
  auto runtime = RuntimeUnderTest::FromEnv();
  auto result = [&]() -> absl::StatusOr<nlohmann::json> {
    RETURN_IF_ERROR(runtime->Start({images + "/busybox.tar", images + "/pause.tar"}));
    CriClient client(runtime->endpoint());
    RETURN_IF_ERROR(client.WaitForReady(absl::Seconds(30)));
    v1::PodSandboxConfig pod = e2e::MinimalPodSandboxConfig("exec-bench", absl::StrCat("exec-bench-", getpid()));
    pod.set_log_directory(runtime->root() + "/logs/exec-bench");
    pod.mutable_linux()->set_cgroup_parent(runtime->cgroup_parent() + "/podexecbench");
    pod.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::NODE);
    pod.clear_hostname();  // a host-network pod keeps the node's (runc refuses to set it)
    ASSIGN_OR_RETURN(std::string pod_id, client.RunPodSandbox(pod));
    auto container = e2e::MinimalContainerConfig("sleeper", "docker.io/library/busybox:latest", {"sleep", "3600"});
    ASSIGN_OR_RETURN(std::string id, client.CreateContainer(pod_id, container, pod));
    RETURN_IF_ERROR(client.StartContainer(id));
    for (int i = 0; i < 10; ++i) RETURN_IF_ERROR(client.ExecSync(id, {"true"}, 10).status());
    std::vector<double> ms;
    for (int i = 0; i < options.count; ++i) {
      int64_t start = MonotonicNanos();
      ASSIGN_OR_RETURN(auto resp, client.ExecSync(id, {"true"}, 10));
      ms.push_back((MonotonicNanos() - start) / 1e6);
      if (resp.exit_code() != 0) return absl::InternalError(absl::StrCat("true exited ", resp.exit_code()));
    }
    nlohmann::json out = {{"runtime", name},
                          {"execsync_true_count", options.count},
                          {"execsync_p50_ms", Percentile(ms, 0.5)},
                          {"execsync_p99_ms", Percentile(ms, 0.99)},
                          {"execsync_max_ms", Percentile(ms, 1.0)}};
    if (name == "berth") RETURN_IF_ERROR(MeasurePortForward(CriForwardUrl(client, pod_id), options.mb, out));
    (void)client.StopContainer(id, 0);
    (void)client.RemoveContainer(id);
    (void)client.StopPodSandbox(pod_id);
    (void)client.RemovePodSandbox(pod_id);
    return out;
  }();
  absl::Status stopped = runtime->Stop();
  if (result.ok() && !stopped.ok()) return stopped;
  return result;
}

int Main(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--runtime") {
      options.runtime = value;
    } else if (flag == "--count" && absl::SimpleAtoi(value, &options.count) && options.count > 0) {
    } else if (flag == "--mb" && absl::SimpleAtoi(value, &options.mb) && options.mb > 0) {
    } else {
      std::fprintf(stderr, "usage: berth-exec-bench [--runtime berth|containerd|both|loopback] [--count N] [--mb N]\n"
                           "bad flag or value: %s %s\n", flag.c_str(), value.c_str());
      return 2;
    }
  }
  if (options.runtime == "loopback") {
    auto result = MeasureLoopback(options);
    if (!result.ok()) {
      std::fprintf(stderr, "loopback: %s\n", result.status().ToString().c_str());
      return 1;
    }
    std::printf("%s\n", result->dump().c_str());
    return 0;
  }
  char pattern[] = "/tmp/berth-exec-bench-XXXXXX";
  if (!mkdtemp(pattern)) return 1;
  std::string images = pattern;
  auto built = e2e::RunCommand({e2e::SourceDir() + "/hack/build-busybox-image.sh", images}, absl::Seconds(120));
  if (!built.ok()) {
    std::fprintf(stderr, "building images: %s\n", built.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> runtimes;
  if (options.runtime == "both" || options.runtime == "berth") runtimes.push_back("berth");
  if (options.runtime == "both" || options.runtime == "containerd") runtimes.push_back("containerd");
  std::map<std::string, double> p50;
  int rc = 0;
  for (const auto& name : runtimes) {
    auto result = Measure(name, images, options);
    if (!result.ok()) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), result.status().ToString().c_str());
      rc = 1;
      continue;
    }
    p50[name] = (*result)["execsync_p50_ms"].get<double>();
    std::printf("%s\n", result->dump().c_str());
    std::fflush(stdout);
  }
  if (p50.count("berth") && p50.count("containerd") && p50["berth"] > 0) {
    std::printf("{\"execsync_p50_containerd_over_berth\":%.2f}\n", p50["containerd"] / p50["berth"]);
  }
  (void)RemoveAll(images);
  return rc;
}

}  // namespace
}  // namespace berth

int main(int argc, char** argv) { return berth::Main(argc, argv); }
