#include "e2e/streaming/spdy_client.h"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "common/time.h"

namespace berth::e2e {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using streaming::SpdyFrame;
using streaming::SpdyFrameType;

namespace {

constexpr size_t kReadChunk = 256 * 1024;
constexpr size_t kMaxDataFrame = 1 << 20;

std::chrono::nanoseconds ToChrono(absl::Duration d) {
  return std::chrono::nanoseconds(absl::ToInt64Nanoseconds(d));
}

}  // namespace

struct SpdyClient::Impl {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  streaming::SpdyFrameReader reader;
  streaming::SpdyHeaderCompressor compressor;
  std::vector<char> buffer = std::vector<char>(kReadChunk);
  bool closed = false;

  void RunOne() {
    ioc.restart();
    ioc.run();
  }
};

SpdyClient::SpdyClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SpdyClient::~SpdyClient() = default;

absl::StatusOr<std::unique_ptr<SpdyClient>> SpdyClient::Connect(const std::string& url,
                                                                const std::vector<std::string>& protocols,
                                                                SpdyClientOptions options, absl::Duration timeout) {
  ASSIGN_OR_RETURN(StreamUrl parsed, ParseStreamUrl(url));
  auto impl = std::make_unique<Impl>();
  tcp::resolver resolver(impl->ioc);
  beast::error_code ec;
  auto results = resolver.resolve(parsed.host, parsed.port, ec);
  if (ec) return FromBeast(ec, "resolve");
  impl->stream.expires_after(ToChrono(timeout));
  http::request<http::empty_body> req(http::verb::post, parsed.target, 11);
  req.set(http::field::host, absl::StrCat(parsed.host, ":", parsed.port));
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, "SPDY/3.1");
  for (const auto& p : protocols) req.insert("X-Stream-Protocol-Version", p);
  http::response<http::string_body> res;
  beast::flat_buffer buffer;
  beast::error_code result;
  impl->stream.async_connect(results, [&](beast::error_code e, const tcp::endpoint&) {
    if (e) {
      result = e;
      return;
    }
    http::async_write(impl->stream, req, [&](beast::error_code e2, size_t) {
      if (e2) {
        result = e2;
        return;
      }
      http::async_read(impl->stream, buffer, res, [&](beast::error_code e3, size_t) { result = e3; });
    });
  });
  impl->RunOne();
  impl->stream.expires_never();
  if (result) return FromBeast(result, absl::StrCat("SPDY upgrade of ", url));
  if (res.result() != http::status::switching_protocols) {
    return absl::FailedPreconditionError(absl::StrCat("HTTP ", res.result_int(), ": ", res.body()));
  }
  // Frames that came with the 101.
  impl->reader.Append(beast::buffers_to_string(buffer.data()));
  std::unique_ptr<SpdyClient> client(new SpdyClient(std::move(impl)));
  client->options_ = options;
  client->protocol_ = std::string(res["X-Stream-Protocol-Version"]);
  if (options.flow_control && options.receive_window != streaming::kSpdyInitialWindow) {
    RETURN_IF_ERROR(client->Write(streaming::EncodeSpdySettings(
        0, {{0, streaming::kSpdySettingInitialWindowSize, options.receive_window}})));
    if (options.receive_window > streaming::kSpdyInitialWindow) {
      RETURN_IF_ERROR(client->Write(
          streaming::EncodeSpdyWindowUpdate(0, options.receive_window - streaming::kSpdyInitialWindow)));
    }
  }
  return client;
}

absl::Status SpdyClient::Write(const std::string& bytes) {
  if (impl_->closed) return absl::FailedPreconditionError("spdy client: closed");
  impl_->stream.expires_after(std::chrono::seconds(30));
  beast::error_code result;
  asio::async_write(impl_->stream, asio::buffer(bytes), [&](beast::error_code e, size_t) { result = e; });
  impl_->RunOne();
  impl_->stream.expires_never();
  if (result) return FromBeast(result, "spdy write");
  return absl::OkStatus();
}

absl::Status SpdyClient::SendRaw(absl::string_view bytes) { return Write(std::string(bytes)); }

absl::StatusOr<uint32_t> SpdyClient::OpenStream(const streaming::SpdyHeaders& headers, bool fin) {
  uint32_t id = next_stream_id_;
  next_stream_id_ += 2;
  send_windows_[id] = streaming::kSpdyInitialWindow;
  RETURN_IF_ERROR(Write(streaming::EncodeSpdySynStream(impl_->compressor, id, 0, 0,
                                                       fin ? streaming::kSpdyFlagFin : 0, headers)));
  return id;
}

absl::Status SpdyClient::Send(uint32_t stream, absl::string_view data, bool fin) {
  do {
    size_t chunk = std::min(data.size(), kMaxDataFrame);
    if (options_.flow_control && chunk > 0) {
      int64_t window = std::min(send_windows_[stream], session_send_window_);
      while (window <= 0) {
        // Wait for the server's WINDOW_UPDATE; whatever else comes waits in the backlog.
        ASSIGN_OR_RETURN(SpdyFrame frame, ReadFrame(absl::Seconds(30)));
        if (frame.type != SpdyFrameType::kWindowUpdate) backlog_.push_back(std::move(frame));
        window = std::min(send_windows_[stream], session_send_window_);
      }
      chunk = std::min<size_t>(chunk, static_cast<size_t>(window));
      send_windows_[stream] -= static_cast<int64_t>(chunk);
      session_send_window_ -= static_cast<int64_t>(chunk);
    }
    bool last = chunk == data.size();
    RETURN_IF_ERROR(Write(streaming::EncodeSpdyData(stream, last && fin ? streaming::kSpdyFlagFin : 0,
                                                    data.substr(0, chunk))));
    data.remove_prefix(chunk);
  } while (!data.empty());
  return absl::OkStatus();
}

void SpdyClient::Account(const SpdyFrame& frame) {
  if (frame.type == SpdyFrameType::kWindowUpdate) {
    ++window_updates_;
    if (frame.stream_id == 0) {
      session_send_window_ += frame.delta_window_size;
    } else {
      send_windows_[frame.stream_id] += frame.delta_window_size;
    }
  }
  if (frame.type == SpdyFrameType::kData && options_.flow_control && !frame.data.empty()) {
    // Consumed as soon as read: give it back at half a window.
    uint32_t n = static_cast<uint32_t>(frame.data.size());
    uint32_t& stream_acks = unacknowledged_[frame.stream_id];
    stream_acks += n;
    session_unacknowledged_ += n;
    std::string updates;
    if (stream_acks >= options_.receive_window / 2 && !frame.fin()) {
      updates += streaming::EncodeSpdyWindowUpdate(frame.stream_id, stream_acks);
      stream_acks = 0;
    }
    if (session_unacknowledged_ >= options_.receive_window / 2) {
      updates += streaming::EncodeSpdyWindowUpdate(0, session_unacknowledged_);
      session_unacknowledged_ = 0;
    }
    if (!updates.empty()) (void)Write(updates);
  }
}

absl::StatusOr<SpdyFrame> SpdyClient::ReadFrame(absl::Duration timeout) {
  int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
  for (;;) {
    auto next = impl_->reader.Next();
    if (!next.ok()) return next.status();
    if (next->has_value()) {
      SpdyFrame frame = std::move(**next);
      Account(frame);
      return frame;
    }
    if (impl_->closed) return absl::OutOfRangeError("spdy: the server closed the connection");
    absl::Duration left = absl::Nanoseconds(deadline - MonotonicNanos());
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("spdy read: timed out");
    impl_->stream.expires_after(ToChrono(left));
    beast::error_code result;
    size_t got = 0;
    impl_->stream.async_read_some(asio::buffer(impl_->buffer), [&](beast::error_code e, size_t n) {
      result = e;
      got = n;
    });
    impl_->RunOne();
    impl_->stream.expires_never();
    if (result == asio::error::eof || result == asio::error::connection_reset) {
      impl_->closed = true;
      continue;
    }
    if (result) return FromBeast(result, "spdy read");
    impl_->reader.Append(absl::string_view(impl_->buffer.data(), got));
  }
}

absl::StatusOr<SpdyFrame> SpdyClient::Next(absl::Duration timeout) {
  if (!backlog_.empty()) {
    SpdyFrame frame = std::move(backlog_.front());
    backlog_.pop_front();
    return frame;
  }
  return ReadFrame(timeout);
}

void SpdyClient::Close() {
  beast::error_code ignored;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  impl_->stream.socket().close(ignored);
  impl_->closed = true;
}

absl::StatusOr<SpdyExecStreams> OpenSpdyExecStreams(SpdyClient& client, bool stdin, bool stdout, bool stderr,
                                                    bool resize) {
  SpdyExecStreams streams;
  std::vector<std::pair<std::string, bool>> wanted = {
      {"error", true}, {"stdin", stdin}, {"stdout", stdout}, {"stderr", stderr}, {"resize", resize}};
  for (const auto& [type, want] : wanted) {
    if (!want) continue;
    ASSIGN_OR_RETURN(uint32_t id, client.OpenStream({{"streamtype", type}}));
    streams.ids[type] = id;
  }
  return streams;
}

absl::StatusOr<ExecOutcome> CollectSpdyExec(SpdyClient& client, const SpdyExecStreams& streams,
                                            absl::Duration timeout) {
  ExecOutcome outcome;
  int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
  for (;;) {
    absl::Duration left = absl::Nanoseconds(deadline - MonotonicNanos());
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("spdy exec: no end in time");
    auto frame = client.Next(left);
    if (absl::IsOutOfRange(frame.status())) break;
    if (!frame.ok()) return frame.status();
    if (frame->type == SpdyFrameType::kGoAway) break;
    if (frame->type != SpdyFrameType::kData) continue;
    if (frame->stream_id == streams.id("stdout")) outcome.stdout_data += frame->data;
    if (frame->stream_id == streams.id("stderr")) outcome.stderr_data += frame->data;
    if (frame->stream_id == streams.id("error")) outcome.error += frame->data;
  }
  outcome.exit_code = ExitCodeFromStatus(outcome.error);
  absl::string_view text = outcome.error;
  int code = 0;
  if (absl::ConsumePrefix(&text, "command terminated with non-zero exit code: ") && absl::SimpleAtoi(text, &code)) {
    outcome.exit_code = code;
  } else if (outcome.error.empty() && client.protocol() != "v4.channel.k8s.io") {
    outcome.exit_code = 0;  // before v4 success is silence
  }
  return outcome;
}

absl::StatusOr<SpdyForward> OpenSpdyForward(SpdyClient& client, uint16_t port, const std::string& request_id) {
  SpdyForward forward;
  std::string p = absl::StrCat(port);
  ASSIGN_OR_RETURN(forward.error, client.OpenStream({{"streamtype", "error"}, {"port", p}, {"requestid", request_id}}));
  ASSIGN_OR_RETURN(forward.data, client.OpenStream({{"streamtype", "data"}, {"port", p}, {"requestid", request_id}}));
  return forward;
}

}  // namespace berth::e2e
