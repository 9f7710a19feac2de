// SpdyChannelTransport: remotecommand (exec, attach) over SPDY/3.1, as
// kubectl and the API server speak it to the kubelet. The client opens one
// stream per channel, named by its `streamtype` header: error, stdin,
// stdout, stderr, resize. The session begins once every stream the request
// implies has arrived (error always; stdin, stdout, stderr as requested;
// resize with a tty from v3 on); a client that has not opened them within
// the creation timeout is disconnected.
//
// Channel mapping: Send(1, ...) is DATA on the stdout stream, and so on;
// stdin DATA arrives as channel 0 frames, the stdin stream's FIN as a close
// frame for channel 0, and the resize stream's JSON objects
// ({"Width":..,"Height":..}, one per line) as channel 4 frames.
// CloseWhenSent ends every stream with FIN after its data, then the
// connection with GOAWAY.
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "runtime-shim/streaming/channel_transport.h"
#include "runtime-shim/streaming/spdy_connection.h"

namespace berth::streaming {

// The streams a remotecommand request implies.
struct SpdyExpectedStreams {
  bool stdin = false;
  bool stdout = false;
  bool stderr = false;
  bool tty = false;
};

class SpdyChannelTransport final : public ChannelTransport, public SpdyConnectionHandler {
 public:
  SpdyChannelTransport(std::shared_ptr<SpdyConnection> connection, ChannelProtocol protocol,
                       SpdyExpectedStreams expected, absl::Duration creation_timeout = absl::Seconds(30));

  // ChannelTransport
  void Start(ChannelHandler* handler, std::shared_ptr<void> owner) override;
  void ReadNext() override;
  void Send(uint8_t channel, absl::string_view data, std::function<void()> written) override;
  void SendFrame(absl::string_view frame, std::function<void()> written) override;
  void CloseWhenSent() override;
  boost::asio::any_io_executor executor() override { return connection_->executor(); }
  const ChannelProtocol& protocol() const override { return protocol_; }
  bool client_gone() const override { return connection_->closed(); }

  // SpdyConnectionHandler
  void OnStream(std::shared_ptr<SpdyStream> stream) override;
  void OnConnectionClosed() override;

 private:
  struct Incoming {
    ChannelFrame frame;
    size_t consumed = 0;  // stdin bytes to give back once the session took it
  };
  bool AllStreamsReady() const;
  void Deliver();

  std::shared_ptr<SpdyConnection> connection_;
  ChannelProtocol protocol_;
  SpdyExpectedStreams expected_;
  absl::Duration creation_timeout_;
  ChannelHandler* handler_ = nullptr;
  std::weak_ptr<void> owner_;
  std::array<std::shared_ptr<SpdyStream>, 5> streams_;  // by channel: stdin .. resize
  std::unique_ptr<boost::asio::steady_timer> creation_timer_;
  std::deque<Incoming> incoming_;
  std::string resize_partial_;
  bool began_ = false;
  bool want_read_ = false;
  bool delivering_ = false;
};

}  // namespace berth::streaming
