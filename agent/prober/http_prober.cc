#include "agent/prober/http_prober.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace berth::agent::prober {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr int kMaxRedirects = 10;

// One request/response on one connection.
struct Exchange {
  int status = 0;
  std::string location;
  std::string body;
  bool truncated = false;
  std::string error;  // set when the exchange failed
  bool timed_out = false;
};

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

ssl::context& ClientTlsContext() {
  // As the kubelet's probe transport: any certificate is accepted.
  static ssl::context* ctx = [] {
    auto* c = new ssl::context(ssl::context::tls_client);
    c->set_verify_mode(ssl::verify_none);
    return c;
  }();
  return *ctx;
}

absl::StatusOr<std::vector<tcp::endpoint>> Resolve(const ProbeUrl& url) {
  beast::error_code ec;
  asio::ip::address addr = asio::ip::make_address(url.host, ec);
  if (!ec) return std::vector<tcp::endpoint>{tcp::endpoint(addr, static_cast<uint16_t>(url.port))};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(url.host.c_str(), std::to_string(url.port).c_str(), &hints, &res);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("lookup ", url.host, ": ", gai_strerror(rc)));
  }
  std::vector<tcp::endpoint> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    tcp::endpoint ep;
    std::memcpy(ep.data(), ai->ai_addr, ai->ai_addrlen);
    ep.resize(ai->ai_addrlen);
    out.push_back(ep);
  }
  freeaddrinfo(res);
  if (out.empty()) return absl::UnavailableError(absl::StrCat("lookup ", url.host, ": no addresses"));
  return out;
}

void SetError(Exchange* out, absl::string_view stage, const beast::error_code& ec) {
  if (ec == beast::error::timeout) {
    out->timed_out = true;
    out->error = absl::StrCat("timeout while ", stage);
  } else {
    std::string msg = ec.message();  // Go's lower-case spelling: "connection refused"
    if (!msg.empty()) msg[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(msg[0])));
    out->error = absl::StrCat(stage, ": ", msg);
  }
}

template <class Stream>
asio::awaitable<void> WriteAndRead(Stream& stream, const http::request<http::empty_body>& req, Exchange* out) {
  beast::error_code ec;
  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    SetError(out, "writing the request", ec);
    co_return;
  }
  beast::flat_buffer buffer;
  // Skip informational responses (100 Continue and friends).
  std::optional<http::response_parser<http::buffer_body>> holder;
  for (;;) {
    holder.emplace();
    holder->eager(true);
    co_await http::async_read_header(stream, buffer, *holder, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      SetError(out, "awaiting headers", ec);
      co_return;
    }
    if (holder->get().result_int() >= 200) break;
  }
  auto& parser = *holder;
  out->status = static_cast<int>(parser.get().result_int());
  out->location = std::string(parser.get()[http::field::location]);
  out->body.resize(kMaxProbeOutputBytes);
  size_t got = 0;
  while (!parser.is_done() && got < kMaxProbeOutputBytes) {
    parser.get().body().data = out->body.data() + got;
    parser.get().body().size = kMaxProbeOutputBytes - got;
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    got = kMaxProbeOutputBytes - parser.get().body().size;
    if (ec == http::error::need_buffer) continue;
    if (ec) {
      SetError(out, "reading the body", ec);
      co_return;
    }
  }
  out->body.resize(got);
  out->truncated = !parser.is_done();
}

asio::awaitable<void> RunExchange(const ProbeUrl& url, const std::vector<tcp::endpoint>& endpoints,
                                  const http::request<http::empty_body>& req, SteadyTime deadline,
                                  Exchange* out) {
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream tcp_stream(executor);
  tcp_stream.expires_at(deadline);
  beast::error_code ec;
  co_await tcp_stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    SetError(out, absl::StrCat("dial tcp ", url.HostPort()), ec);
    co_return;
  }
  if (url.scheme != "https") {
    co_await WriteAndRead(tcp_stream, req, out);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp_stream), ClientTlsContext());
  beast::error_code ip_ec;
  asio::ip::make_address(url.host, ip_ec);
  if (ip_ec) SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str());  // SNI for names only
  co_await tls.async_handshake(ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    SetError(out, "TLS handshake", ec);
    co_return;
  }
  co_await WriteAndRead(tls, req, out);
}

Exchange DoExchange(const ProbeUrl& url, const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::string& host_header, SteadyTime deadline) {
  Exchange out;
  auto endpoints = Resolve(url);
  if (!endpoints.ok()) {
    out.error = std::string(endpoints.status().message());
    return out;
  }
  if (std::chrono::steady_clock::now() >= deadline) {
    out.timed_out = true;
    out.error = "timeout before connecting";
    return out;
  }
  http::request<http::empty_body> req{http::verb::get, url.target, 11};
  req.set(http::field::host, host_header.empty() ? url.HostPort() : host_header);
  for (const auto& [name, value] : headers) {
    if (absl::EqualsIgnoreCase(name, "Host")) continue;
    req.insert(name, value);
  }
  req.set(http::field::connection, "close");
  asio::io_context io;
  asio::co_spawn(io, RunExchange(url, *endpoints, req, deadline, &out), [&out](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      out.error = ex.what();
    }
  });
  io.run();
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ProbeHeaders(
    const std::vector<std::pair<std::string, std::string>>& user, absl::string_view user_agent) {
  std::vector<std::pair<std::string, std::string>> out;
  bool has_ua = false, has_accept = false, accept_empty = true;
  for (const auto& [name, value] : user) {
    if (absl::EqualsIgnoreCase(name, "User-Agent")) has_ua = true;
    if (absl::EqualsIgnoreCase(name, "Accept")) {
      has_accept = true;
      if (!value.empty()) accept_empty = false;
    }
  }
  for (const auto& h : user) {
    if (absl::EqualsIgnoreCase(h.first, "Accept") && h.second.empty() && accept_empty) continue;
    out.push_back(h);
  }
  if (!has_ua) out.emplace_back("User-Agent", std::string(user_agent));
  if (!has_accept) out.emplace_back("Accept", "*/*");
  return out;
}

absl::StatusOr<HttpGetResponse> HttpGet(const HttpGetRequest& request, absl::Duration timeout) {
  SteadyTime deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  std::string host_header;
  for (const auto& [name, value] : request.headers) {
    if (absl::EqualsIgnoreCase(name, "Host")) host_header = value;
  }
  auto headers = request.headers;
  ProbeUrl url = request.url;
  for (int redirects = 0;; ++redirects) {
    Exchange ex = DoExchange(url, headers, host_header, deadline);
    if (!ex.error.empty()) {
      std::string msg = absl::StrCat("Get \"", url.String(), "\": ", ex.error);
      if (ex.timed_out) {
        return absl::DeadlineExceededError(absl::StrCat(msg, " (timeout ", absl::FormatDuration(timeout), ")"));
      }
      return absl::UnavailableError(msg);
    }
    HttpGetResponse resp{ex.status, std::move(ex.body), ex.truncated, url};
    if (!IsRedirect(ex.status) || ex.location.empty()) return resp;
    auto next = ResolveLocation(url, ex.location);
    if (!next.ok()) {
      return absl::UnavailableError(absl::StrCat("Get \"", url.String(), "\": failed to parse Location header \"",
                                                 ex.location, "\": ", next.status().message()));
    }
    if (!request.follow_other_hosts && next->host != request.url.host) return resp;
    if (redirects + 1 > kMaxRedirects) {
      return absl::UnavailableError(absl::StrCat("Get \"", next->String(), "\": stopped after ", kMaxRedirects,
                                                 " redirects"));
    }
    // A custom Host survives only a relative redirect, as Go's client does.
    bool relative = ex.location.find("://") == std::string::npos && ex.location.substr(0, 2) != "//";
    if (!relative) host_header.clear();
    if (next->host != url.host) {
      // Credentials stay with the host they were meant for.
      std::erase_if(headers, [](const auto& h) {
        return absl::EqualsIgnoreCase(h.first, "Authorization") || absl::EqualsIgnoreCase(h.first, "Cookie") ||
               absl::EqualsIgnoreCase(h.first, "WWW-Authenticate");
      });
    }
    url = *std::move(next);
  }
}

ProbeOutcome HttpProbe(const HttpGetRequest& request, absl::Duration timeout) {
  auto resp = HttpGet(request, timeout);
  if (!resp.ok()) return {ProbeResult::kFailure, std::string(resp.status().message())};
  if (resp->status >= 200 && resp->status < 400) {
    if (resp->status >= 300) {
      return {ProbeResult::kWarning, absl::StrCat("Probe terminated redirects, Response body: ", resp->body)};
    }
    return {ProbeResult::kSuccess, std::move(resp->body)};
  }
  return {ProbeResult::kFailure, absl::StrCat("HTTP probe failed with statuscode: ", resp->status)};
}

}  // namespace berth::agent::prober
