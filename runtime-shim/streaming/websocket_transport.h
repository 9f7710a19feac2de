// WebSocketTransport: the channels of one upgraded WebSocket, each message
// a channel byte (or digit, base64) then the data (channel_codec.h). Frames
// to the client are queued and written one at a time (a source waits for
// its frame to be written before reading more: backpressure); frames from
// the client are read one at a time. The v5 close message is passed on only
// for v5 (before v5 channel 255 means nothing).
#pragma once

#include <deque>
#include <memory>
#include <string>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "runtime-shim/streaming/channel_transport.h"

namespace berth::streaming {

namespace asio = boost::asio;
namespace beast = boost::beast;
using WebSocket = beast::websocket::stream<beast::tcp_stream>;

class WebSocketTransport final : public ChannelTransport {
 public:
  WebSocketTransport(WebSocket ws, ChannelProtocol protocol);

  void Start(ChannelHandler* handler, std::shared_ptr<void> owner) override;
  void ReadNext() override;
  void Send(uint8_t channel, absl::string_view data, std::function<void()> written) override;
  void SendFrame(absl::string_view frame, std::function<void()> written) override;
  void CloseWhenSent() override;
  asio::any_io_executor executor() override { return ws_.get_executor(); }
  const ChannelProtocol& protocol() const override { return protocol_; }
  bool client_gone() const override { return gone_; }

 private:
  struct Outgoing {
    std::string payload;
    absl::string_view borrowed;  // SendFrame: written instead of payload
    std::function<void()> written;
  };
  void Queue(Outgoing out);
  void WriteNext();
  void MarkGone();

  WebSocket ws_;
  ChannelProtocol protocol_;
  ChannelHandler* handler_ = nullptr;
  std::weak_ptr<void> owner_;
  beast::flat_buffer read_buffer_;
  std::deque<Outgoing> queue_;
  bool reading_ = false;
  bool writing_ = false;
  bool close_requested_ = false;
  bool close_started_ = false;
  bool gone_ = false;
};

}  // namespace berth::streaming
