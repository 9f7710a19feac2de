// ChannelTransport: how a remotecommand session (exec, attach) or the
// WebSocket port-forward reaches its client, whatever carries the channels:
// one WebSocket with channel-prefixed messages (websocket_transport.h) or
// one SPDY/3.1 connection with a stream per channel
// (spdy_channel_transport.h). The session sees numbered channels (stdin 0,
// stdout 1, stderr 2, error 3, resize 4, close 255: channel_codec.h) and
// never the wire.
//
// Everything runs on the transport's executor (the connection's strand).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio.hpp>

#include "absl/strings/string_view.h"
#include "runtime-shim/streaming/channel_codec.h"

namespace berth::streaming {

// What the transport calls on its session.
class ChannelHandler {
 public:
  virtual ~ChannelHandler() = default;
  // The client's streams are ready: the session may start sending.
  virtual void Begin() = 0;
  // One frame from the client; the session calls ReadNext() for the next.
  // A client's end of stdin arrives as a close frame for channel 0.
  virtual void OnFrame(ChannelFrame frame) = 0;
  // The client closed or the connection broke (once); also after our own
  // close completes.
  virtual void OnClientGone() = 0;
};

class ChannelTransport {
 public:
  virtual ~ChannelTransport() = default;

  // Starts serving `handler`; every operation in flight holds `owner` (the
  // object that owns both the handler and this transport).
  virtual void Start(ChannelHandler* handler, std::shared_ptr<void> owner) = 0;

  // Asks for the next client frame (one is delivered at a time).
  virtual void ReadNext() = 0;
  // Queues `data` on `channel`; `written` runs on the executor once it is
  // written, or soon when the client is gone.
  virtual void Send(uint8_t channel, absl::string_view data, std::function<void()> written) = 0;
  // `frame` is the channel byte then the data, and stays valid until
  // `written` runs: sent without a copy where the wire allows.
  virtual void SendFrame(absl::string_view frame, std::function<void()> written) = 0;
  // Ends the session once everything queued is written.
  virtual void CloseWhenSent() = 0;

  virtual boost::asio::any_io_executor executor() = 0;
  // The negotiated protocol: `version` orders the remotecommand features
  // (error channel Status JSON from 4 on).
  virtual const ChannelProtocol& protocol() const = 0;
  virtual bool client_gone() const = 0;
};

}  // namespace berth::streaming
