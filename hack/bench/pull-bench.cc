// berth-pull-bench: pulls images through a CRI socket (berth-agent or
// containerd), all at once or C at a time, and prints how long each pull and
// the whole run took, as one JSON line. Driven by hack/bench/pull-bench.sh.
//
//   berth-pull-bench --endpoint unix:///PATH [--concurrency C] [--timeout-s 600] [--rm] REF...
//
// --rm removes the images (RemoveImage) instead, so a next round pulls again.
// Exit status 1 if any call failed (its error is printed to stderr).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "e2e/cri_client.h"
#include "nlohmann/json.hpp"

namespace {

int Usage() {
  std::fputs("usage: berth-pull-bench --endpoint unix:///PATH [--concurrency C] [--timeout-s S] [--rm] REF...\n",
             stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint;
  int concurrency = 0, timeout_s = 600;
  bool remove = false;
  std::vector<std::string> refs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "--endpoint" || arg == "--concurrency" || arg == "--timeout-s") && i + 1 < argc) {
      std::string value = argv[++i];
      if (arg == "--endpoint") {
        endpoint = value;
      } else if (!absl::SimpleAtoi(value, arg == "--concurrency" ? &concurrency : &timeout_s)) {
        return Usage();
      }
    } else if (arg == "--rm") {
      remove = true;
    } else if (arg.rfind("--", 0) == 0) {
      return Usage();
    } else {
      refs.push_back(arg);
    }
  }
  if (endpoint.empty() || refs.empty()) return Usage();
  if (concurrency <= 0) concurrency = static_cast<int>(refs.size());

  berth::e2e::CriClient client(endpoint);
  absl::Status ready = client.WaitForReady(absl::Seconds(30));
  if (!ready.ok()) {
    std::fprintf(stderr, "berth-pull-bench: %s\n", std::string(ready.message()).c_str());
    return 1;
  }
  std::vector<double> seconds(refs.size(), 0);
  std::vector<std::string> errors(refs.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < refs.size(); i = next++) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s));
      auto start = std::chrono::steady_clock::now();
      grpc::Status status;
      if (remove) {
        runtime::v1::RemoveImageRequest req;
        req.mutable_image()->set_image(refs[i]);
        runtime::v1::RemoveImageResponse resp;
        status = client.images().RemoveImage(&ctx, req, &resp);
      } else {
        runtime::v1::PullImageRequest req;
        req.mutable_image()->set_image(refs[i]);
        runtime::v1::PullImageResponse resp;
        status = client.images().PullImage(&ctx, req, &resp);
      }
      seconds[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!status.ok()) errors[i] = status.error_message();
    }
  };
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency && t < static_cast<int>(refs.size()); ++t) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  nlohmann::json out = {{"images", refs.size()}, {"concurrency", concurrency}, {"total_s", total}};
  bool failed = false;
  for (size_t i = 0; i < refs.size(); ++i) {
    out["pulls"].push_back({{"ref", refs[i]}, {"seconds", seconds[i]}});
    if (!errors[i].empty()) {
      failed = true;
      std::fprintf(stderr, "berth-pull-bench: %s %s: %s\n", remove ? "rm" : "pull", refs[i].c_str(),
                   errors[i].c_str());
    }
  }
  std::printf("%s\n", out.dump().c_str());
  return failed ? 1 : 0;
}
