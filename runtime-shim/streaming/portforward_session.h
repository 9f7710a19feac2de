// PortForwardSession: the kubelet's WebSocket port-forward. For the i-th
// port of the URL's `port` parameters, channel 2i carries data and 2i+1
// errors; the first message on each is the port (2 bytes, little endian).
// Each port gets one TCP connection to the pod's loopback, opened at once
// (StreamingRuntime::DialPort); a port nobody listens on gets its error on
// its error channel while the other ports work. The WebSocket closes once
// every connection has ended.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime-shim/streaming/channel_session.h"
#include "runtime-shim/streaming/streaming_runtime.h"

namespace berth::streaming {

class PortForwardSession final : public ChannelSession {
 public:
  PortForwardSession(WebSocket ws, ChannelProtocol protocol, std::string sandbox_id,
                     std::vector<uint16_t> ports, StreamingRuntime* runtime);

 protected:
  void Begin() override;
  void OnFrame(ChannelFrame frame) override;
  void OnClientGone() override;

 private:
  struct Forward {
    uint16_t port = 0;
    std::unique_ptr<asio::ip::tcp::socket> conn;
    bool open = false;
    // [channel byte][data]: a binary frame sent without a copy.
    std::array<char, 1 + 256 * 1024> buffer;
  };
  void ReadPod(size_t index);
  void EndForward(size_t index, const std::string& error);
  void MaybeClose();

  std::string sandbox_id_;
  StreamingRuntime* runtime_;
  std::vector<std::unique_ptr<Forward>> forwards_;
  std::string pending_write_;
  bool dialing_ = false;
};

// What a port's error channel (or SPDY error stream) gets when forwarding
// to it fails: "error forwarding port 80 to pod <id>: <error>".
std::string PortForwardError(uint16_t port, const std::string& sandbox_id, absl::string_view error);

// The ports of a port-forward URL's query ("port=80&port=8080"): at least
// one, each 1..65535. InvalidArgument naming the bad value otherwise.
absl::StatusOr<std::vector<uint16_t>> ParsePortForwardPorts(absl::string_view query);

}  // namespace berth::streaming
