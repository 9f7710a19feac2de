// httpGet probes against a real HTTP(S) server on loopback.
#include "agent/prober/http_prober.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/prober/prober.h"
#include "agent/prober/testing/http_test_server.h"

namespace berth::agent::prober {
namespace {

using ::testing::HasSubstr;
using testing::TestHttpServer;
using testing::RecordedRequest;
using testing::TestResponse;

HttpGetRequest Get(int port, const std::string& path, const std::string& scheme = "http") {
  HttpGetRequest req;
  req.url = MakeProbeUrl(scheme, "127.0.0.1", port, path);
  req.headers = ProbeHeaders({}, kProbeUserAgent);
  return req;
}

TEST(HttpProberTest, SuccessKeepsBodyAsOutput) {
  TestHttpServer server([](const auto&) { return TestResponse{200, {}, "ok from server"}; });
  ProbeOutcome out = HttpProbe(Get(server.port(), "/healthz"), absl::Seconds(5));
  EXPECT_EQ(out.result, ProbeResult::kSuccess) << out.output;
  EXPECT_EQ(out.output, "ok from server");
  ASSERT_EQ(server.requests().size(), 1u);
  auto req = server.requests()[0];
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/healthz");
  EXPECT_EQ(req.headers["user-agent"], "kube-probe/1.32");
  EXPECT_EQ(req.headers["accept"], "*/*");
  EXPECT_EQ(req.headers["host"], absl::StrCat("127.0.0.1:", server.port()));
  EXPECT_EQ(req.headers["connection"], "close");
}

TEST(HttpProberTest, ServerErrorIsFailure) {
  TestHttpServer server([](const auto&) { return TestResponse{500, {}, "boom"}; });
  ProbeOutcome out = HttpProbe(Get(server.port(), "/"), absl::Seconds(5));
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_EQ(out.output, "HTTP probe failed with statuscode: 500");
}

TEST(HttpProberTest, ClientErrorIsFailureAnd399IsNot) {
  TestHttpServer server([](const RecordedRequest& r) {
    return r.target == "/399" ? TestResponse{399, {}, ""} : TestResponse{404, {}, ""};
  });
  EXPECT_EQ(HttpProbe(Get(server.port(), "/404"), absl::Seconds(5)).result, ProbeResult::kFailure);
  // 3xx that is not a redirect status: success with a warning.
  EXPECT_EQ(HttpProbe(Get(server.port(), "/399"), absl::Seconds(5)).result, ProbeResult::kWarning);
}

TEST(HttpProberTest, TimeoutIsFailureWithinTheTimeout) {
  TestHttpServer server([](const auto&) {
    TestResponse r;
    r.hang = true;
    return r;
  });
  absl::Time start = absl::Now();
  ProbeOutcome out = HttpProbe(Get(server.port(), "/slow"), absl::Milliseconds(300));
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_THAT(out.output, HasSubstr("timeout"));
  EXPECT_GE(took, absl::Milliseconds(290));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST(HttpProberTest, ConnectionRefusedIsFailure) {
  int port;
  {
    TestHttpServer gone([](const auto&) { return TestResponse{}; });
    port = gone.port();
  }
  ProbeOutcome out = HttpProbe(Get(port, "/"), absl::Seconds(2));
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_THAT(absl::AsciiStrToLower(out.output), HasSubstr("refused"));
  EXPECT_THAT(out.output, HasSubstr(absl::StrCat("127.0.0.1:", port)));
}

TEST(HttpProberTest, FollowsSameHostRedirects) {
  TestHttpServer server([](const RecordedRequest& r) {
    if (r.target == "/start") return TestResponse{302, {{"Location", "/next?step=2"}}, ""};
    if (r.target == "/next?step=2") return TestResponse{301, {{"Location", "final"}}, ""};
    if (r.target == "/final") return TestResponse{200, {}, "arrived"};
    return TestResponse{404, {}, ""};
  });
  ProbeOutcome out = HttpProbe(Get(server.port(), "/start"), absl::Seconds(5));
  EXPECT_EQ(out.result, ProbeResult::kSuccess) << out.output;
  EXPECT_EQ(out.output, "arrived");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(HttpProberTest, RedirectToAnotherHostIsNotFollowedButWarns) {
  TestHttpServer server([](const RecordedRequest&) {
    return TestResponse{302, {{"Location", "http://localhost:1/elsewhere"}}, "moved"};
  });
  ProbeOutcome out = HttpProbe(Get(server.port(), "/"), absl::Seconds(5));
  EXPECT_EQ(out.result, ProbeResult::kWarning);
  EXPECT_THAT(out.output, HasSubstr("Probe terminated redirects"));
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpProberTest, RedirectLoopStopsAfterTen) {
  TestHttpServer server([](const RecordedRequest&) { return TestResponse{302, {{"Location", "/loop"}}, ""}; });
  ProbeOutcome out = HttpProbe(Get(server.port(), "/loop"), absl::Seconds(5));
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_THAT(out.output, HasSubstr("stopped after 10 redirects"));
  EXPECT_EQ(server.requests().size(), 11u);
}

TEST(HttpProberTest, UserHeadersHostAndAcceptOverride) {
  TestHttpServer server([](const auto&) { return TestResponse{200, {}, ""}; });
  HttpGetRequest req;
  req.url = MakeProbeUrl("http", "127.0.0.1", server.port(), "/h?x=1");
  req.headers = ProbeHeaders({{"X-Custom", "a"}, {"X-Custom", "b"}, {"Host", "svc.example"}, {"Accept", "text/plain"}},
                             kProbeUserAgent);
  EXPECT_EQ(HttpProbe(req, absl::Seconds(5)).result, ProbeResult::kSuccess);
  ASSERT_EQ(server.requests().size(), 1u);
  auto r = server.requests()[0];
  EXPECT_EQ(r.target, "/h?x=1");
  EXPECT_EQ(r.headers["x-custom"], "a, b");
  EXPECT_EQ(r.headers["host"], "svc.example");
  EXPECT_EQ(r.headers["accept"], "text/plain");
  EXPECT_EQ(r.headers["user-agent"], "kube-probe/1.32");

  // An empty Accept removes the header; a user User-Agent replaces the kubelet's.
  auto h = ProbeHeaders({{"Accept", ""}, {"User-Agent", "mine"}}, kProbeUserAgent);
  EXPECT_EQ(h, (std::vector<std::pair<std::string, std::string>>{{"User-Agent", "mine"}}));
}

TEST(HttpProberTest, BodyIsCutAtTenKiB) {
  TestHttpServer server([](const auto&) { return TestResponse{200, {}, std::string(50000, 'x')}; });
  auto resp = HttpGet(Get(server.port(), "/big"), absl::Seconds(5));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body.size(), kMaxProbeOutputBytes);
  EXPECT_TRUE(resp->truncated);
}

TEST(HttpProberTest, HttpsWithoutCertificateVerification) {
  TestHttpServer server([](const auto&) { return TestResponse{200, {}, "secure"}; }, /*tls=*/true);
  ProbeOutcome out = HttpProbe(Get(server.port(), "/", "https"), absl::Seconds(5));
  EXPECT_EQ(out.result, ProbeResult::kSuccess) << out.output;
  EXPECT_EQ(out.output, "secure");
}

TEST(HttpProberTest, ProberResolvesNamedPortsAndDefaultsHostToPodIp) {
  TestHttpServer server([](const auto&) { return TestResponse{200, {}, ""}; });
  k8s::Container c;
  c.name = "web";
  c.ports.push_back(k8s::ContainerPort{"http-port", 0, server.port(), "TCP", ""});
  k8s::Probe probe;
  probe.httpGet = k8s::HTTPGetAction{"/ready", k8s::IntOrString::Str("http-port"), "", "HTTP", {}};
  Prober prober(nullptr);
  ProbeTarget target{&c, "cid", "127.0.0.1"};
  EXPECT_EQ(prober.Run(probe, target, absl::Seconds(5)).result, ProbeResult::kSuccess);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].target, "/ready");

  // A number written as a string works; an unknown name cannot run.
  probe.httpGet->port = k8s::IntOrString::Str(std::to_string(server.port()));
  EXPECT_EQ(prober.Run(probe, target, absl::Seconds(5)).result, ProbeResult::kSuccess);
  probe.httpGet->port = k8s::IntOrString::Str("nope");
  ProbeOutcome out = prober.Run(probe, target, absl::Seconds(5));
  EXPECT_EQ(out.result, ProbeResult::kUnknown);
  EXPECT_THAT(out.output, HasSubstr("\"nope\" not found"));
  EXPECT_FALSE(ResolveContainerPort(k8s::IntOrString::Int(70000), c).ok());
}

}  // namespace
}  // namespace berth::agent::prober
