// berth-bench api: the Kubernetes API of berth-controlplane under load over
// HTTPS with an admin client certificate: creates/s from concurrent clients,
// create latency at a fixed rate (open loop), watch fan-out latency to many
// watchers, and the control plane's RSS with many pods stored. It starts the
// control plane itself (SQLite, and etcd on loopback) with a test PKI.
#include "hack/bench/api_bench.h"

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/fs.h"
#include "controlplane/store/testing/etcd_process.h"
#include "e2e/controlplane/controlplane_process.h"

namespace berth::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using nlohmann::json;

struct ApiOptions {
  std::string backend = "both";
  int writers = 8;
  int creates = 2000;
  int rate = 200;
  int rate_seconds = 10;
  int watchers = 500;
  int fanout_events = 100;
  int fanout_rate = 20;
  int rss_pods = 10000;
  // Passed to berth-controlplane as they are (--controlplane-flag --scheduler=false).
  std::vector<std::string> controlplane_flags;
};

// One keep-alive HTTPS connection with the admin client certificate.
class Client {
 public:
  Client(const std::string& pki, int port) : tls_(ssl::context::tls_client) {
    tls_.load_verify_file(pki + "/ca.crt");
    tls_.use_certificate_file(pki + "/admin.crt", ssl::context::pem);
    tls_.use_private_key_file(pki + "/admin.key", ssl::context::pem);
    tls_.set_verify_mode(ssl::verify_peer);
    stream_.emplace(ioc_, tls_);
    stream_->next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
    stream_->next_layer().set_option(tcp::no_delay(true));
    stream_->handshake(ssl::stream_base::client);
  }

  // Returns the status code; the body in *body.
  int Request(http::verb verb, const std::string& target, const std::string& body, std::string* out) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json");
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    http::write(*stream_, req);
    http::response<http::string_body> res;
    http::read(*stream_, buffer_, res);
    if (out) *out = std::move(res.body());
    return res.result_int();
  }

  // Starts a watch; then NextLine() returns each event line.
  void StartWatch(const std::string& target) {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::accept, "application/json");
    http::write(*stream_, req);
    parser_.emplace();
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
    http::read_header(*stream_, buffer_, *parser_);
    on_chunk_ = [this](uint64_t, beast::string_view body, beast::error_code& ec) -> size_t {
      pending_.append(body.data(), body.size());
      ec = {};
      return body.size();
    };
    parser_->on_chunk_body(on_chunk_);
  }
  bool NextLine(std::string* line) {
    while (true) {
      size_t nl = pending_.find('\n');
      if (nl != std::string::npos) {
        *line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        return true;
      }
      beast::error_code ec;
      http::read_some(*stream_, buffer_, *parser_, ec);
      if (ec && ec != http::error::need_buffer) return false;
      if (parser_->is_done()) return false;
    }
  }
  void Close() {
    beast::error_code ec;
    stream_->next_layer().shutdown(tcp::socket::shutdown_both, ec);
  }

 private:
  asio::io_context ioc_;
  ssl::context tls_;
  std::optional<ssl::stream<tcp::socket>> stream_;  // made after the context is configured
  std::function<size_t(uint64_t, beast::string_view, beast::error_code&)> on_chunk_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::empty_body>> parser_;
  std::string pending_;
};

std::string PodJson(const std::string& name, int64_t sent_nanos = 0) {
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"labels", {{"app", "bench"}, {"tier", "load"}}},
                            {"annotations", {{"bench/sent", std::to_string(sent_nanos)}}}}},
              {"spec", {{"containers", {{{"name", "app"}, {"image", "registry.example/app:1.0"},
                                         {"command", {"/bin/sh", "-c", "sleep infinity"}},
                                         {"ports", {{{"containerPort", 8080}, {"protocol", "TCP"}}}},
                                         {"env", {{{"name", "MODE"}, {"value", "bench"}}}},
                                         {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "64Mi"}}}}}}}}}}};
  return pod.dump();
}

// An ADDED watch event line's "bench/sent" annotation, found by text: the
// server writes compact JSON with "type" first or last and the annotation's
// value as a string of digits.
bool AddedEventSentNanos(absl::string_view line, int64_t* sent_nanos) {
  if (!absl::StartsWith(line, "{\"type\":\"ADDED\",") && !absl::EndsWith(line, ",\"type\":\"ADDED\"}")) {
    return false;
  }
  constexpr absl::string_view kSent = "\"bench/sent\":\"";
  size_t at = line.find(kSent);
  if (at == absl::string_view::npos) return false;
  absl::string_view rest = line.substr(at + kSent.size());
  return absl::SimpleAtoi(rest.substr(0, rest.find('"')), sent_nanos);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * v.size()));
  return v[i];
}

int64_t NowNanos() { return absl::GetCurrentTimeNanos(); }

long RssKib(pid_t pid) {
  auto status = ReadFile(absl::StrCat("/proc/", pid, "/status"));
  if (!status.ok()) return -1;
  size_t at = status->find("VmRSS:");
  if (at == std::string::npos) return -1;
  return std::atol(status->c_str() + at + 6);
}

json RunOne(const std::string& backend, const ApiOptions& o) {
  std::string tmpl = "/tmp/berth-api-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return {{"error", "mkdtemp"}};
  std::string root = tmpl;
  std::unique_ptr<store::testing::EtcdProcess> etcd;
  std::string store_url;
  pid_t store_pid = -1;
  if (backend == "etcd") {
    auto e = store::testing::EtcdProcess::Start(root + "/etcd");
    if (!e.ok()) return {{"backend", backend}, {"error", std::string(e.status().message())}};
    etcd = std::move(*e);
    store_url = "etcd://" + etcd->client_endpoint();
    store_pid = etcd->pid();
  }
  auto cp = e2e::ControlPlaneProcess::Start({root, store_url, o.controlplane_flags});
  if (!cp.ok()) return {{"backend", backend}, {"error", std::string(cp.status().message())}};
  const std::string pki = (*cp)->pki();
  const int port = (*cp)->port();
  json result = {{"backend", backend}};
  std::atomic<int> errors{0};
  const std::string pods = "/api/v1/namespaces/default/pods";

  // 1. Creates/s from concurrent writers.
  {
    std::atomic<int> next{0};
    std::vector<double> latencies_ms;
    std::mutex mu;
    absl::Time start = absl::Now();
    std::vector<std::thread> threads;
    for (int w = 0; w < o.writers; ++w) {
      threads.emplace_back([&] {
        Client c(pki, port);
        std::vector<double> local;
        for (int i = next++; i < o.creates; i = next++) {
          int64_t t0 = NowNanos();
          int code = c.Request(http::verb::post, pods, PodJson(absl::StrCat("load-", i)), nullptr);
          local.push_back((NowNanos() - t0) / 1e6);
          if (code != 201) ++errors;
        }
        std::lock_guard lock(mu);
        latencies_ms.insert(latencies_ms.end(), local.begin(), local.end());
      });
    }
    for (auto& t : threads) t.join();
    double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    result["load"] = {{"creates", o.creates}, {"writers", o.writers}, {"creates_per_s", o.creates / seconds},
                      {"p50_ms", Percentile(latencies_ms, 50)}, {"p99_ms", Percentile(latencies_ms, 99)}};
  }
  // Updates and lists on what was created.
  {
    Client c(pki, port);
    std::string body;
    absl::Time start = absl::Now();
    int updates = std::min(o.creates, 500);
    for (int i = 0; i < updates; ++i) {
      std::string name = absl::StrCat("load-", i);
      int code = c.Request(http::verb::get, pods + "/" + name, "", &body);
      if (code != 200) { ++errors; continue; }
      json obj = json::parse(body);
      obj["metadata"]["labels"]["updated"] = "yes";
      if (c.Request(http::verb::put, pods + "/" + name, obj.dump(), nullptr) != 200) ++errors;
    }
    double update_s = absl::ToDoubleSeconds(absl::Now() - start);
    start = absl::Now();
    int lists = 20;
    for (int i = 0; i < lists; ++i) {
      if (c.Request(http::verb::get, pods + "?labelSelector=updated%3Dyes", "", &body) != 200) ++errors;
    }
    double list_s = absl::ToDoubleSeconds(absl::Now() - start);
    result["update"] = {{"get_put_pairs_per_s", updates / update_s}};
    result["list"] = {{"items", o.creates}, {"ms_per_list", list_s * 1000 / lists}};
  }
  // 2. Open-loop creates at a fixed rate: latency from the scheduled time.
  {
    int total = o.rate * o.rate_seconds;
    std::vector<double> latencies_ms(total);
    int senders = 8;
    absl::Time start = absl::Now() + absl::Milliseconds(100);
    std::vector<std::thread> threads;
    for (int s = 0; s < senders; ++s) {
      threads.emplace_back([&, s] {
        Client c(pki, port);
        for (int i = s; i < total; i += senders) {
          absl::Time due = start + absl::Seconds(1) * i / o.rate;
          absl::SleepFor(due - absl::Now());
          int code = c.Request(http::verb::post, pods, PodJson(absl::StrCat("rate-", i)), nullptr);
          latencies_ms[i] = absl::ToDoubleMilliseconds(absl::Now() - due);
          if (code != 201) ++errors;
        }
      });
    }
    for (auto& t : threads) t.join();
    result["rate"] = {{"rate_per_s", o.rate}, {"creates", total}, {"p50_ms", Percentile(latencies_ms, 50)},
                      {"p99_ms", Percentile(latencies_ms, 99)}, {"max_ms", Percentile(latencies_ms, 100)}};
  }
  // 3. Watch fan-out: every watcher should see every event.
  {
    std::string ns_pods = "/api/v1/namespaces/kube-public/pods";
    std::vector<std::vector<double>> per_watcher(o.watchers);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < o.watchers; ++w) {
      threads.emplace_back([&, w] {
        try {
          Client c(pki, port);
          std::string body;
          c.Request(http::verb::get, ns_pods + "?limit=1", "", &body);
          std::string rv = json::parse(body)["metadata"].value("resourceVersion", "0");
          c.StartWatch(ns_pods + "?watch=1&resourceVersion=" + rv);
          ++ready;
          std::string line;
          while (static_cast<int>(per_watcher[w].size()) < o.fanout_events && c.NextLine(&line)) {
            int64_t now = NowNanos();
            // The watchers share the control plane's 2 cores: they read the
            // type and the send time from the line without building a JSON tree.
            int64_t sent_nanos = 0;
            if (!AddedEventSentNanos(line, &sent_nanos)) continue;
            per_watcher[w].push_back((now - sent_nanos) / 1e6);
          }
          c.Close();
        } catch (const std::exception&) {
          ++errors;
          ++ready;
        }
      });
    }
    absl::Time wait = absl::Now() + absl::Seconds(120);
    while (ready.load() < o.watchers && absl::Now() < wait) absl::SleepFor(absl::Milliseconds(50));
    absl::SleepFor(absl::Milliseconds(200));
    {
      Client c(pki, port);
      absl::Time start = absl::Now();
      for (int i = 0; i < o.fanout_events; ++i) {
        absl::SleepFor(start + absl::Seconds(1) * i / o.fanout_rate - absl::Now());
        if (c.Request(http::verb::post, ns_pods, PodJson(absl::StrCat("fan-", i), NowNanos()), nullptr) != 201) {
          ++errors;
        }
      }
    }
    for (auto& t : threads) t.join();
    std::vector<double> all;
    size_t complete = 0;
    for (auto& v : per_watcher) {
      all.insert(all.end(), v.begin(), v.end());
      if (static_cast<int>(v.size()) == o.fanout_events) ++complete;
    }
    result["fanout"] = {{"watchers", o.watchers}, {"events", o.fanout_events}, {"watchers_complete", complete},
                        {"p50_ms", Percentile(all, 50)}, {"p99_ms", Percentile(all, 99)},
                        {"max_ms", Percentile(all, 100)}};
  }
  // 4. RSS with many pods stored.
  {
    int have = o.creates + o.rate * o.rate_seconds;
    std::atomic<int> next{have};
    std::vector<std::thread> threads;
    for (int w = 0; w < o.writers; ++w) {
      threads.emplace_back([&] {
        Client c(pki, port);
        for (int i = next++; i < o.rss_pods; i = next++) {
          if (c.Request(http::verb::post, pods, PodJson(absl::StrCat("rss-", i)), nullptr) != 201) ++errors;
        }
      });
    }
    for (auto& t : threads) t.join();
    long rss = RssKib((*cp)->pid());
    Client c(pki, port);
    std::string body;
    absl::Time start = absl::Now();
    c.Request(http::verb::get, pods, "", &body);
    double list_ms = absl::ToDoubleMilliseconds(absl::Now() - start);
    long rss_after_list = RssKib((*cp)->pid());
    result["rss"] = {{"pods", std::max(o.rss_pods, have)}, {"controlplane_rss_mib", rss / 1024.0},
                     {"controlplane_rss_after_list_mib", rss_after_list / 1024.0}, {"full_list_ms", list_ms},
                     {"list_bytes", body.size()}};
    if (store_pid > 0) result["rss"]["etcd_rss_mib"] = RssKib(store_pid) / 1024.0;
  }
  result["errors"] = errors.load();
  cp->reset();
  etcd.reset();
  (void)RemoveAll(root);
  return result;
}

}  // namespace

int RunApiBench(int argc, char** argv) {
  ApiOptions o;
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::cerr << flag << " needs a value\n";
      return 2;
    }
    std::string value = argv[++i];
    int n = 0;
    bool numeric = absl::SimpleAtoi(value, &n) && n >= 0;
    if (flag == "--backend" && (value == "sqlite" || value == "etcd" || value == "both")) o.backend = value;
    else if (flag == "--writers" && numeric && n > 0) o.writers = n;
    else if (flag == "--creates" && numeric) o.creates = n;
    else if (flag == "--rate" && numeric && n > 0) o.rate = n;
    else if (flag == "--rate-seconds" && numeric) o.rate_seconds = n;
    else if (flag == "--watchers" && numeric) o.watchers = n;
    else if (flag == "--fanout-events" && numeric) o.fanout_events = n;
    else if (flag == "--fanout-rate" && numeric && n > 0) o.fanout_rate = n;
    else if (flag == "--rss-pods" && numeric) o.rss_pods = n;
    else if (flag == "--controlplane-flag" && absl::StartsWith(value, "--")) o.controlplane_flags.push_back(value);
    else {
      std::cerr << "berth-bench api: bad flag or value: " << flag << " " << value << "\n"
                << "usage: berth-bench api [--backend sqlite|etcd|both] [--writers 8] [--creates 2000]\n"
                   "         [--rate 200] [--rate-seconds 10] [--watchers 500] [--fanout-events 100]\n"
                   "         [--fanout-rate 20] [--rss-pods 10000] [--controlplane-flag --FLAG=VALUE]...\n";
      return 2;
    }
  }
  int failed = 0;
  for (const std::string backend : {"sqlite", "etcd"}) {
    if (o.backend != "both" && o.backend != backend) continue;
    json r = RunOne(backend, o);
    std::printf("%s\n", r.dump().c_str());
    std::fflush(stdout);
    if (r.contains("error") || r.value("errors", 0) != 0) failed = 1;
  }
  return failed;
}

}  // namespace berth::bench
