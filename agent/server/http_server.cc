#include "agent/server/http_server.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cstring>

#include <atomic>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace berth::agent {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::atomic<bool> stopping{false};
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& address, int port,
                                                              HttpHandler handler) {
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->impl_ = std::make_unique<Impl>();
  server->handler_ = std::move(handler);
  beast::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("HTTP address \"", address, "\": ", ec.message()));
  tcp::endpoint endpoint(addr, static_cast<unsigned short>(port));
  auto& acceptor = server->impl_->acceptor;
  // Close-on-exec from the start: the shims the runtime forks must not hold the port.
  int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket for ", address, ":", port, ": ", strerror(errno)));
  acceptor.assign(endpoint.protocol(), fd, ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("listen on ", address, ":", port, ": ", ec.message()));
  }
  server->port_ = acceptor.local_endpoint().port();
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);  // wakes the blocking accept
  if (thread_.joinable()) thread_.join();
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

void HttpServer::Run() {
  while (!impl_->stopping) {
    tcp::socket socket(impl_->io);
    beast::error_code ec;
    impl_->acceptor.accept(socket, ec);
    if (ec) {
      if (impl_->stopping) return;
      continue;
    }
    fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
    // One request per connection, bounded in time.
    struct timeval tv = {5, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) continue;
    HttpResponse out;
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      out = {405, "text/plain; charset=utf-8", "method not allowed\n"};
    } else {
      out = handler_(std::string(req.method_string()), std::string(req.target()));
    }
    http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
    res.set(http::field::server, "berth-agent");
    res.set(http::field::content_type, out.content_type);
    res.keep_alive(false);
    res.body() = std::move(out.body);
    res.prepare_payload();
    http::write(socket, res, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
}

absl::StatusOr<std::string> HttpGet(const std::string& host, int port, const std::string& target) {
  std::string url = absl::StrCat("http://", host, ":", port, target);
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(resolver.resolve(host, std::to_string(port)));
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "berth-agent");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    if (res.result_int() != 200) {
      return absl::UnavailableError(absl::StrCat("GET ", url, ": HTTP ", res.result_int(), ": ", res.body()));
    }
    return res.body();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("GET ", url, ": ", e.what()));
  }
}

}  // namespace berth::agent
