#include "hack/berth-cri/commands.h"

#include <cstdio>
#include <map>
#include <string>

namespace berth::cri_cli {

int RunInvocation(const Invocation& inv) {
  using Handler = absl::StatusOr<int> (*)(const Invocation&, CriClient&);
  static const std::map<std::string, Handler> kHandlers = {
      {"version", VersionCommand}, {"info", InfoCommand},
      {"images", ImagesCommand},   {"pods", PodsCommand},
      {"ps", PsCommand},           {"inspect", InspectCommand},
      {"inspectp", InspectPodCommand}, {"stats", StatsCommand},
      {"runp", RunPodCommand},     {"create", CreateCommand},
      {"start", StartCommand},     {"run", RunCommand},
      {"stop", StopCommand},       {"rm", RemoveCommand},
      {"stopp", StopPodCommand},   {"rmp", RemovePodCommand},
      {"exec", ExecCommand},       {"logs", LogsCommand},
  };
  if (inv.command == "help") {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  auto it = kHandlers.find(inv.command);
  if (it == kHandlers.end()) {
    std::fprintf(stderr, "berth-cri: command \"%s\" has no handler\n", inv.command.c_str());
    return 2;
  }
  CriClient client(inv.endpoint);
  client.set_call_timeout(inv.timeout);
  absl::StatusOr<int> code = it->second(inv, client);
  std::fflush(stdout);
  if (!code.ok()) {
    std::fprintf(stderr, "berth-cri %s: %s\n", inv.command.c_str(),
                 std::string(code.status().message()).c_str());
    return 1;
  }
  return *code;
}

}  // namespace berth::cri_cli
