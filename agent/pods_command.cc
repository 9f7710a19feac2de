#include "agent/pods_command.h"

#include <cstdio>

#include "absl/time/clock.h"

#include "agent/server/http_server.h"
#include "agent/server/pods_table.h"

namespace berth::agent {

int RunPodsCommand(const KubeletConfig& config, bool json) {
  std::string host = config.healthzBindAddress == "0.0.0.0" ? "127.0.0.1" : config.healthzBindAddress;
  auto body = HttpGet(host, config.healthzPort, "/pods");
  if (!body.ok()) {
    std::fprintf(stderr, "berth-agent pods: %s (is berth-agent running?)\n", std::string(body.status().message()).c_str());
    return 1;
  }
  if (json) {
    std::printf("%s\n", body->c_str());
    return 0;
  }
  auto table = FormatPodsTable(*body, absl::Now());
  if (!table.ok()) {
    std::fprintf(stderr, "berth-agent pods: %s\n", std::string(table.status().message()).c_str());
    return 1;
  }
  std::fputs(table->c_str(), stdout);
  return 0;
}

}  // namespace berth::agent
