#include "controlplane/apiserver/https_server.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <openssl/ssl.h>

#include <atomic>
#include <algorithm>
#include <map>
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

// One chunk of a chunked body as one buffer (size line, data, CRLF): Asio's
// TLS stream writes one buffer of a sequence per record, so a buffer
// sequence would cost three TLS records and three sends per event batch.
void AppendChunk(std::string* out, absl::string_view data) {
  absl::StrAppend(out, absl::Hex(data.size()), "\r\n", data, "\r\n");
}

// The response of one request, written while its handler runs (on a pool
// thread that owns the connection for that long): blocking writes.
class SyncWriter : public ResponseWriter {
 public:
  SyncWriter(TlsStream& stream, bool keep_alive) : stream_(stream), keep_alive_(keep_alive) {}

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
    streaming_ = true;
    if (ec) failed_ = true;
    return !failed_;
  }

  bool WriteChunk(absl::string_view data) override {
    if (failed_) return false;
    if (data.empty()) return true;
    chunk_.clear();
    AppendChunk(&chunk_, data);
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

  bool Continue(std::shared_ptr<StreamContinuation> stream) override {
    if (failed_ || !streaming_ || continued_) return false;
    continued_ = std::move(stream);
    return true;
  }

  bool answered() const { return answered_; }
  bool failed() const { return failed_; }
  std::shared_ptr<StreamContinuation> TakeContinuation() { return std::move(continued_); }

 private:
  TlsStream& stream_;
  bool keep_alive_;
  std::string chunk_;  // reused framing buffer
  bool answered_ = false;
  bool streaming_ = false;
  bool failed_ = false;
  std::shared_ptr<StreamContinuation> continued_;
};

// A continued stream's writes during one Pump: framed into the connection's
// outgoing buffer, sent asynchronously after Pump returns.
class BufferedChunkWriter : public ResponseWriter {
 public:
  BufferedChunkWriter(std::string* out, int fd) : out_(out), fd_(fd) {}
  void Send(int, const Headers&, std::string) override {}
  bool BeginStream(int, const Headers&) override { return false; }
  bool WriteChunk(absl::string_view data) override {
    if (!data.empty()) AppendChunk(out_, data);
    return true;
  }
  void EndStream() override {}
  bool ClientGone() override {
    pollfd pfd{fd_, POLLIN | POLLRDHUP, 0};
    return ::poll(&pfd, 1, 0) > 0;
  }

 private:
  std::string* out_;
  int fd_;
};

std::string Endpoint(const tcp::endpoint& ep) {
  return absl::StrCat(ep.address().to_string(), ":", ep.port());
}

}  // namespace

// Schedules a connection's Pump from any thread; disarmed (under its lock)
// before the event loop goes away, so a late wake posts nothing.
struct Waker {
  std::mutex mu;
  std::function<void()> post;  // empty once disarmed
  void Wake() {
    std::lock_guard lock(mu);
    if (post) post();
  }
  void Disarm() {
    std::lock_guard lock(mu);
    post = nullptr;
  }
};

class Connection;

struct HttpsServer::Impl {
  // Declared before the io_context: a connection that the io_context's
  // destruction frees still counts itself out here.
  HttpsServerOptions options;
  RequestHandler handler;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> open{0};
  int port = 0;
  ssl::context tls{ssl::context::tls_server};
  // Every connection's waker, to disarm at shutdown.
  std::mutex mu;
  std::map<Connection*, std::shared_ptr<Waker>> wakers;

  // When many connections have ended (watchers gone), the pages they freed
  // go back to the system instead of staying in the process's RSS.
  std::atomic<int> ended_since_trim{0};
  void ReleaseFreedMemory();

  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_retry{ioc};
  std::vector<std::thread> threads;

  void Accept();
};

void HttpsServer::Impl::ReleaseFreedMemory() {
  constexpr int kConnectionsPerTrim = 64;
  if (ended_since_trim.fetch_add(1) + 1 < kConnectionsPerTrim) return;
  ended_since_trim.store(0);
  malloc_trim(0);
}

// One client connection. Every step runs on its strand: the handshake and
// request reads complete there, the handler runs there (blocking that strand
// only), and a continued stream is pumped and written there.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpsServer::Impl* server, tcp::socket socket, std::string remote)
      : server_(server), stream_(std::move(socket), server->tls), remote_(std::move(remote)),
        tick_(stream_.get_executor()), waker_(std::make_shared<Waker>()) {}

  ~Connection() {
    {
      std::lock_guard lock(server_->mu);
      server_->wakers.erase(this);
    }
    waker_->Disarm();
    server_->open.fetch_sub(1);
    server_->ReleaseFreedMemory();
  }

  void Start() {
    std::weak_ptr<Connection> weak = weak_from_this();
    auto executor = stream_.get_executor();
    waker_->post = [weak, executor] {
      asio::post(executor, [weak] {
        if (auto self = weak.lock()) self->Pump();
      });
    };
    {
      std::lock_guard lock(server_->mu);
      server_->wakers[this] = waker_;
    }
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) { self->OnHandshake(ec); });
  }

 private:
  void OnHandshake(beast::error_code ec) {
    if (ec) {
      BERTH_LOG(Debug) << "apiserver: TLS handshake failed" << Kv("remote", remote_) << Kv("error", ec.message());
      return Close();
    }
    if (X509* cert = SSL_get_peer_certificate(stream_.native_handle())) {
      if (SSL_get_verify_result(stream_.native_handle()) == X509_V_OK) {
        auto user = UserFromCertificate(cert);
        if (user.ok()) cert_user_ = std::move(*user);
      }
      X509_free(cert);
    }
    ReadRequest();
  }

  void ReadRequest() {
    if (server_->stopping.load()) return Close();
    parser_.emplace();
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(64 * 1024);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRequest(ec); });
  }

  void OnRequest(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      SyncWriter writer(stream_, false);
      nlohmann::json status = {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
                               {"status", "Failure"},
                               {"message", absl::StrCat("the request body exceeds the limit of ",
                                                        server_->options.max_body_bytes, " bytes")},
                               {"reason", "RequestEntityTooLarge"}, {"code", 413}};
      writer.Send(413, {{"Content-Type", "application/json"}}, status.dump());
      return Close();
    }
    if (ec) return Close();  // closed, or not HTTP
    auto& req = parser_->get();
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
    request.certificate_user = cert_user_;
    request.remote = remote_;
    keep_alive_ = req.keep_alive();
    parser_.reset();
    SyncWriter writer(stream_, keep_alive_);
    server_->handler(request, writer);
    if (writer.failed()) return Close();
    continuation_ = writer.TakeContinuation();
    if (continuation_) {
      if (continuation_->SetWake([waker = waker_] { waker->Wake(); })) {
        ArmTick();
        return Pump();
      }
      // Not event-driven after all: the stream ends here.
      continuation_.reset();
      writer.EndStream();
    }
    if (!writer.answered()) writer.Send(500, {{"Content-Type", "text/plain"}}, "no response\n");
    if (writer.failed() || !keep_alive_) return Close();
    ReadRequest();
  }

  // A continued stream: at least once a second (its timeouts, bookmarks and
  // a client that went away are noticed without events).
  void ArmTick() {
    tick_.expires_after(std::chrono::seconds(1));
    tick_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->continuation_) return;
      self->Pump();
      if (self->continuation_) self->ArmTick();
    });
  }

  void Pump() {
    if (!continuation_) return;
    if (writing_) {  // one write at a time; pumped again when it completes
      pump_again_ = true;
      return;
    }
    BufferedChunkWriter writer(&out_, stream_.next_layer().native_handle());
    if (!continuation_->Pump(writer)) {
      continuation_.reset();
      tick_.cancel();
      out_ += "0\r\n\r\n";  // the last chunk
      stream_over_ = true;
    }
    Write();
  }

  void Write() {
    if (writing_) return;
    if (out_.empty()) {
      if (stream_over_) {
        stream_over_ = false;
        if (keep_alive_) return ReadRequest();
        return Close();
      }
      return;
    }
    writing_ = true;
    sending_.swap(out_);
    out_.clear();
    asio::async_write(stream_, asio::buffer(sending_),
                      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWritten(ec); });
  }

  void OnWritten(beast::error_code ec) {
    writing_ = false;
    sending_.clear();
    if (ec) {  // the client is gone
      continuation_.reset();
      tick_.cancel();
      return Close();
    }
    if (pump_again_) {
      pump_again_ = false;
      return Pump();
    }
    Write();
  }

  // Without a TLS close_notify exchange (a client that stopped reading would
  // hold it); the socket closes and the connection goes with its last handler.
  void Close() {
    beast::error_code ec;
    stream_.next_layer().shutdown(tcp::socket::shutdown_both, ec);
    stream_.next_layer().close(ec);
  }

  HttpsServer::Impl* server_;
  TlsStream stream_;
  const std::string remote_;
  std::optional<UserInfo> cert_user_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = false;

  std::shared_ptr<StreamContinuation> continuation_;
  asio::steady_timer tick_;
  std::shared_ptr<Waker> waker_;
  std::string out_;      // framed chunks waiting for the write in flight
  std::string sending_;  // the write in flight
  bool writing_ = false;
  bool pump_again_ = false;
  bool stream_over_ = false;
};

void HttpsServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping.load()) return;
    if (ec) {
      BERTH_LOG(Warning) << "apiserver: accept failed" << Kv("error", ec.message());
      // EMFILE and similar: try again shortly.
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) Accept();
      });
      return;
    }
    Accept();
    ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
    socket.set_option(tcp::no_delay(true), ec);
    if (open.load() >= options.max_connections) {
      socket.close(ec);
      return;
    }
    open.fetch_add(1);
    std::string remote = Endpoint(socket.remote_endpoint(ec));
    std::make_shared<Connection>(this, std::move(socket), std::move(remote))->Start();
  });
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
  impl->Accept();
  Impl* raw = impl.get();
  int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) impl->threads.emplace_back([raw] { raw->ioc.run(); });
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

HttpsServer::~HttpsServer() {
  impl_->stopping.store(true);
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  // No handler runs now. Disarm every connection's waker and let its stream
  // go (a watch unsubscribes), so nothing posts to the io_context while it
  // frees the connections it still holds.
  std::vector<std::shared_ptr<Waker>> wakers;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [conn, waker] : impl_->wakers) wakers.push_back(waker);
  }
  for (auto& w : wakers) w->Disarm();
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

int HttpsServer::port() const { return impl_->port; }

size_t HttpsServer::connections() const { return impl_->open.load(); }

}  // namespace berth::apiserver
