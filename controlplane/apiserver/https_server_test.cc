// HttpsServer's event-driven connections: many streamed responses and idle
// keep-alive connections open at once hold no thread each, continued streams
// are written when woken, and the server stops with them open.
#include "controlplane/apiserver/https_server.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"

namespace berth::apiserver {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

int ProcessThreads() {
  auto status = ReadFile("/proc/self/status");
  if (!status.ok()) return -1;
  size_t at = status->find("Threads:");
  return at == std::string::npos ? -1 : std::atoi(status->c_str() + at + 8);
}

// A stream the test feeds: Pump writes what was queued, until finished.
class TestStream : public StreamContinuation {
 public:
  bool SetWake(std::function<void()> wake) override {
    std::lock_guard lock(mu_);
    wake_ = std::move(wake);
    return true;
  }
  bool Pump(ResponseWriter& writer) override {
    std::lock_guard lock(mu_);
    if (!queued_.empty()) writer.WriteChunk(queued_);
    queued_.clear();
    return !finished_;
  }
  // Queues `text` (and the end when `finish`) and wakes the server.
  void Send(const std::string& text, bool finish) {
    std::function<void()> wake;
    {
      std::lock_guard lock(mu_);
      queued_ += text;
      finished_ = finish;
      wake = wake_;
    }
    if (wake) wake();
  }

 private:
  std::mutex mu_;
  std::function<void()> wake_;
  std::string queued_;
  bool finished_ = false;
};

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/berth-https-server-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    std::string cmd = absl::StrCat(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost "
        "-keyout ",
        root_, "/server.key -out ", root_, "/server.crt 2>/dev/null");
    ASSERT_EQ(system(cmd.c_str()), 0);
    HttpsServerOptions options;
    options.port = 0;
    options.cert_file = root_ + "/server.crt";
    options.key_file = root_ + "/server.key";
    auto server = HttpsServer::Start(options, [this](const HttpRequest& request, ResponseWriter& writer) {
      if (request.path != "/stream") return writer.Send(200, {{"Content-Type", "text/plain"}}, "ok\n");
      ASSERT_TRUE(writer.BeginStream(200, {{"Content-Type", "text/plain"}}));
      auto stream = std::make_shared<TestStream>();
      {
        std::lock_guard lock(mu_);
        streams_.push_back(stream);
      }
      EXPECT_TRUE(writer.Continue(stream));
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void TearDown() override {
    server_.reset();
    (void)RemoveAll(root_);
  }

  // A TLS connection to the server that has sent `GET path`.
  std::unique_ptr<ssl::stream<tcp::socket>> Open(const std::string& path) {
    auto stream = std::make_unique<ssl::stream<tcp::socket>>(ioc_, tls_);
    stream->next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                               static_cast<uint16_t>(server_->port())));
    // A read that waits 10 s fails instead of hanging the test.
    timeval timeout{10, 0};
    setsockopt(stream->next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    stream->handshake(ssl::stream_base::client);
    std::string request = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: localhost\r\n\r\n");
    asio::write(*stream, asio::buffer(request));
    return stream;
  }

  // Reads until the text received holds `want` (or the connection ends).
  static std::string ReadUntil(ssl::stream<tcp::socket>& stream, const std::string& want) {
    std::string got;
    char buf[4096];
    while (!absl::StrContains(got, want)) {
      boost::system::error_code ec;
      size_t n = stream.read_some(asio::buffer(buf), ec);
      if (ec) break;
      got.append(buf, n);
    }
    return got;
  }

  std::vector<std::shared_ptr<TestStream>> Streams() {
    std::lock_guard lock(mu_);
    return streams_;
  }

  std::string root_;
  std::unique_ptr<HttpsServer> server_;
  asio::io_context ioc_;
  ssl::context tls_{ssl::context::tls_client};
  std::mutex mu_;
  std::vector<std::shared_ptr<TestStream>> streams_;
};

TEST_F(HttpsServerTest, ManyStreamsAndIdleConnectionsHoldNoThreadEach) {
  constexpr int kStreams = 200;
  constexpr int kIdle = 100;
  int threads_before = ProcessThreads();
  std::vector<std::unique_ptr<ssl::stream<tcp::socket>>> streams, idle;
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(Open("/stream"));
    // The header arrives before the handler hands the stream over.
    ASSERT_TRUE(absl::StrContains(ReadUntil(*streams.back(), "\r\n\r\n"), "200 OK"));
  }
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(Open("/"));
    ASSERT_TRUE(absl::StrContains(ReadUntil(*idle.back(), "ok\n"), "200 OK"));
  }
  ASSERT_EQ(Streams().size(), static_cast<size_t>(kStreams));
  EXPECT_EQ(server_->connections(), static_cast<size_t>(kStreams + kIdle));
  // The pool's threads, not one per connection.
  int threads_open = ProcessThreads();
  EXPECT_LE(threads_open - threads_before, 2 * HttpsServerOptions{}.threads)
      << "threads before " << threads_before << ", with " << kStreams + kIdle << " connections " << threads_open;

  // Each stream is written when woken, as one chunk.
  auto fed = Streams();
  for (int i = 0; i < kStreams; ++i) fed[i]->Send(absl::StrCat("event-", i, "\n"), false);
  for (int i = 0; i < kStreams; ++i) {
    std::string want = absl::StrCat("event-", i, "\n");
    EXPECT_TRUE(absl::StrContains(ReadUntil(*streams[i], want), absl::StrCat(absl::Hex(want.size()), "\r\n", want)))
        << i;
  }
  // An ended stream sends the last chunk and the connection serves the next request.
  fed[0]->Send("bye\n", true);
  EXPECT_TRUE(absl::StrContains(ReadUntil(*streams[0], "0\r\n\r\n"), "bye\n"));
  asio::write(*streams[0], asio::buffer(std::string("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")));
  EXPECT_TRUE(absl::StrContains(ReadUntil(*streams[0], "ok\n"), "200 OK"));
  // Idle keep-alive connections still answer.
  asio::write(*idle[0], asio::buffer(std::string("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")));
  EXPECT_TRUE(absl::StrContains(ReadUntil(*idle[0], "ok\n"), "200 OK"));
  // The server stops with streams and idle connections open (TearDown).
}

}  // namespace
}  // namespace berth::apiserver
