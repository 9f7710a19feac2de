// ChannelSession: one upgraded WebSocket speaking the Kubernetes channel
// framing (channel_codec.h), the base of the exec and port-forward sessions.
// Everything runs on the socket's strand: frames to the client are queued
// and written one at a time (a source waits for its frame to be written
// before reading more, which is the backpressure), frames from the client
// are read one at a time (the subclass asks for the next with ReadNext()
// once it has passed the last one on).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "absl/strings/string_view.h"
#include "runtime-shim/streaming/channel_codec.h"

namespace berth::streaming {

namespace asio = boost::asio;
namespace beast = boost::beast;
using WebSocket = beast::websocket::stream<beast::tcp_stream>;

class ChannelSession : public std::enable_shared_from_this<ChannelSession> {
 public:
  ChannelSession(WebSocket ws, ChannelProtocol protocol);
  virtual ~ChannelSession() = default;
  ChannelSession(const ChannelSession&) = delete;
  ChannelSession& operator=(const ChannelSession&) = delete;

  // After the handshake: Begin(), then the first read.
  void Run();

 protected:
  virtual void Begin() = 0;
  // One frame from the client; call ReadNext() when ready for the next.
  virtual void OnFrame(ChannelFrame frame) = 0;
  // The client closed or the connection broke (called once); also after
  // our own close completes.
  virtual void OnClientGone() = 0;

  void ReadNext();
  // Queues `data` on `channel`; `written` runs (on the strand) once it is
  // written, or at once when the client is gone.
  void Send(uint8_t channel, absl::string_view data, std::function<void()> written = nullptr);
  // Binary protocols only: `frame` (channel byte + data) is written as is,
  // without a copy; it must stay valid until `written` runs.
  void SendFrame(absl::string_view frame, std::function<void()> written);
  // A normal close once every queued frame is written.
  void CloseWhenSent();

  asio::any_io_executor executor() { return ws_.get_executor(); }
  const ChannelProtocol& protocol() const { return protocol_; }
  bool client_gone() const { return gone_; }

 private:
  struct Outgoing {
    std::string payload;
    absl::string_view borrowed;  // SendFrame: written instead of payload
    std::function<void()> written;
  };
  void WriteNext();
  void MarkGone();

  WebSocket ws_;
  ChannelProtocol protocol_;
  beast::flat_buffer read_buffer_;
  std::deque<Outgoing> queue_;
  bool reading_ = false;
  bool writing_ = false;
  bool close_requested_ = false;
  bool close_started_ = false;
  bool gone_ = false;
};

}  // namespace berth::streaming
