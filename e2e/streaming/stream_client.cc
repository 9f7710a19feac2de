#include "e2e/streaming/stream_client.h"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/time.h"
#include "nlohmann/json.hpp"

namespace berth::e2e {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

absl::StatusOr<StreamUrl> ParseStreamUrl(const std::string& url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "http://")) {
    return absl::InvalidArgumentError(absl::StrCat("url \"", url, "\" is not http://"));
  }
  StreamUrl out;
  auto slash = rest.find('/');
  absl::string_view hostport = rest.substr(0, slash);
  out.target = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  auto colon = hostport.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("url \"", url, "\" has no port"));
  }
  out.host = std::string(hostport.substr(0, colon));
  out.port = std::string(hostport.substr(colon + 1));
  if (absl::StartsWith(out.host, "[")) out.host = out.host.substr(1, out.host.size() - 2);
  return out;
}

absl::Status FromBeast(const boost::system::error_code& ec, absl::string_view what) {
  if (ec == beast::error::timeout) return absl::DeadlineExceededError(absl::StrCat(what, ": timed out"));
  return absl::UnavailableError(absl::StrCat(what, ": ", ec.message()));
}

struct StreamClient::Impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  streaming::ChannelFrame decoded;  // ReadView's base64 message

  // Runs the io_context until the started operation completes.
  void RunOne() {
    ioc.restart();
    ioc.run();
  }
};

absl::StatusOr<HttpReply> HttpGet(const std::string& url, const std::vector<std::string>& headers,
                                  absl::Duration timeout) {
  auto parsed = ParseStreamUrl(url);
  if (!parsed.ok()) return parsed.status();
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto results = resolver.resolve(parsed->host, parsed->port, ec);
  if (ec) return FromBeast(ec, "resolve");
  stream.expires_after(std::chrono::nanoseconds(absl::ToInt64Nanoseconds(timeout)));
  http::request<http::empty_body> req(http::verb::get, parsed->target, 11);
  req.set(http::field::host, parsed->host);
  for (const auto& h : headers) {
    auto colon = h.find(':');
    std::string value = h.substr(colon + 1);
    while (!value.empty() && value[0] == ' ') value.erase(0, 1);
    req.insert(h.substr(0, colon), value);
  }
  http::response<http::string_body> res;
  beast::flat_buffer buffer;
  beast::error_code result;
  stream.async_connect(results, [&](beast::error_code e, const tcp::endpoint&) {
    if (e) {
      result = e;
      return;
    }
    http::async_write(stream, req, [&](beast::error_code e2, size_t) {
      if (e2) {
        result = e2;
        return;
      }
      http::async_read(stream, buffer, res, [&](beast::error_code e3, size_t) { result = e3; });
    });
  });
  ioc.run();
  if (result) return FromBeast(result, absl::StrCat("GET ", url));
  return HttpReply{static_cast<int>(res.result_int()), res.body()};
}

StreamClient::StreamClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StreamClient::~StreamClient() = default;

absl::StatusOr<std::unique_ptr<StreamClient>> StreamClient::Connect(const std::string& url,
                                                                    const std::vector<std::string>& protocols,
                                                                    absl::Duration timeout) {
  auto parsed = ParseStreamUrl(url);
  if (!parsed.ok()) return parsed.status();
  auto impl = std::make_unique<Impl>();
  tcp::resolver resolver(impl->ioc);
  beast::error_code ec;
  auto results = resolver.resolve(parsed->host, parsed->port, ec);
  if (ec) return FromBeast(ec, "resolve");
  auto& lowest = beast::get_lowest_layer(impl->ws);
  lowest.expires_after(std::chrono::nanoseconds(absl::ToInt64Nanoseconds(timeout)));
  std::string offer = absl::StrJoin(protocols, ", ");
  impl->ws.set_option(websocket::stream_base::decorator([offer](websocket::request_type& req) {
    if (!offer.empty()) req.set(http::field::sec_websocket_protocol, offer);
  }));
  websocket::response_type res;
  beast::error_code result;
  std::string host = absl::StrCat(parsed->host, ":", parsed->port);
  lowest.async_connect(results, [&](beast::error_code e, const tcp::endpoint&) {
    if (e) {
      result = e;
      return;
    }
    impl->ws.async_handshake(res, host, parsed->target, [&](beast::error_code e2) { result = e2; });
  });
  impl->RunOne();
  if (result == websocket::error::upgrade_declined) {
    return absl::FailedPreconditionError(absl::StrCat("HTTP ", res.result_int(), ": ", res.body()));
  }
  if (result) return FromBeast(result, absl::StrCat("websocket upgrade of ", url));
  lowest.expires_never();
  impl->ws.auto_fragment(false);
  std::unique_ptr<StreamClient> client(new StreamClient(std::move(impl)));
  client->protocol_ = std::string(res[http::field::sec_websocket_protocol]);
  client->encoding_ = absl::StrContains(client->protocol_, "base64") ? streaming::ChannelEncoding::kBase64
                                                                       : streaming::ChannelEncoding::kBinary;
  if (client->encoding_ == streaming::ChannelEncoding::kBase64) {
    client->impl_->ws.text(true);
  } else {
    client->impl_->ws.binary(true);
  }
  return client;
}

absl::Status StreamClient::Send(uint8_t channel, absl::string_view data) {
  std::string payload = streaming::EncodeChannelFrame(encoding_, channel, data);
  auto& lowest = beast::get_lowest_layer(impl_->ws);
  lowest.expires_after(std::chrono::seconds(30));
  beast::error_code result;
  impl_->ws.async_write(asio::buffer(payload), [&](beast::error_code e, size_t) { result = e; });
  impl_->RunOne();
  lowest.expires_never();
  if (result) return FromBeast(result, "websocket write");
  return absl::OkStatus();
}

absl::Status StreamClient::SendResize(int width, int height) {
  return Send(streaming::kResizeChannel, absl::StrCat("{\"Width\":", width, ",\"Height\":", height, "}"));
}

absl::StatusOr<streaming::ChannelFrame> StreamClient::Read(absl::Duration timeout) {
  streaming::ChannelFrame frame;
  RETURN_IF_ERROR(ReadInto(frame, timeout));
  return frame;
}

absl::Status StreamClient::ReadInto(streaming::ChannelFrame& frame, absl::Duration timeout) {
  ASSIGN_OR_RETURN(ChannelView view, ReadView(timeout));
  frame.channel = view.channel;
  frame.data.assign(view.data.data(), view.data.size());  // reuses frame.data's storage
  return absl::OkStatus();
}

absl::StatusOr<StreamClient::ChannelView> StreamClient::ReadView(absl::Duration timeout) {
  auto& lowest = beast::get_lowest_layer(impl_->ws);
  lowest.expires_after(std::chrono::nanoseconds(absl::ToInt64Nanoseconds(timeout)));
  impl_->buffer.clear();
  beast::error_code result;
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code e, size_t) { result = e; });
  impl_->RunOne();
  lowest.expires_never();
  if (result == websocket::error::closed) {
    close_code_ = impl_->ws.reason().code;
    return absl::OutOfRangeError(absl::StrCat("websocket closed by the server (code ", close_code_, ")"));
  }
  if (result) return FromBeast(result, "websocket read");
  // The message lies in one piece in the flat buffer.
  auto data = impl_->buffer.data();
  absl::string_view payload(static_cast<const char*>(data.data()), data.size());
  if (encoding_ == streaming::ChannelEncoding::kBinary && !payload.empty()) {
    return ChannelView{static_cast<uint8_t>(payload[0]), payload.substr(1)};
  }
  ASSIGN_OR_RETURN(impl_->decoded, streaming::DecodeChannelFrame(encoding_, payload));
  return ChannelView{impl_->decoded.channel, impl_->decoded.data};
}

absl::Status StreamClient::Close(absl::Duration timeout) {
  auto& lowest = beast::get_lowest_layer(impl_->ws);
  lowest.expires_after(std::chrono::nanoseconds(absl::ToInt64Nanoseconds(timeout)));
  beast::error_code result;
  impl_->ws.async_close(websocket::close_code::normal, [&](beast::error_code e) { result = e; });
  impl_->RunOne();
  if (result) return FromBeast(result, "websocket close");
  return absl::OkStatus();
}

int ExitCodeFromStatus(const std::string& status_json) {
  auto status = nlohmann::json::parse(status_json, nullptr, false);
  if (!status.is_object()) return -1;
  if (status.value("status", "") == "Success") return 0;
  if (status.value("reason", "") != "NonZeroExitCode") return -1;
  auto details = status.find("details");
  if (details == status.end() || !details->is_object()) return -1;
  auto causes = details->find("causes");
  if (causes == details->end() || !causes->is_array()) return -1;
  for (const auto& cause : *causes) {
    if (cause.value("reason", "") != "ExitCode") continue;
    int code = -1;
    if (absl::SimpleAtoi(cause.value("message", ""), &code)) return code;
  }
  return -1;
}

absl::StatusOr<ExecOutcome> CollectExec(StreamClient& client, absl::Duration timeout) {
  ExecOutcome outcome;
  int64_t deadline = MonotonicNanos() + absl::ToInt64Nanoseconds(timeout);
  for (;;) {
    absl::Duration left = absl::Nanoseconds(deadline - MonotonicNanos());
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("exec: no end in time");
    auto frame = client.Read(left);
    if (absl::IsOutOfRange(frame.status())) break;
    if (!frame.ok()) return frame.status();
    switch (frame->channel) {
      case streaming::kStdoutChannel: outcome.stdout_data += frame->data; break;
      case streaming::kStderrChannel: outcome.stderr_data += frame->data; break;
      case streaming::kErrorChannel: outcome.error += frame->data; break;
      default: break;
    }
  }
  outcome.exit_code = ExitCodeFromStatus(outcome.error);
  return outcome;
}

}  // namespace berth::e2e
