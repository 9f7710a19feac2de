#include "runtime-shim/streaming/spdy_connection.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace berth::streaming {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

constexpr size_t kReadChunk = 256 * 1024;
// Reading pauses while this much of the client's data is unconsumed.
constexpr size_t kMaxUnconsumed = 1 << 20;
// Largest DATA frame written (the format allows 16 MiB).
constexpr size_t kMaxDataFrame = 1 << 20;
// How long a closing connection waits for the client to close its side.
constexpr auto kLingerAfterGoAway = std::chrono::seconds(10);

}  // namespace

// --- SpdyStream ---

void SpdyStream::SetReceiver(std::function<void(std::string)> on_data, std::function<void()> on_end) {
  on_data_ = std::move(on_data);
  on_end_ = std::move(on_end);
  while (!early_data_.empty() && on_data_) {
    std::string data = std::move(early_data_.front());
    early_data_.pop_front();
    on_data_(std::move(data));
  }
  if (ended_ && on_end_) {
    auto end = std::move(on_end_);
    on_end_ = nullptr;
    end();
  }
}

void SpdyStream::Deliver(std::string data) {
  if (on_data_) {
    on_data_(std::move(data));
  } else {
    early_data_.push_back(std::move(data));
  }
}

void SpdyStream::End() {
  if (ended_) return;
  ended_ = true;
  if (on_end_) {
    auto end = std::move(on_end_);
    on_end_ = nullptr;
    end();
  }
}

void SpdyStream::Consumed(size_t bytes) { connection_->Consumed(this, bytes); }

void SpdyStream::WriteBorrowed(absl::string_view data, std::function<void()> written) {
  if (send_closed() || connection_->closed_ || connection_->closing_) {
    if (written) asio::post(connection_->executor(), std::move(written));
    return;
  }
  if (data.empty()) {
    if (written) asio::post(connection_->executor(), std::move(written));
    return;
  }
  pending_.push_back({std::string(), data, 0, false, std::move(written)});
  connection_->Activate(this);
}

void SpdyStream::Write(std::string data, std::function<void()> written) {
  if (send_closed() || connection_->closed_ || connection_->closing_ || data.empty()) {
    if (written) asio::post(connection_->executor(), std::move(written));
    return;
  }
  Pending p;
  p.owned = std::move(data);
  p.data = p.owned;
  p.written = std::move(written);
  pending_.push_back(std::move(p));
  // The view must follow the string into the deque (small strings live inline).
  pending_.back().data = pending_.back().owned;
  connection_->Activate(this);
}

void SpdyStream::CloseSend() {
  if (send_closed() || connection_->closed_) return;
  fin_queued_ = true;
  pending_.push_back({std::string(), absl::string_view(), 0, true, nullptr});
  connection_->Activate(this);
}

void SpdyStream::DropPending() {
  size_t keep = in_flight_ ? 1 : 0;
  for (size_t i = keep; i < pending_.size(); ++i) {
    if (pending_[i].written) asio::post(connection_->executor(), std::move(pending_[i].written));
  }
  pending_.resize(std::min(pending_.size(), keep));
}

void SpdyStream::Reset(SpdyRstStatus status) {
  if (reset_ || connection_->closed_) return;
  reset_ = true;
  DropPending();
  connection_->QueueControl(EncodeSpdyRstStream(id_, status));
  connection_->streams_.erase(id_);
  End();
}

// --- SpdyConnection ---

SpdyConnection::SpdyConnection(beast::tcp_stream stream, std::string initial_bytes) : stream_(std::move(stream)) {
  if (!initial_bytes.empty()) reader_.Append(initial_bytes);
}

SpdyConnection::~SpdyConnection() = default;

void SpdyConnection::Start(SpdyConnectionHandler* handler, std::shared_ptr<void> keep_alive) {
  handler_ = handler;
  keep_alive_ = std::move(keep_alive);
  read_buffer_.resize(kReadChunk);
  stream_.expires_never();
  // Frames that came with the upgrade request.
  for (;;) {
    auto frame = reader_.Next();
    if (!frame.ok()) return Fail(std::string(frame.status().message()));
    if (!frame->has_value()) break;
    OnFrame(std::move(**frame));
  }
  Read();
}

void SpdyConnection::Read() {
  if (closed_ || reading_ || unconsumed_ > kMaxUnconsumed) return;
  reading_ = true;
  stream_.async_read_some(asio::buffer(read_buffer_), [self = shared_from_this()](beast::error_code ec, size_t n) {
    self->reading_ = false;
    if (self->closed_) return;
    if (ec) return self->Finish();
    if (self->goaway_sent_) {
      // Waiting for the client to hang up after our GOAWAY: ignore what it sends.
      return self->Read();
    }
    self->reader_.Append(absl::string_view(self->read_buffer_.data(), n));
    for (;;) {
      auto frame = self->reader_.Next();
      if (!frame.ok()) return self->Fail(std::string(frame.status().message()));
      if (!frame->has_value()) break;
      self->OnFrame(std::move(**frame));
      if (self->closed_) return;
    }
    self->Read();
  });
}

void SpdyConnection::OnFrame(SpdyFrame frame) {
  switch (frame.type) {
    case SpdyFrameType::kSynStream:
      return OnSynStream(frame);
    case SpdyFrameType::kData:
      return OnData(frame);
    case SpdyFrameType::kRstStream: {
      auto it = streams_.find(frame.stream_id);
      if (it == streams_.end()) return;
      auto stream = it->second;
      streams_.erase(it);
      stream->reset_ = true;
      stream->DropPending();
      stream->End();
      return;
    }
    case SpdyFrameType::kSettings:
      for (const auto& s : frame.settings) {
        if (s.id != kSpdySettingInitialWindowSize) continue;
        int64_t delta = static_cast<int64_t>(s.value) - initial_send_window_;
        initial_send_window_ = s.value;
        for (auto& [id, stream] : streams_) stream->send_window_ += delta;
        peer_flow_control_ = true;
      }
      return WriteNext();
    case SpdyFrameType::kPing:
      // Client pings have odd ids; echo them.
      if (frame.ping_id % 2 == 1) QueueControl(EncodeSpdyPing(frame.ping_id));
      return;
    case SpdyFrameType::kWindowUpdate:
      peer_flow_control_ = true;
      if (frame.stream_id == 0) {
        session_send_window_ += frame.delta_window_size;
      } else if (auto it = streams_.find(frame.stream_id); it != streams_.end()) {
        it->second->send_window_ += frame.delta_window_size;
      }
      return WriteNext();
    case SpdyFrameType::kHeaders:
      if (frame.fin()) {
        if (auto it = streams_.find(frame.stream_id); it != streams_.end()) {
          it->second->remote_fin_ = true;
          it->second->End();
        }
      }
      return;
    case SpdyFrameType::kGoAway:    // the client opens no more streams; the open ones go on
    case SpdyFrameType::kSynReply:  // we open no streams
      return;
  }
}

void SpdyConnection::OnSynStream(SpdyFrame& frame) {
  uint32_t id = frame.stream_id;
  if (id == 0 || id % 2 == 0 || id <= last_stream_id_) {
    BERTH_LOG(Warning) << "spdy: refused a stream with a bad id" << Kv("stream", id) << Kv("last", last_stream_id_);
    QueueControl(EncodeSpdyRstStream(id, SpdyRstStatus::kProtocolError));
    return;
  }
  last_stream_id_ = id;
  if (closing_) {
    QueueControl(EncodeSpdyRstStream(id, SpdyRstStatus::kRefusedStream));
    return;
  }
  auto stream = std::shared_ptr<SpdyStream>(
      new SpdyStream(this, id, std::move(frame.headers), initial_send_window_));
  streams_[id] = stream;
  QueueControl(EncodeSpdySynReply(compressor_, id, 0, {}));
  if (frame.fin() || (frame.flags & kSpdyFlagUnidirectional)) stream->remote_fin_ = true;
  handler_->OnStream(stream);
  if (stream->remote_fin_) stream->End();
}

void SpdyConnection::OnData(SpdyFrame& frame) {
  auto it = streams_.find(frame.stream_id);
  if (it == streams_.end()) {
    QueueControl(EncodeSpdyRstStream(frame.stream_id, SpdyRstStatus::kInvalidStream));
    return;
  }
  auto stream = it->second;
  if (stream->remote_fin_) {
    QueueControl(EncodeSpdyRstStream(frame.stream_id, SpdyRstStatus::kStreamAlreadyClosed));
    return;
  }
  if (!frame.data.empty()) {
    unconsumed_ += frame.data.size();
    stream->Deliver(std::move(frame.data));
  }
  if (frame.fin()) {
    stream->remote_fin_ = true;
    if (stream->fin_sent_) streams_.erase(frame.stream_id);
    stream->End();
  }
}

void SpdyConnection::Consumed(SpdyStream* stream, size_t bytes) {
  if (closed_ || bytes == 0) return;
  unconsumed_ -= std::min(unconsumed_, bytes);
  stream->unacknowledged_ += bytes;
  session_unacknowledged_ += bytes;
  if (stream->unacknowledged_ >= kSpdyInitialWindow / 2 && !stream->remote_closed()) {
    QueueControl(EncodeSpdyWindowUpdate(stream->id_, static_cast<uint32_t>(stream->unacknowledged_)));
    stream->unacknowledged_ = 0;
  }
  if (session_unacknowledged_ >= kSpdyInitialWindow / 2) {
    QueueControl(EncodeSpdyWindowUpdate(0, static_cast<uint32_t>(session_unacknowledged_)));
    session_unacknowledged_ = 0;
  }
  Read();
}

void SpdyConnection::QueueControl(std::string frame) {
  if (closed_) return;
  control_.push_back(std::move(frame));
  WriteNext();
}

void SpdyConnection::Activate(SpdyStream* stream) {
  if (!stream->active_) {
    stream->active_ = true;
    active_.push_back(stream->id_);
  }
  WriteNext();
}

bool SpdyConnection::CanSend(const SpdyStream& s) const {
  return !peer_flow_control_ || (s.send_window_ > 0 && session_send_window_ > 0);
}

void SpdyConnection::WriteNext() {
  if (writing_ || closed_) return;
  if (!control_.empty()) {
    writing_ = true;
    write_control_ = std::move(control_.front());
    control_.pop_front();
    asio::async_write(stream_, asio::buffer(write_control_), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->writing_ = false;
      if (ec) return self->Finish();
      self->WriteNext();
    });
    return;
  }
  // One DATA frame from the next stream that may send, round robin.
  for (size_t tries = active_.size(); tries > 0; --tries) {
    uint32_t id = active_.front();
    active_.pop_front();
    auto it = streams_.find(id);
    if (it == streams_.end() || it->second->pending_.empty()) {
      if (it != streams_.end()) it->second->active_ = false;
      continue;
    }
    std::shared_ptr<SpdyStream> stream = it->second;
    SpdyStream::Pending& front = stream->pending_.front();
    size_t chunk = front.data.size() - front.offset;
    bool pure_fin = front.fin;
    if (!pure_fin && !CanSend(*stream)) {
      active_.push_back(id);  // waits for a WINDOW_UPDATE
      continue;
    }
    if (!pure_fin) {
      if (peer_flow_control_) {
        chunk = std::min<size_t>(chunk, static_cast<size_t>(std::min(stream->send_window_, session_send_window_)));
      }
      chunk = std::min(chunk, kMaxDataFrame);
    }
    // A bare FIN right after the data that ends here rides on its frame.
    bool completes = front.offset + chunk == front.data.size();
    bool fin = pure_fin || (completes && stream->pending_.size() > 1 && stream->pending_[1].fin);
    stream->send_window_ -= static_cast<int64_t>(chunk);
    session_send_window_ -= static_cast<int64_t>(chunk);
    write_header_ = EncodeSpdyDataHeader(id, fin ? kSpdyFlagFin : 0, static_cast<uint32_t>(chunk));
    std::array<asio::const_buffer, 2> buffers = {asio::buffer(write_header_),
                                                asio::buffer(front.data.data() + front.offset, chunk)};
    writing_ = true;
    stream->in_flight_ = true;
    active_.push_back(id);
    asio::async_write(stream_, buffers, [self = shared_from_this(), stream, chunk, fin](beast::error_code ec, size_t) {
      self->writing_ = false;
      stream->in_flight_ = false;
      if (ec) return self->Finish();
      std::vector<std::function<void()>> done;
      if (!stream->pending_.empty()) {
        auto& p = stream->pending_.front();
        p.offset += chunk;
        if (p.offset >= p.data.size() || stream->reset_) {
          bool was_fin = p.fin;
          if (p.written) done.push_back(std::move(p.written));
          stream->pending_.pop_front();
          if (fin && !was_fin && !stream->pending_.empty() && stream->pending_.front().fin) stream->pending_.pop_front();
        }
      }
      if (fin) {
        stream->fin_sent_ = true;
        if (stream->remote_fin_) self->streams_.erase(stream->id_);
      }
      for (auto& f : done) f();
      self->MaybeFinishClose();
      self->WriteNext();
    });
    return;
  }
  MaybeFinishClose();
}

void SpdyConnection::CloseWhenSent() {
  if (closing_ || closed_) return;
  for (auto& [id, stream] : streams_) {
    if (!stream->send_closed()) stream->CloseSend();
  }
  closing_ = true;
  MaybeFinishClose();
}

void SpdyConnection::MaybeFinishClose() {
  if (!closing_ || closed_ || writing_ || !control_.empty()) return;
  for (auto& [id, stream] : streams_) {
    if (!stream->pending_.empty()) return;
  }
  if (goaway_sent_) return;
  goaway_sent_ = true;
  // Everything is written: GOAWAY, then our side of the socket closes and
  // the client gets a while to close its own (closing at once could reset
  // the connection under data it has not read yet).
  write_control_ = EncodeSpdyGoAway(last_stream_id_, 0);
  writing_ = true;
  asio::async_write(stream_, asio::buffer(write_control_), [self = shared_from_this()](beast::error_code ec, size_t) {
    self->writing_ = false;
    if (ec) return self->Finish();
    beast::error_code ignored;
    self->stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    self->stream_.expires_after(kLingerAfterGoAway);
    self->Read();
  });
}

void SpdyConnection::Abort() { Finish(); }

void SpdyConnection::Fail(const std::string& why) {
  BERTH_LOG(Warning) << "spdy: connection ended on a protocol error" << Kv("error", why);
  Finish();
}

void SpdyConnection::Finish() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
  auto streams = std::move(streams_);
  streams_.clear();
  control_.clear();
  active_.clear();
  for (auto& [id, stream] : streams) {
    for (auto& p : stream->pending_) {
        if (p.written) asio::post(executor(), std::move(p.written));
    }
    stream->pending_.clear();
    stream->End();
  }
  if (handler_) {
    auto* handler = handler_;
    handler_ = nullptr;
    handler->OnConnectionClosed();
  }
  // Release the handler's owner after this call chain unwinds.
  asio::post(executor(), [keep = std::move(keep_alive_)] {});
}

}  // namespace berth::streaming
