// berth-agent: for now the CRI runtime server and its offline image tools.
// The kubelet's job (pod sources, workers, probes, ...) comes with its issue.
#include <signal.h>

#include <cstdio>

#include "absl/strings/str_join.h"
#include "agent/agent_flags.h"
#include "common/logging.h"
#include "grpcpp/grpcpp.h"
#include "runtime-shim/cri/cri_service.h"
#include "runtime-shim/image/image_store.h"

namespace berth {
namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "berth-agent: %s\n", std::string(status.message()).c_str());
  return 1;
}

int Images(const AgentFlags& flags) {
  const auto& args = flags.positional;
  auto store = image::ImageStore::Open(flags.runtime.state_dir + "/images");
  if (!store.ok()) return Fail(store.status());
  if (args.size() == 3 && args[1] == "import") {
    auto imported = (*store)->Import(args[2]);
    if (!imported.ok()) return Fail(imported.status());
    for (const auto& image : *imported) {
      std::printf("imported %s %s\n", image.id.c_str(), absl::StrJoin(image.repo_tags, ",").c_str());
    }
    return 0;
  }
  if (args.size() == 2 && args[1] == "list") {
    std::printf("%-72s %s\n", "IMAGE ID", "TAGS");
    for (const auto& image : (*store)->List()) {
      std::printf("%-72s %s\n", image.id.c_str(), absl::StrJoin(image.repo_tags, ",").c_str());
    }
    return 0;
  }
  std::fputs(kAgentUsage, stderr);
  return 2;
}

int Serve(const AgentFlags& flags) {
  // Block the stop signals before any thread starts, then wait for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto runtime = Runtime::Open(flags.runtime);
  if (!runtime.ok()) return Fail(runtime.status());
  auto server = ServeCri(runtime->get(), flags.listen);
  if (!server.ok()) return Fail(server.status());
  BERTH_LOG(Info) << "serving CRI" << Kv("endpoint", flags.listen) << Kv("state_dir", flags.runtime.state_dir)
                  << Kv("shim", flags.runtime.shim_path);
  int sig = 0;
  sigwait(&stop, &sig);
  BERTH_LOG(Info) << "stopping; containers keep running" << Kv("signal", sig);
  (*server)->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}

}  // namespace
}  // namespace berth

int main(int argc, char** argv) {
  auto flags = berth::ParseAgentFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s\n", std::string(flags.status().message()).c_str());
    return 2;
  }
  if (flags->log_level == "debug") berth::SetLogLevel(berth::LogLevel::kDebug);
  if (flags->log_level == "warning") berth::SetLogLevel(berth::LogLevel::kWarning);
  if (flags->log_level == "error") berth::SetLogLevel(berth::LogLevel::kError);
  if (!flags->positional.empty() && flags->positional[0] == "images") return berth::Images(*flags);
  if (!flags->positional.empty()) {
    std::fputs(berth::kAgentUsage, stderr);
    return 2;
  }
  return berth::Serve(*flags);
}
