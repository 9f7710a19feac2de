#include "runtime-shim/streaming/spdy_channel_transport.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace berth::streaming {

namespace asio = boost::asio;

namespace {

// The remotecommand stream types, indexed by channel.
constexpr const char* kStreamTypes[] = {"stdin", "stdout", "stderr", "error", "resize"};

int ChannelOfStreamType(const std::string& type) {
  for (int i = 0; i < 5; ++i) {
    if (type == kStreamTypes[i]) return i;
  }
  return -1;
}

}  // namespace

SpdyChannelTransport::SpdyChannelTransport(std::shared_ptr<SpdyConnection> connection, ChannelProtocol protocol,
                                           SpdyExpectedStreams expected, absl::Duration creation_timeout)
    : connection_(std::move(connection)),
      protocol_(protocol),
      expected_(expected),
      creation_timeout_(creation_timeout) {}

void SpdyChannelTransport::Start(ChannelHandler* handler, std::shared_ptr<void> owner) {
  handler_ = handler;
  owner_ = owner;
  creation_timer_ = std::make_unique<asio::steady_timer>(
      executor(), std::chrono::nanoseconds(absl::ToInt64Nanoseconds(creation_timeout_)));
  creation_timer_->async_wait([this, keep = owner](boost::system::error_code ec) {
    if (ec || began_ || connection_->closed()) return;
    BERTH_LOG(Warning) << "spdy remotecommand: the client did not open its streams in time"
                       << Kv("timeout", absl::FormatDuration(creation_timeout_));
    connection_->Abort();
  });
  connection_->Start(this, std::move(owner));
}

bool SpdyChannelTransport::AllStreamsReady() const {
  if (!streams_[kErrorChannel]) return false;
  if (expected_.stdin && !streams_[kStdinChannel]) return false;
  if (expected_.stdout && !streams_[kStdoutChannel]) return false;
  if (expected_.stderr && !expected_.tty && !streams_[kStderrChannel]) return false;
  if (expected_.tty && protocol_.version >= 3 && !streams_[kResizeChannel]) return false;
  return true;
}

void SpdyChannelTransport::OnStream(std::shared_ptr<SpdyStream> stream) {
  std::string type = stream->header("streamtype");
  int channel = ChannelOfStreamType(type);
  if (channel < 0 || streams_[channel] || began_) {
    BERTH_LOG(Warning) << "spdy remotecommand: refused a stream"
                       << Kv("streamtype", type) << Kv("stream", stream->id())
                       << Kv("why", channel < 0 ? "unknown type" : began_ ? "after the start" : "a second one");
    stream->Reset(SpdyRstStatus::kRefusedStream);
    return;
  }
  streams_[channel] = stream;
  SpdyStream* raw = stream.get();
  switch (channel) {
    case kStdinChannel:
      stream->SetReceiver(
          [this](std::string data) {
            size_t n = data.size();
            incoming_.push_back({ChannelFrame{kStdinChannel, std::move(data)}, n});
            Deliver();
          },
          [this] {
            incoming_.push_back({ChannelFrame{kCloseChannel, std::string(1, static_cast<char>(kStdinChannel))}, 0});
            Deliver();
          });
      break;
    case kResizeChannel:
      stream->SetReceiver(
          [this, raw](std::string data) {
            raw->Consumed(data.size());
            resize_partial_ += data;
            size_t newline;
            while ((newline = resize_partial_.find('\n')) != std::string::npos) {
              std::string line = resize_partial_.substr(0, newline);
              resize_partial_.erase(0, newline + 1);
              if (!line.empty()) incoming_.push_back({ChannelFrame{kResizeChannel, std::move(line)}, 0});
            }
            // A client that writes objects without newlines: one object per DATA frame.
            if (!resize_partial_.empty() && resize_partial_.back() == '}') {
              incoming_.push_back({ChannelFrame{kResizeChannel, std::move(resize_partial_)}, 0});
              resize_partial_.clear();
            }
            Deliver();
          },
          nullptr);
      break;
    default:
      // The client sends nothing on output streams; whatever comes is dropped.
      stream->SetReceiver([raw](std::string data) { raw->Consumed(data.size()); }, nullptr);
      break;
  }
  if (AllStreamsReady()) {
    began_ = true;
    if (creation_timer_) creation_timer_->cancel();
    handler_->Begin();
    want_read_ = true;
    Deliver();
  }
}

void SpdyChannelTransport::ReadNext() {
  want_read_ = true;
  // Posted: a session that calls ReadNext from OnFrame must not recurse.
  asio::post(executor(), [this, keep = owner_.lock()] { Deliver(); });
}

void SpdyChannelTransport::Deliver() {
  if (!began_ || !want_read_ || incoming_.empty() || delivering_ || connection_->closed()) return;
  want_read_ = false;
  Incoming in = std::move(incoming_.front());
  incoming_.pop_front();
  if (in.consumed > 0 && streams_[kStdinChannel]) streams_[kStdinChannel]->Consumed(in.consumed);
  delivering_ = true;
  handler_->OnFrame(std::move(in.frame));
  delivering_ = false;
}

void SpdyChannelTransport::Send(uint8_t channel, absl::string_view data, std::function<void()> written) {
  SpdyStream* stream = channel < streams_.size() ? streams_[channel].get() : nullptr;
  if (!stream) {
    if (written) asio::post(executor(), std::move(written));
    return;
  }
  stream->Write(std::string(data), std::move(written));
}

void SpdyChannelTransport::SendFrame(absl::string_view frame, std::function<void()> written) {
  uint8_t channel = static_cast<uint8_t>(frame[0]);
  SpdyStream* stream = channel < streams_.size() ? streams_[channel].get() : nullptr;
  if (!stream) {
    if (written) asio::post(executor(), std::move(written));
    return;
  }
  stream->WriteBorrowed(frame.substr(1), std::move(written));
}

void SpdyChannelTransport::CloseWhenSent() { connection_->CloseWhenSent(); }

void SpdyChannelTransport::OnConnectionClosed() {
  if (creation_timer_) creation_timer_->cancel();
  if (began_) handler_->OnClientGone();
}

}  // namespace berth::streaming
