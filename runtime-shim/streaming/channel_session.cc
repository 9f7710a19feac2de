#include "runtime-shim/streaming/channel_session.h"

#include "common/logging.h"

namespace berth::streaming {

ChannelSession::ChannelSession(WebSocket ws, ChannelProtocol protocol)
    : ws_(std::move(ws)), protocol_(protocol) {}

void ChannelSession::Run() {
  if (protocol_.encoding == ChannelEncoding::kBinary) {
    ws_.binary(true);
  } else {
    ws_.text(true);
  }
  // One WebSocket frame per message: no 4 KiB fragments.
  ws_.auto_fragment(false);
  Begin();
  ReadNext();
}

void ChannelSession::ReadNext() {
  if (gone_ || reading_) return;
  reading_ = true;
  read_buffer_.clear();
  ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
    self->reading_ = false;
    if (ec) {
      self->MarkGone();
      return;
    }
    auto frame = DecodeChannelFrame(self->protocol_.encoding, beast::buffers_to_string(self->read_buffer_.data()));
    if (!frame.ok()) {
      BERTH_LOG(Warning) << "streaming: dropped a bad message" << Kv("error", frame.status().ToString());
      self->ReadNext();
      return;
    }
    self->OnFrame(std::move(*frame));
  });
}

void ChannelSession::Send(uint8_t channel, absl::string_view data, std::function<void()> written) {
  if (gone_ || close_started_) {
    if (written) asio::post(executor(), std::move(written));
    return;
  }
  queue_.push_back({EncodeChannelFrame(protocol_.encoding, channel, data), {}, std::move(written)});
  if (!writing_) WriteNext();
}

void ChannelSession::SendFrame(absl::string_view frame, std::function<void()> written) {
  if (gone_ || close_started_) {
    if (written) asio::post(executor(), std::move(written));
    return;
  }
  queue_.push_back({std::string(), frame, std::move(written)});
  if (!writing_) WriteNext();
}

void ChannelSession::WriteNext() {
  if (queue_.empty() || gone_) {
    writing_ = false;
    if (close_requested_ && !close_started_ && !gone_) {
      close_started_ = true;
      ws_.async_close(beast::websocket::close_code::normal,
                      [self = shared_from_this()](beast::error_code) {});
    }
    return;
  }
  writing_ = true;
  const Outgoing& out = queue_.front();
  auto buffer = out.borrowed.empty() ? asio::buffer(out.payload) : asio::buffer(out.borrowed.data(), out.borrowed.size());
  ws_.async_write(buffer,
                  [self = shared_from_this()](beast::error_code ec, size_t) {
                    auto written = std::move(self->queue_.front().written);
                    self->queue_.pop_front();
                    self->writing_ = false;
                    if (ec) self->MarkGone();
                    if (written) written();
                    self->WriteNext();
                  });
}

void ChannelSession::CloseWhenSent() {
  if (close_requested_) return;
  close_requested_ = true;
  if (!writing_) WriteNext();
}

void ChannelSession::MarkGone() {
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
  OnClientGone();
}

}  // namespace berth::streaming
