#include "runtime-shim/streaming/websocket_transport.h"

#include "common/logging.h"

namespace berth::streaming {

WebSocketTransport::WebSocketTransport(WebSocket ws, ChannelProtocol protocol)
    : ws_(std::move(ws)), protocol_(protocol) {}

void WebSocketTransport::Start(ChannelHandler* handler, std::shared_ptr<void> owner) {
  handler_ = handler;
  owner_ = owner;
  if (protocol_.encoding == ChannelEncoding::kBinary) {
    ws_.binary(true);
  } else {
    ws_.text(true);
  }
  // One WebSocket frame per message: no 4 KiB fragments.
  ws_.auto_fragment(false);
  handler_->Begin();
  ReadNext();
}

void WebSocketTransport::ReadNext() {
  if (gone_ || reading_) return;
  reading_ = true;
  read_buffer_.clear();
  ws_.async_read(read_buffer_, [this, keep = owner_.lock()](beast::error_code ec, size_t) {
    reading_ = false;
    if (ec) {
      MarkGone();
      return;
    }
    // The message lies in one piece in the flat buffer: decoded from there (one copy, not two).
    auto data = read_buffer_.data();
    auto frame = DecodeChannelFrame(protocol_.encoding,
                                    absl::string_view(static_cast<const char*>(data.data()), data.size()));
    if (!frame.ok()) {
      BERTH_LOG(Warning) << "streaming: dropped a bad message" << Kv("error", frame.status().ToString());
      ReadNext();
      return;
    }
    if (frame->channel == kCloseChannel && protocol_.version < 5) {
      ReadNext();  // no close message before v5
      return;
    }
    handler_->OnFrame(std::move(*frame));
  });
}

void WebSocketTransport::Send(uint8_t channel, absl::string_view data, std::function<void()> written) {
  Queue({EncodeChannelFrame(protocol_.encoding, channel, data), {}, std::move(written)});
}

void WebSocketTransport::SendFrame(absl::string_view frame, std::function<void()> written) {
  if (protocol_.encoding != ChannelEncoding::kBinary) {
    return Send(static_cast<uint8_t>(frame[0]), frame.substr(1), std::move(written));
  }
  Queue({std::string(), frame, std::move(written)});
}

void WebSocketTransport::Queue(Outgoing out) {
  if (gone_ || close_started_) {
    if (out.written) asio::post(executor(), std::move(out.written));
    return;
  }
  queue_.push_back(std::move(out));
  WriteNext();
}

void WebSocketTransport::WriteNext() {
  // One write at a time: a `written` callback that queues again has already
  // started the next write by the time its write's handler calls this.
  if (writing_) return;
  if (queue_.empty() || gone_) {
    writing_ = false;
    if (close_requested_ && !close_started_ && !gone_) {
      close_started_ = true;
      ws_.async_close(beast::websocket::close_code::normal, [keep = owner_.lock()](beast::error_code) {});
    }
    return;
  }
  writing_ = true;
  const Outgoing& out = queue_.front();
  auto buffer = out.borrowed.empty() ? asio::buffer(out.payload) : asio::buffer(out.borrowed.data(), out.borrowed.size());
  ws_.async_write(buffer, [this, keep = owner_.lock()](beast::error_code ec, size_t) {
    auto written = std::move(queue_.front().written);
    queue_.pop_front();
    writing_ = false;
    if (ec) MarkGone();
    if (written) written();
    WriteNext();
  });
}

void WebSocketTransport::CloseWhenSent() {
  if (close_requested_) return;
  close_requested_ = true;
  WriteNext();
}

void WebSocketTransport::MarkGone() {
  if (gone_) return;
  gone_ = true;
  // Sources waiting for their frames go on (and find the client gone).
  std::deque<Outgoing> pending;
  pending.swap(queue_);
  if (writing_ && !pending.empty()) {
    // The frame being written completes through its own handler.
    queue_.push_back(std::move(pending.front()));
    pending.pop_front();
  }
  for (auto& out : pending) {
    if (out.written) asio::post(executor(), std::move(out.written));
  }
  handler_->OnClientGone();
}

}  // namespace berth::streaming
