// SpdyConnection: the server end of one SPDY/3.1 connection on an upgraded
// socket, on that socket's strand. The client opens streams (SYN_STREAM);
// each is answered with an empty SYN_REPLY and handed to the handler, which
// reads the client's data from it and writes its own. PING is echoed,
// SETTINGS and WINDOW_UPDATE feed the flow control, GOAWAY and a broken
// socket end the connection.
//
// Flow control (both directions, per stream and, as 3.1 adds, per
// connection; 64 KiB windows): data from the client is handed over as it
// arrives and counted against the windows until the receiver calls
// Consumed(), which sends WINDOW_UPDATEs once half a window is used and
// lets the socket be read again (reading pauses while more than 1 MiB is
// unconsumed). Data to the client is held to the client's windows once the
// client has shown it does flow control (it sent a WINDOW_UPDATE or an
// initial window SETTING): the moby/spdystream peer of kubectl and the
// kubelet ignores WINDOW_UPDATEs and never sends them, so holding such a
// peer to 64 KiB would stall it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>

#include "absl/strings/string_view.h"
#include "runtime-shim/streaming/spdy_frame.h"

namespace berth::streaming {

class SpdyConnection;

class SpdyStream {
 public:
  uint32_t id() const { return id_; }
  const SpdyHeaders& headers() const { return headers_; }
  std::string header(absl::string_view name) const { return SpdyHeaderValue(headers_, name); }

  // The client's data: `on_data` gets each DATA payload as it arrives (data
  // that came before this call first); the receiver calls Consumed(n) when
  // done with n bytes. `on_end` runs once, when the client half-closes
  // (FIN), resets the stream, or the connection ends.
  void SetReceiver(std::function<void(std::string)> on_data, std::function<void()> on_end);
  void Consumed(size_t bytes);

  // Queues `data` (which must stay valid until `written` runs); `written`
  // runs on the strand once it is on the wire, or soon when the stream or
  // connection is gone. Write copies `data` first.
  void WriteBorrowed(absl::string_view data, std::function<void()> written);
  void Write(std::string data, std::function<void()> written = nullptr);
  // FIN after what is queued.
  void CloseSend();
  // RST_STREAM now, queued data dropped.
  void Reset(SpdyRstStatus status);

  bool send_closed() const { return fin_queued_ || reset_; }
  bool remote_closed() const { return remote_fin_ || reset_; }

 private:
  friend class SpdyConnection;
  struct Pending {
    std::string owned;
    absl::string_view data;  // into owned, or borrowed
    size_t offset = 0;
    bool fin = false;
    std::function<void()> written;
  };
  SpdyStream(SpdyConnection* connection, uint32_t id, SpdyHeaders headers, int64_t send_window)
      : connection_(connection), id_(id), headers_(std::move(headers)), send_window_(send_window) {}
  void Deliver(std::string data);
  void End();
  // Drops queued data (the frame being written stays until its write ends).
  void DropPending();

  SpdyConnection* connection_;
  uint32_t id_;
  SpdyHeaders headers_;
  std::function<void(std::string)> on_data_;
  std::function<void()> on_end_;
  std::deque<std::string> early_data_;
  std::deque<Pending> pending_;
  int64_t send_window_;
  size_t unacknowledged_ = 0;  // consumed, not yet given back by WINDOW_UPDATE
  bool remote_fin_ = false;
  bool fin_queued_ = false;
  bool fin_sent_ = false;
  bool reset_ = false;
  bool ended_ = false;
  bool active_ = false;     // in the connection's writer round
  bool in_flight_ = false;  // pending_.front() is being written
};

class SpdyConnectionHandler {
 public:
  virtual ~SpdyConnectionHandler() = default;
  // A stream the client opened; already answered with SYN_REPLY.
  virtual void OnStream(std::shared_ptr<SpdyStream> stream) = 0;
  // The connection is over (client gone, broken, or our close done). Once.
  virtual void OnConnectionClosed() = 0;
};

class SpdyConnection : public std::enable_shared_from_this<SpdyConnection> {
 public:
  // `initial_bytes`: what was read past the HTTP upgrade request. The
  // handler must outlive the connection's end (OnConnectionClosed);
  // `keep_alive` (its owner) is held until then.
  SpdyConnection(boost::beast::tcp_stream stream, std::string initial_bytes);
  ~SpdyConnection();

  void Start(SpdyConnectionHandler* handler, std::shared_ptr<void> keep_alive);

  // FIN on every stream after its queued data, then GOAWAY and close.
  void CloseWhenSent();
  // Closes the socket now.
  void Abort();

  boost::asio::any_io_executor executor() { return stream_.get_executor(); }
  bool closed() const { return closed_; }

 private:
  friend class SpdyStream;
  void Read();
  void OnFrame(SpdyFrame frame);
  void OnSynStream(SpdyFrame& frame);
  void OnData(SpdyFrame& frame);
  void QueueControl(std::string frame);
  void Activate(SpdyStream* stream);
  void Consumed(SpdyStream* stream, size_t bytes);
  void WriteNext();
  void MaybeFinishClose();
  void Fail(const std::string& why);
  void Finish();
  bool CanSend(const SpdyStream& s) const;

  boost::beast::tcp_stream stream_;
  SpdyFrameReader reader_;
  SpdyHeaderCompressor compressor_;
  SpdyConnectionHandler* handler_ = nullptr;
  std::shared_ptr<void> keep_alive_;
  std::vector<char> read_buffer_;
  std::map<uint32_t, std::shared_ptr<SpdyStream>> streams_;
  std::deque<std::string> control_;
  std::deque<uint32_t> active_;  // streams with queued data, round robin
  std::string write_header_;
  std::string write_control_;
  uint32_t last_stream_id_ = 0;
  int64_t session_send_window_ = kSpdyInitialWindow;
  int64_t initial_send_window_ = kSpdyInitialWindow;
  size_t session_unacknowledged_ = 0;
  size_t unconsumed_ = 0;
  bool peer_flow_control_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool goaway_sent_ = false;
  bool closed_ = false;
};

}  // namespace berth::streaming
