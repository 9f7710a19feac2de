#include "controlplane/apiserver/https_server.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <openssl/ssl.h>

#include <atomic>
#include <list>
#include <mutex>
#include <thread>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "controlplane/apiserver/request_info.h"

namespace berth::apiserver {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string HttpRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

namespace {

using TlsStream = ssl::stream<tcp::socket>;

class Writer : public ResponseWriter {
 public:
  Writer(TlsStream& stream, bool keep_alive) : stream_(stream), keep_alive_(keep_alive) {}

  void Send(int status, const Headers& headers, std::string body) override {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::server, "berth");
    for (const auto& [k, v] : headers) res.insert(k, v);
    res.keep_alive(keep_alive_);
    res.body() = std::move(body);
    res.prepare_payload();
    beast::error_code ec;
    http::write(stream_, res, ec);
    if (ec) failed_ = true;
    answered_ = true;
  }

  bool BeginStream(int status, const Headers& headers) override {
    http::response<http::empty_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::server, "berth");
    for (const auto& [k, v] : headers) res.insert(k, v);
    res.chunked(true);
    res.keep_alive(keep_alive_);
    http::response_serializer<http::empty_body> sr{res};
    beast::error_code ec;
    http::write_header(stream_, sr, ec);
    answered_ = true;
    if (ec) failed_ = true;
    return !failed_;
  }

  bool WriteChunk(absl::string_view data) override {
    if (failed_) return false;
    if (data.empty()) return true;
    // The chunk's size line, data and CRLF in one buffer: Asio's TLS stream
    // writes one buffer of a sequence per record, so a buffer sequence would
    // cost three TLS records and three sends per event batch.
    chunk_.clear();
    absl::StrAppend(&chunk_, absl::Hex(data.size()), "\r\n", data, "\r\n");
    beast::error_code ec;
    asio::write(stream_, asio::buffer(chunk_), ec);
    if (ec) failed_ = true;
    return !failed_;
  }

  void EndStream() override {
    if (failed_) return;
    beast::error_code ec;
    asio::write(stream_, http::make_chunk_last(), ec);
    if (ec) failed_ = true;
  }

  bool ClientGone() override {
    if (failed_) return true;
    pollfd pfd{stream_.next_layer().native_handle(), POLLIN | POLLRDHUP, 0};
    return ::poll(&pfd, 1, 0) > 0;
  }

  bool answered() const { return answered_; }
  bool failed() const { return failed_; }

 private:
  TlsStream& stream_;
  bool keep_alive_;
  std::string chunk_;  // reused framing buffer
  bool answered_ = false;
  bool failed_ = false;
};

std::string Endpoint(const tcp::endpoint& ep) {
  return absl::StrCat(ep.address().to_string(), ":", ep.port());
}

}  // namespace

struct HttpsServer::Impl {
  HttpsServerOptions options;
  RequestHandler handler;
  asio::io_context ioc;
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  int port = 0;

  struct Connection {
    std::unique_ptr<TlsStream> stream;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  mutable std::mutex mu;
  std::list<Connection> connections;

  // Each connection's thread allocates from its own malloc arena; when many
  // have ended (watchers gone), the pages they freed go back to the system
  // instead of staying in the process's RSS.
  std::atomic<int> ended_since_trim{0};
  void ReleaseFreedMemory();

  void AcceptLoop();
  void Serve(TlsStream& stream, const std::string& remote);
  void ReapFinished();
};

void HttpsServer::Impl::ReleaseFreedMemory() {
  constexpr int kConnectionsPerTrim = 64;
  if (ended_since_trim.fetch_add(1) + 1 < kConnectionsPerTrim) return;
  ended_since_trim.store(0);
  malloc_trim(0);
}

void HttpsServer::Impl::ReapFinished() {
  std::lock_guard lock(mu);
  for (auto it = connections.begin(); it != connections.end();) {
    if (it->done.load()) {
      it->thread.join();
      it = connections.erase(it);
    } else {
      ++it;
    }
  }
}

void HttpsServer::Impl::AcceptLoop() {
  while (!stopping.load()) {
    beast::error_code ec;
    tcp::socket socket(ioc);
    acceptor.accept(socket, ec);
    if (stopping.load()) return;
    if (ec) {
      BERTH_LOG(Warning) << "apiserver: accept failed" << Kv("error", ec.message());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // EMFILE and similar
      continue;
    }
    ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
    socket.set_option(tcp::no_delay(true), ec);
    ReapFinished();
    std::lock_guard lock(mu);
    if (connections.size() >= options.max_connections) {
      socket.close(ec);
      continue;
    }
    std::string remote = Endpoint(socket.remote_endpoint(ec));
    auto& conn = connections.emplace_back();
    conn.stream = std::make_unique<TlsStream>(std::move(socket), tls);
    conn.thread = std::thread([this, &conn, remote] {
      Serve(*conn.stream, remote);
      {
        // The TLS state and buffers go now, not at the next accept (500
        // watchers that leave together would otherwise hold ~50 MiB).
        std::lock_guard lock(mu);
        conn.stream.reset();
      }
      ReapFinished();  // joins the connections that ended before this one
      ReleaseFreedMemory();
      conn.done.store(true);
    });
  }
}

void HttpsServer::Impl::Serve(TlsStream& stream, const std::string& remote) {
  beast::error_code ec;
  stream.handshake(ssl::stream_base::server, ec);
  if (ec) {
    BERTH_LOG(Debug) << "apiserver: TLS handshake failed" << Kv("remote", remote)
                     << Kv("error", ec.message());
    stream.next_layer().close(ec);
    return;
  }
  std::optional<UserInfo> cert_user;
  if (X509* cert = SSL_get_peer_certificate(stream.native_handle())) {
    if (SSL_get_verify_result(stream.native_handle()) == X509_V_OK) {
      auto user = UserFromCertificate(cert);
      if (user.ok()) cert_user = std::move(*user);
    }
    X509_free(cert);
  }
  beast::flat_buffer buffer;
  while (!stopping.load()) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    parser.header_limit(64 * 1024);
    http::read(stream, buffer, parser, ec);
    if (ec == http::error::body_limit) {
      Writer writer(stream, false);
      nlohmann::json status = {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
                               {"status", "Failure"},
                               {"message", absl::StrCat("the request body exceeds the limit of ",
                                                        options.max_body_bytes, " bytes")},
                               {"reason", "RequestEntityTooLarge"}, {"code", 413}};
      writer.Send(413, {{"Content-Type", "application/json"}}, status.dump());
      break;
    }
    if (ec) break;  // closed, or not HTTP
    auto& req = parser.get();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    size_t q = request.target.find('?');
    request.path = PercentDecode(absl::string_view(request.target).substr(0, q));
    if (q != std::string::npos) request.query = request.target.substr(q + 1);
    for (const auto& field : req.base()) {
      request.headers[absl::AsciiStrToLower(std::string(field.name_string()))] = std::string(field.value());
    }
    request.body = std::move(req.body());
    request.certificate_user = cert_user;
    request.remote = remote;
    bool keep_alive = req.keep_alive();
    Writer writer(stream, keep_alive);
    handler(request, writer);
    if (!writer.answered()) writer.Send(500, {{"Content-Type", "text/plain"}}, "no response\n");
    if (writer.failed() || !keep_alive) break;
  }
  stream.shutdown(ec);
  stream.next_layer().close(ec);
}

HttpsServer::HttpsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<HttpsServer>> HttpsServer::Start(const HttpsServerOptions& options,
                                                                RequestHandler handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  beast::error_code ec;
  impl->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                        ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(impl->tls.native_handle(), TLS1_2_VERSION);
  impl->tls.use_certificate_chain_file(options.cert_file, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-cert-file \"", options.cert_file, "\": ", ec.message()));
  }
  impl->tls.use_private_key_file(options.key_file, ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-private-key-file \"", options.key_file, "\": ", ec.message()));
  }
  if (SSL_CTX_check_private_key(impl->tls.native_handle()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--tls-private-key-file \"", options.key_file,
                                                   "\" does not match --tls-cert-file \"",
                                                   options.cert_file, "\""));
  }
  if (!options.client_ca_file.empty()) {
    impl->tls.load_verify_file(options.client_ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("--client-ca-file \"", options.client_ca_file, "\": ", ec.message()));
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(impl->tls.native_handle(), names);
    // Ask for a certificate; one that does not verify fails the handshake,
    // none at all is fine (tokens, anonymous health checks).
    impl->tls.set_verify_mode(ssl::verify_peer);
  }
  auto address = asio::ip::make_address(options.bind_address, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("--bind-address \"", options.bind_address, "\" is not an IP address"));
  }
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--secure-port ", options.port, " is not 0-65535"));
  }
  tcp::endpoint endpoint(address, static_cast<uint16_t>(options.port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("listen on ", options.bind_address, ":", options.port,
                                               ": ", ec.message()));
  }
  ::fcntl(impl->acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  impl->port = impl->acceptor.local_endpoint().port();
  Impl* raw = impl.get();
  impl->accept_thread = std::thread([raw] { raw->AcceptLoop(); });
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

HttpsServer::~HttpsServer() {
  impl_->stopping.store(true);
  beast::error_code ec;
  // Wake the blocked accept and every connection's blocked read or write.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  {
    std::lock_guard lock(impl_->mu);
    for (auto& conn : impl_->connections) {
      if (conn.stream) ::shutdown(conn.stream->next_layer().native_handle(), SHUT_RDWR);
    }
  }
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  impl_->acceptor.close(ec);
  // Joined without the lock: an ending connection takes it to drop its
  // stream and reap the others.
  std::list<Impl::Connection> remaining;
  {
    std::lock_guard lock(impl_->mu);
    remaining.splice(remaining.end(), impl_->connections);
  }
  for (auto& conn : remaining) conn.thread.join();
}

int HttpsServer::port() const { return impl_->port; }

size_t HttpsServer::connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections.size();
}

}  // namespace berth::apiserver
