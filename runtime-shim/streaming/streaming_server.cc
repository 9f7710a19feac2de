#include "runtime-shim/streaming/streaming_server.h"

#include <fcntl.h>

#include <thread>
#include <vector>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "runtime-shim/streaming/attach_session.h"
#include "runtime-shim/streaming/channel_codec.h"
#include "runtime-shim/streaming/exec_session.h"
#include "runtime-shim/streaming/portforward_session.h"
#include "runtime-shim/streaming/spdy_channel_transport.h"
#include "runtime-shim/streaming/spdy_connection.h"
#include "runtime-shim/streaming/spdy_portforward_session.h"
#include "runtime-shim/streaming/token_cache.h"

namespace berth::streaming {

namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct StreamingServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::unique_ptr<TokenCache> tokens;
  StreamingRuntime* runtime = nullptr;
  std::string address;
  absl::Duration stream_creation_timeout;

  void Accept();
};

namespace {

absl::StatusOr<tcp::endpoint> ParseAddress(const std::string& address) {
  std::string host, port_text;
  if (absl::StartsWith(address, "[")) {
    auto close = address.find("]:");
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("streaming address: \"", address, "\" is not [host]:port"));
    }
    host = address.substr(1, close - 1);
    port_text = address.substr(close + 2);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("streaming address: \"", address, "\" is not host:port"));
    }
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("streaming address: port \"", port_text, "\" of \"", address, "\" is not 0-65535"));
  }
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("streaming address: host \"", host, "\" of \"", address, "\" is not an IP address"));
  }
  return tcp::endpoint(ip, static_cast<uint16_t>(port));
}

std::string FormatEndpoint(const tcp::endpoint& ep) {
  if (ep.address().is_v6()) return absl::StrCat("[", ep.address().to_string(), "]:", ep.port());
  return absl::StrCat(ep.address().to_string(), ":", ep.port());
}

// One HTTP connection until it is answered or upgraded.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, StreamingServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {}

  void Run() {
    stream_.expires_after(std::chrono::seconds(30));
    parser_.body_limit(64 * 1024);
    http::async_read(stream_, buffer_, parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;  // closed or garbage: nothing to answer
      self->Route(self->parser_.release());
    });
  }

 private:
  void Reply(http::status code, const std::string& message) {
    BERTH_LOG(Info) << "streaming request refused" << Kv("status", static_cast<int>(code))
                    << Kv("error", message);
    auto res = std::make_shared<http::response<http::string_body>>(code, 11);
    res->set(http::field::server, "berth");
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    res->keep_alive(false);
    res->body() = message + "\n";
    res->prepare_payload();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  void Route(http::request<http::string_body> req) {
    req_ = std::move(req);
    std::string target(req_.target());
    std::string path = target, query;
    if (auto q = target.find('?'); q != std::string::npos) {
      path = target.substr(0, q);
      query = target.substr(q + 1);
    }
    std::string kind, token;
    for (const char* prefix : {"/exec/", "/attach/", "/portforward/"}) {
      if (absl::StartsWith(path, prefix)) {
        kind = std::string(prefix + 1, strlen(prefix) - 2);
        token = path.substr(strlen(prefix));
      }
    }
    if (kind.empty() || token.empty() || token.find('/') != std::string::npos) {
      return Reply(http::status::not_found, absl::StrCat("no streaming endpoint at \"", path, "\""));
    }
    if (req_.method() != http::verb::get && req_.method() != http::verb::post) {
      return Reply(http::status::method_not_allowed, absl::StrCat("method ", std::string(req_.method_string()),
                                                                  " is not allowed; use GET or POST"));
    }
    // Consume first: a token is single-use whatever happens next.
    auto request = server_->tokens->Consume(token);
    if (!request.ok()) return Reply(http::status::not_found, std::string(request.status().message()));
    bool matches = (kind == "exec" && std::holds_alternative<::runtime::v1::ExecRequest>(*request)) ||
                   (kind == "attach" && std::holds_alternative<::runtime::v1::AttachRequest>(*request)) ||
                   (kind == "portforward" && std::holds_alternative<::runtime::v1::PortForwardRequest>(*request));
    if (!matches) {
      return Reply(http::status::not_found, absl::StrCat("streaming token \"", token, "\" is not for ", kind));
    }
    std::string upgrade = absl::AsciiStrToLower(std::string(req_[http::field::upgrade]));
    if (absl::StartsWith(upgrade, "spdy/")) {
      if (upgrade != "spdy/3.1") {
        return Reply(http::status::bad_request,
                     absl::StrCat("upgrade to ", std::string(req_[http::field::upgrade]),
                                  " is not served; berth speaks SPDY/3.1 and WebSocket"));
      }
      return UpgradeSpdy(kind, std::move(*request));
    }
    if (!websocket::is_upgrade(req_)) {
      return Reply(http::status::bad_request,
                   absl::StrCat(kind, " needs a WebSocket upgrade request (Connection: Upgrade, Upgrade: websocket)"));
    }
    std::vector<std::string> offered;
    for (const auto& field : req_.base()) {
      if (field.name() == http::field::sec_websocket_protocol) {
        auto value = field.value();
        for (auto& p : ParseProtocolHeader(absl::string_view(value.data(), value.size()))) offered.push_back(std::move(p));
      }
    }
    std::vector<uint16_t> ports;
    if (kind == "portforward") {
      auto parsed = ParsePortForwardPorts(query);
      if (!parsed.ok()) return Reply(http::status::bad_request, std::string(parsed.status().message()));
      ports = std::move(*parsed);
    }
    auto protocol = NegotiateProtocol(offered, kind == "portforward" ? PortForwardProtocols() : RemoteCommandProtocols());
    if (!protocol.ok()) return Reply(http::status::forbidden, std::string(protocol.status().message()));
    Upgrade(*protocol, std::move(*request), std::move(ports));
  }

  void Upgrade(ChannelProtocol protocol, StreamRequest request, std::vector<uint16_t> ports) {
    stream_.expires_never();
    auto ws = std::make_shared<WebSocket>(std::move(stream_));
    ws->set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    std::string name = protocol.name;
    ws->set_option(websocket::stream_base::decorator([name](websocket::response_type& res) {
      res.set(http::field::server, "berth");
      if (!name.empty()) res.set(http::field::sec_websocket_protocol, name);
    }));
    auto self = shared_from_this();
    ws->async_accept(req_, [self, ws, protocol, request = std::move(request),
                            ports = std::move(ports)](beast::error_code ec) mutable {
      if (ec) {
        BERTH_LOG(Info) << "streaming: websocket handshake failed" << Kv("error", ec.message());
        return;
      }
      std::shared_ptr<ChannelSession> session;
      if (auto* exec = std::get_if<::runtime::v1::ExecRequest>(&request)) {
        session = std::make_shared<ExecSession>(std::move(*ws), protocol, std::move(*exec), self->server_->runtime);
      } else if (auto* attach = std::get_if<::runtime::v1::AttachRequest>(&request)) {
        session = std::make_shared<AttachSession>(std::move(*ws), protocol, std::move(*attach),
                                                  self->server_->runtime);
      } else if (auto* pf = std::get_if<::runtime::v1::PortForwardRequest>(&request)) {
        session = std::make_shared<PortForwardSession>(std::move(*ws), protocol, pf->pod_sandbox_id(),
                                                       std::move(ports), self->server_->runtime);
      } else {
        return;
      }
      session->Run();
    });
  }

  // SPDY/3.1: X-Stream-Protocol-Version negotiation, 101, then the SPDY
  // session on the same socket.
  void UpgradeSpdy(const std::string& kind, StreamRequest request) {
    std::vector<std::string> offered;
    for (const auto& field : req_.base()) {
      if (!beast::iequals(field.name_string(), "X-Stream-Protocol-Version")) continue;
      auto value = field.value();
      for (auto& p : ParseProtocolHeader(absl::string_view(value.data(), value.size()))) offered.push_back(std::move(p));
    }
    auto protocol =
        NegotiateProtocol(offered, kind == "portforward" ? SpdyPortForwardProtocols() : SpdyRemoteCommandProtocols());
    if (!protocol.ok()) return Reply(http::status::forbidden, std::string(protocol.status().message()));
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::switching_protocols, 11);
    res->set(http::field::connection, "Upgrade");
    res->set(http::field::upgrade, "SPDY/3.1");
    if (*protocol->name) res->set("X-Stream-Protocol-Version", protocol->name);
    stream_.expires_never();
    http::async_write(stream_, *res, [self = shared_from_this(), res, protocol = *protocol,
                                      request = std::move(request)](beast::error_code ec, size_t) mutable {
      if (ec) return;
      auto connection = std::make_shared<SpdyConnection>(std::move(self->stream_),
                                                         beast::buffers_to_string(self->buffer_.data()));
      StreamingRuntime* runtime = self->server_->runtime;
      if (auto* exec = std::get_if<::runtime::v1::ExecRequest>(&request)) {
        SpdyExpectedStreams expected{exec->stdin(), exec->stdout(), exec->stderr(), exec->tty()};
        auto transport = std::make_unique<SpdyChannelTransport>(connection, protocol, expected,
                                                                self->server_->stream_creation_timeout);
        std::make_shared<ExecSession>(std::move(transport), std::move(*exec), runtime)->Run();
      } else if (auto* attach = std::get_if<::runtime::v1::AttachRequest>(&request)) {
        SpdyExpectedStreams expected{attach->stdin(), attach->stdout(), attach->stderr(), attach->tty()};
        auto transport = std::make_unique<SpdyChannelTransport>(connection, protocol, expected,
                                                                self->server_->stream_creation_timeout);
        std::make_shared<AttachSession>(std::move(transport), std::move(*attach), runtime)->Run();
      } else if (auto* pf = std::get_if<::runtime::v1::PortForwardRequest>(&request)) {
        std::make_shared<SpdyPortForwardSession>(connection, pf->pod_sandbox_id(), runtime)->Run();
      }
    });
  }

  beast::tcp_stream stream_;
  StreamingServer::Impl* server_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::request<http::string_body> req_;
};

absl::Status CheckStdio(bool tty, bool in, bool out, bool err) {
  if (tty && err) {
    return absl::InvalidArgumentError("tty and stderr cannot both be true (a terminal has one output stream)");
  }
  if (!in && !out && !err) return absl::InvalidArgumentError("one of stdin, stdout or stderr must be set");
  return absl::OkStatus();
}

}  // namespace

void StreamingServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      // Asio does not accept with SOCK_CLOEXEC: keep connections out of spawned shims and containers.
      fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<HttpSession>(std::move(socket), this)->Run();
    }
    Accept();
  });
}

absl::StatusOr<std::unique_ptr<StreamingServer>> StreamingServer::Start(const StreamingServerOptions& options,
                                                                        StreamingRuntime* runtime) {
  auto endpoint = ParseAddress(options.address);
  if (!endpoint.ok()) return endpoint.status();
  auto impl = std::make_unique<Impl>();
  impl->runtime = runtime;
  impl->stream_creation_timeout = options.stream_creation_timeout;
  impl->tokens = std::make_unique<TokenCache>(options.token_ttl, options.max_in_flight, options.clock);
  boost::system::error_code ec;
  impl->acceptor.open(endpoint->protocol(), ec);
  if (!ec) fcntl(impl->acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(*endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("streaming server: listen on ", options.address, ": ", ec.message()));
  }
  impl->address = FormatEndpoint(impl->acceptor.local_endpoint());
  impl->Accept();
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    impl->threads.emplace_back([ioc = &impl->ioc] { ioc->run(); });
  }
  BERTH_LOG(Info) << "streaming server listening" << Kv("address", impl->address);
  return std::unique_ptr<StreamingServer>(new StreamingServer(std::move(impl)));
}

StreamingServer::StreamingServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StreamingServer::~StreamingServer() {
  asio::post(impl_->ioc, [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
}

const std::string& StreamingServer::address() const { return impl_->address; }

absl::Status StreamingServer::GetExec(const ::runtime::v1::ExecRequest& req, ::runtime::v1::ExecResponse* resp) {
  if (req.container_id().empty()) return absl::InvalidArgumentError("container_id: required");
  if (req.cmd().empty()) return absl::InvalidArgumentError("cmd: required");
  if (auto s = CheckStdio(req.tty(), req.stdin(), req.stdout(), req.stderr()); !s.ok()) return s;
  auto token = impl_->tokens->Insert(req);
  if (!token.ok()) return token.status();
  resp->set_url(absl::StrCat("http://", impl_->address, "/exec/", *token));
  return absl::OkStatus();
}

absl::Status StreamingServer::GetAttach(const ::runtime::v1::AttachRequest& req,
                                        ::runtime::v1::AttachResponse* resp) {
  if (req.container_id().empty()) return absl::InvalidArgumentError("container_id: required");
  if (auto s = CheckStdio(req.tty(), req.stdin(), req.stdout(), req.stderr()); !s.ok()) return s;
  auto token = impl_->tokens->Insert(req);
  if (!token.ok()) return token.status();
  resp->set_url(absl::StrCat("http://", impl_->address, "/attach/", *token));
  return absl::OkStatus();
}

absl::Status StreamingServer::GetPortForward(const ::runtime::v1::PortForwardRequest& req,
                                             ::runtime::v1::PortForwardResponse* resp) {
  if (req.pod_sandbox_id().empty()) return absl::InvalidArgumentError("pod_sandbox_id: required");
  for (int32_t port : req.port()) {
    if (port <= 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("port: ", port, " is not a port number (1-65535)"));
    }
  }
  auto token = impl_->tokens->Insert(req);
  if (!token.ok()) return token.status();
  resp->set_url(absl::StrCat("http://", impl_->address, "/portforward/", *token));
  return absl::OkStatus();
}

}  // namespace berth::streaming
