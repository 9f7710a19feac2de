#include "agent/server/http_server.h"

#include "gtest/gtest.h"

namespace berth::agent {
namespace {

TEST(HttpServerTest, ServesAndStops) {
  auto server = HttpServer::Start("127.0.0.1", 0, [](const std::string& method, const std::string& target) {
    if (target == "/healthz") return HttpResponse{200, "text/plain", "ok"};
    return HttpResponse{404, "text/plain", "not found: " + target};
  });
  ASSERT_TRUE(server.ok()) << server.status();
  int port = (*server)->port();
  ASSERT_GT(port, 0);
  auto body = HttpGet("127.0.0.1", port, "/healthz");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "ok");
  auto missing = HttpGet("127.0.0.1", port, "/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("HTTP 404"), std::string::npos);
  (*server)->Stop();
  EXPECT_FALSE(HttpGet("127.0.0.1", port, "/healthz").ok());
}

TEST(HttpServerTest, BadAddressIsAnError) {
  auto server = HttpServer::Start("not-an-ip", 0, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("not-an-ip"), std::string::npos);
}

}  // namespace
}  // namespace berth::agent
