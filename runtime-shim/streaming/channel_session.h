// ChannelSession: the base of the remotecommand and port-forward sessions,
// over any ChannelTransport (channel_transport.h): a WebSocket
// (websocket_transport.h) or SPDY/3.1 streams (spdy_channel_transport.h).
// Subclasses implement Begin / OnFrame / OnClientGone and use the helpers
// below; all of it runs on the transport's executor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "runtime-shim/streaming/channel_codec.h"
#include "runtime-shim/streaming/channel_transport.h"
#include "runtime-shim/streaming/websocket_transport.h"

namespace berth::streaming {

class ChannelSession : public ChannelHandler, public std::enable_shared_from_this<ChannelSession> {
 public:
  // Over an upgraded WebSocket speaking `protocol`.
  ChannelSession(WebSocket ws, ChannelProtocol protocol);
  explicit ChannelSession(std::unique_ptr<ChannelTransport> transport);
  ~ChannelSession() override = default;
  ChannelSession(const ChannelSession&) = delete;
  ChannelSession& operator=(const ChannelSession&) = delete;

  // After the handshake: the transport calls Begin() once the client is
  // ready, then delivers frames.
  void Run();

 protected:
  void ReadNext() { transport_->ReadNext(); }
  // Queues `data` on `channel`; `written` runs (on the executor) once it is
  // written, or at once when the client is gone.
  void Send(uint8_t channel, absl::string_view data, std::function<void()> written = nullptr) {
    transport_->Send(channel, data, std::move(written));
  }
  // `frame` (channel byte + data) is written without a copy where the wire
  // allows; it must stay valid until `written` runs.
  void SendFrame(absl::string_view frame, std::function<void()> written) {
    transport_->SendFrame(frame, std::move(written));
  }
  // A normal close once every queued frame is written.
  void CloseWhenSent() { transport_->CloseWhenSent(); }

  asio::any_io_executor executor() { return transport_->executor(); }
  const ChannelProtocol& protocol() const { return transport_->protocol(); }
  bool client_gone() const { return transport_->client_gone(); }

 private:
  std::unique_ptr<ChannelTransport> transport_;
};

}  // namespace berth::streaming
